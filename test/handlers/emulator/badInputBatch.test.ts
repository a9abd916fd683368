/**
 * One batch per channel, through the serialized sender, mixing valid requests with more than 30 kinds of
 * bad input: every valid one is delivered, every bad one leaves its trace (a FAILED row with its reason
 * when it has a usable notificationId: per recipient, or one request-level row; else a RejectedRequests
 * line carrying the SQS message id), nothing is retried, and nothing throws the batch (so no DLQ).
 */
import { expect } from "chai";
import type { Channel } from "../../../handlers/lib/telemetry-names";
import { createWorld, type World } from "./world";

const CHANNELS: Channel[] = ["push", "email", "sms", "inapp"];
const USER = "bm-ada";

interface Case {
    kind: string;
    /** The body as the queue holds it (a string: invalid JSON included). */
    body: string;
    /** The notificationId rows are keyed by; absent: no usable id (traced by message id only). */
    id?: string;
    reason: RegExp;
}

const ok = (id: string, extra: Record<string, unknown> = {}) => ({
    notificationId: id,
    userId: USER,
    subject: "Hi",
    title: "Hi",
    body: "hello",
    ...extra,
});

/** Bad inputs for `channel`: the generic ones, plus those about this channel's addresses. */
function cases(channel: Channel): Case[] {
    const c = (kind: string, request: unknown, reason: RegExp, id?: string): Case => ({
        kind,
        body: typeof request === "string" ? request : JSON.stringify(request),
        id,
        reason,
    });
    const n = (suffix: string) => `bm-${channel}-${suffix}`;
    const generic: Case[] = [
        c("invalid JSON", "{", /not valid JSON/),
        c("JSON array", "[]", /not a JSON object/),
        c("JSON string", '"hello"', /not a JSON object/),
        c("JSON null", "null", /not a JSON object/),
        c("no notificationId", { userId: USER, body: "b" }, /notificationId is required/),
        c("numeric notificationId", { notificationId: 42, userId: USER, body: "b" }, /notificationId must be a string/),
        c(
            "notificationId too long",
            { notificationId: "n".repeat(129), userId: USER, body: "b" },
            /notificationId must match/,
        ),
        c(
            "notificationId with spaces",
            { notificationId: "a b", userId: USER, body: "b" },
            /notificationId must match/,
        ),
        c(
            "numeric userId",
            { notificationId: n("uid42"), userId: 42, body: "b" },
            /userId must be a string/,
            n("uid42"),
        ),
        c(
            "userId and recipients",
            { notificationId: n("both"), userId: USER, recipients: [{ userId: USER }], body: "b" },
            /exactly one of userId and recipients/,
            n("both"),
        ),
        c(
            "empty recipients",
            { notificationId: n("empty"), recipients: [], body: "b" },
            /must not be empty/,
            n("empty"),
        ),
        c(
            "string recipients",
            { notificationId: n("strrec"), recipients: "x@example.com", body: "b" },
            /must be an array/,
            n("strrec"),
        ),
        c(
            "101 recipients",
            {
                notificationId: n("101"),
                recipients: Array.from({ length: 101 }, (_, i) => ({ userId: `bm-nobody-${i}` })),
                body: "b",
            },
            /at most 100 entries/,
            n("101"),
        ),
        c(
            "recipient not an object",
            { notificationId: n("recnum"), recipients: [5], body: "b" },
            /recipients\[0\] must be an object/,
            n("recnum"),
        ),
        c(
            "empty recipient",
            { notificationId: n("recempty"), recipients: [{}], body: "b" },
            /needs a userId, an email or a phone/,
            n("recempty"),
        ),
        c(
            "numeric e-mail field",
            { notificationId: n("emailnum"), recipients: [{ userId: USER, email: 7 }], body: "b" },
            /email must be a string/,
            n("emailnum"),
        ),
        c("channels empty", { ...ok(n("chempty")), channels: [] }, /channels must not be empty/, n("chempty")),
        c("channels a string", { ...ok(n("chstr")), channels: channel }, /channels must be an array/, n("chstr")),
        c("unknown channel", { ...ok(n("fax")), channels: [channel, "fax"] }, /unknown channel 'fax'/, n("fax")),
        c(
            "unknown template",
            { notificationId: n("notpl"), userId: USER, template: "bm-missing" },
            /template bm-missing not found/,
            n("notpl"),
        ),
        c(
            "missing variables",
            { notificationId: n("novars"), userId: USER, template: "bm-greet" },
            /missing.*name/i,
            n("novars"),
        ),
        c(
            "template and body",
            { notificationId: n("tplbody"), userId: USER, template: "bm-greet", body: "b" },
            /either template or direct/,
            n("tplbody"),
        ),
        c("no body, no template", { notificationId: n("nobody"), userId: USER }, /body is required/, n("nobody")),
        c(
            "numeric body",
            { notificationId: n("bodynum"), userId: USER, body: 5 },
            /body must be a string/,
            n("bodynum"),
        ),
        c("bad locale", { ...ok(n("locale")), locale: "english!" }, /locale must be a BCP-47 tag/, n("locale")),
        c("bad priority", { ...ok(n("prio")), priority: "urgent" }, /priority must be high or normal/, n("prio")),
        c("unparseable sendAt", { ...ok(n("sendat")), sendAt: "tomorrow" }, /sendAt must be an ISO-8601/, n("sendat")),
        c("sendAt in the past", { ...ok(n("past")), sendAt: "2001-01-01T00:00:00Z" }, /was in the past/, n("past")),
        c("nested data", { ...ok(n("data")), data: { a: { b: 1 } } }, /data\.a must be a string/, n("data")),
        c("unknown user", { ...ok(n("nouser")), userId: "bm-nobody" }, /unknown user bm-nobody/, n("nouser")),
        c(
            "over 256 KB",
            { ...ok(n("huge")), data: { blob: '"'.repeat(262_000) } },
            /body is \d+ bytes, above the 262144/,
            n("huge"),
        ),
    ];
    const email: Case[] = [
        c(
            "2 KB e-mail address",
            {
                notificationId: n("longmail"),
                recipients: [{ email: `${"a".repeat(2_000)}@example.com` }],
                subject: "s",
                body: "b",
            },
            /e-mail address is 2012 characters, above the 254/,
            n("longmail"),
        ),
        c(
            "unicode e-mail address",
            { notificationId: n("unimail"), recipients: [{ email: "jürgen@exämple.de" }], subject: "s", body: "b" },
            /invalid e-mail address/,
            n("unimail"),
        ),
        c(
            "lone surrogate in an address",
            { notificationId: n("surrogate"), recipients: [{ email: "\ud800@example.com" }], subject: "s", body: "b" },
            /invalid e-mail address/,
            n("surrogate"),
        ),
        c("no subject", { notificationId: n("nosubj"), userId: USER, body: "b" }, /needs a subject/, n("nosubj")),
    ];
    const sms: Case[] = [
        c(
            "3 KB phone number",
            { notificationId: n("longphone"), recipients: [{ phone: `+49${"1".repeat(3_000)}` }], body: "b" },
            /phone number is 3003 characters/,
            n("longphone"),
        ),
        c(
            "not E.164",
            { notificationId: n("e164"), recipients: [{ phone: "0170 1234567" }], body: "b" },
            /E\.164 expected/,
            n("e164"),
        ),
        c(
            "16 digits",
            { notificationId: n("digits"), recipients: [{ phone: "+1234567890123456" }], body: "b" },
            /E\.164/,
            n("digits"),
        ),
        c(
            "SMS too long",
            { notificationId: n("smslong"), userId: USER, body: "€".repeat(1_000) },
            /segments, more than the 10/,
            n("smslong"),
        ),
    ];
    const inapp: Case[] = [
        c(
            "address-only recipient",
            { notificationId: n("addronly"), recipients: [{ email: "x@example.com" }], channels: ["inapp"], body: "b" },
            /no inapp recipient in the request/,
            n("addronly"),
        ),
        c(
            "in-app title too long",
            { ...ok(n("longtitle")), title: "t".repeat(201) },
            /in-app title is 201/,
            n("longtitle"),
        ),
        c(
            "in-app body too long",
            { ...ok(n("longbody")), body: "b".repeat(4_001) },
            /in-app body is 4001/,
            n("longbody"),
        ),
        c(
            "in-app data too big",
            { ...ok(n("bigdata")), data: { blob: "x".repeat(5_000) } },
            /in-app data is \d+ bytes/,
            n("bigdata"),
        ),
    ];
    return [
        ...generic,
        ...(channel === "email" ? email : []),
        ...(channel === "sms" ? sms : []),
        ...(channel === "inapp" ? inapp : []),
    ];
}

describe("emulator: one batch of valid requests and 30+ kinds of bad input, per channel", function () {
    this.timeout(180_000);
    let world: World;
    const results: Record<
        string,
        { failures: string[]; emf: Record<string, unknown>[]; messageIds: Map<string, Case> }
    > = {};

    before(async function () {
        world = await createWorld();
        await world.plane.db.putItems(world.plane.tables.templates, [
            {
                templateId: "bm-greet",
                locale: "en",
                title: "Hi {{name}}",
                body: "Hello {{name}}",
                subject: "Hi {{name}}",
                text: "Hello {{name}}",
                sms: "Hi {{name}}",
            },
        ]);
        await world.seedUser({
            userId: USER,
            email: "bm-ada@example.com",
            phone: "+4917012349999",
            preferences: { sms: { optIn: true } },
            devices: {
                "bm-iphone": { platform: "ios", token: "tok-bm-iphone" },
                "bm-pixel": { platform: "android", token: "tok-bm-pixel" },
            },
        });
        for (const channel of CHANNELS) {
            const all = cases(channel);
            const valid = [
                { ...ok(`bm-${channel}-good-1`) },
                {
                    ...ok(`bm-${channel}-good-2`),
                    template: "bm-greet",
                    data: { name: "Ada" },
                    title: undefined,
                    subject: undefined,
                    body: undefined,
                },
            ];
            const bodies = [JSON.stringify(valid[0]), ...all.map((k) => k.body), JSON.stringify(valid[1])];
            const messageIds = new Map<string, Case>();
            const Records = bodies.map((body, i) => {
                const messageId = `${channel}-m${i}`;
                if (i > 0 && i <= all.length) messageIds.set(messageId, all[i - 1]);
                return {
                    messageId,
                    body,
                    attributes: { SentTimestamp: String(Date.now()), ApproximateReceiveCount: "1" },
                };
            });
            const lines: string[] = [];
            const write = process.stdout.write.bind(process.stdout);
            process.stdout.write = ((chunk: string) => {
                lines.push(String(chunk));
                return true;
            }) as typeof process.stdout.write;
            let response: { batchItemFailures: { itemIdentifier: string }[] };
            try {
                response = await world.sender(channel).invoke({ Records });
            } finally {
                process.stdout.write = write;
            }
            const emf = lines
                .flatMap((l) => l.split("\n"))
                .filter((l) => l.includes('"RejectedRequests"'))
                .map((l) => JSON.parse(l));
            results[channel] = { failures: response.batchItemFailures.map((f) => f.itemIdentifier), emf, messageIds };
        }
    });
    after(async () => world?.close());

    for (const channel of CHANNELS) {
        it(`${channel}: the batch reports no record for a retry (nothing bad is retried, nothing goes to a DLQ)`, () => {
            expect(results[channel].failures).to.deep.equal([]);
        });

        it(`${channel}: both valid requests are delivered beside the bad ones`, async () => {
            for (const id of [`bm-${channel}-good-1`, `bm-${channel}-good-2`]) {
                const rows = await world.logRows(id);
                expect(
                    rows.map((r) => [r.recipientKey, r.status]),
                    id,
                ).to.deep.equal([[`${channel}#${USER}`, "SENT"]]);
            }
        });

        it(`${channel}: at least 30 kinds of bad input, each with a usable id recorded FAILED with its reason`, async () => {
            const kinds = cases(channel);
            expect(kinds.length).to.be.at.least(30);
            for (const k of kinds.filter((x) => x.id)) {
                const rows = await world.logRows(k.id!);
                expect(rows.length, `${k.kind}: no row`).to.be.greaterThan(0);
                for (const row of rows) expect(row.status, `${k.kind}: ${row.recipientKey}`).to.equal("FAILED");
                expect(
                    rows.some((r) => k.reason.test(r.reason)),
                    `${k.kind}: ${rows.map((r) => r.reason).join(" | ")}`,
                ).to.equal(true);
                for (const row of rows) expect(Buffer.byteLength(row.recipientKey)).to.be.below(1_024);
            }
        });

        it(`${channel}: each bad input without a usable id leaves a RejectedRequests line with its SQS message id and reason`, () => {
            const { emf, messageIds } = results[channel];
            const expected = [...messageIds].filter(([, k]) => !k.id);
            expect(emf.map((e) => e.messageId).sort()).to.deep.equal(expected.map(([m]) => m).sort());
            for (const line of emf)
                expect(String(line.reason)).to.match(messageIds.get(String(line.messageId))!.reason);
        });
    }

    it("101 recipients: one request-level row says so, besides the rows of the first 100", async () => {
        const rows = await world.logRows("bm-push-101");
        const request = rows.find((r) => r.recipientKey === "request#push");
        expect(request?.reason).to.match(/at most 100 entries/);
        expect(rows).to.have.length(101);
    });

    it("nothing was sent for any bad input: only the two valid requests reached the providers", async () => {
        // push: 2 valid requests x 2 devices; e-mail and SMS: 2 each.
        expect(world.standIn.pushes).to.have.length(4);
        expect(world.standIn.sms).to.have.length(2);
        // in-app: one inbox item per valid request, none for the bad ones.
        const items = await world.inboxItems(USER);
        expect(items.map((i) => i.notificationId).sort()).to.deep.equal(["bm-inapp-good-1", "bm-inapp-good-2"]);
    });
});
