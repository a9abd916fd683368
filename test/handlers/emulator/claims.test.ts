/**
 * Claim before send, on the serialized senders and AWS's DynamoDB Local (real TransactWriteItems with
 * CancellationReasons). Deterministic: a barrier holds every copy's claim transaction until all copies
 * have read and planned, so each copy plans to send; a crash is a provider call that never returns;
 * lease expiry is an injected clock (Date.now shifted), never a sleep.
 */
import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { expect } from "chai";
import { CLAIM_MARGIN_MS } from "../../../handlers/core/claims";
import { createDynamo, type Dynamo } from "../../../handlers/lib/dynamo";
import { claimAll, claimEach } from "../../../handlers/lib/pipeline/claims";
import type { Channel } from "../../../handlers/lib/telemetry-names";
import { claimBarrier } from "./barrier";
import { createWorld, type World } from "./world";

const CHANNELS: Channel[] = ["push", "email", "sms"];
const record = (messageId: string, body: unknown) => ({
    messageId,
    body: JSON.stringify(body),
    attributes: { SentTimestamp: String(Date.now()), ApproximateReceiveCount: "1" },
});

describe("emulator: claim before send under concurrent copies and crashes", function () {
    this.timeout(180_000);
    let world: World;

    before(async () => {
        world = await createWorld();
        await world.seedUser({
            userId: "cl-ada",
            email: "cl-ada@example.com",
            phone: "+4917012348888",
            preferences: { sms: { optIn: true } },
            devices: {
                "cl-iphone": { platform: "ios", token: "tok-cl-iphone" },
                "cl-pixel": { platform: "android", token: "tok-cl-pixel" },
            },
        });
    });
    after(async () => world?.close());

    const sendsOf = async (channel: Channel, id: string) => {
        if (channel === "push")
            return world.standIn.pushes.filter((p) => JSON.stringify(p.payload).includes(id)).map((p) => p.targetArn);
        if (channel === "sms") return world.standIn.sms.filter((s) => s.message.includes(id)).map((s) => s.phoneNumber);
        return (await world.emulators.ses.emails())
            .filter((e) => JSON.stringify(e).includes(id))
            .map((e) => e.destination.to[0]);
    };

    for (const channel of CHANNELS) {
        for (const copies of [2, 5]) {
            it(`${channel}: ${copies} concurrent copies of one request send exactly once per ${channel === "push" ? "device" : "recipient"}`, async () => {
                const id = `cl-${channel}-${copies}`;
                const body = {
                    notificationId: id,
                    userId: "cl-ada",
                    channels: [channel],
                    subject: id,
                    title: id,
                    body: `text ${id}`,
                };
                const senders = Array.from({ length: copies }, () => world.load(`${channel}-sender`));
                const restore = claimBarrier(copies);
                let responses: { batchItemFailures: { itemIdentifier: string }[] }[];
                try {
                    responses = await Promise.all(
                        senders.map((s, i) => s.invoke({ Records: [record(`${id}-m${i}`, body)] })),
                    );
                } finally {
                    restore();
                }
                const sends = await sendsOf(channel, id);
                expect(sends.length, sends.join(", ")).to.equal(channel === "push" ? 2 : 1);
                expect(new Set(sends).size).to.equal(sends.length);
                // The copies that met the live claim sent nothing and left their record for a retry (or, when
                // their claim was retried after a conflict on the shared rate counter, found the row sent
                // and skipped it)...
                const retried = responses.filter((r) => r.batchItemFailures.length === 1).length;
                expect(retried).to.be.within(0, copies - 1);
                // ...which, redelivered, finds the row SENT and sends nothing more.
                const again = await senders[1].invoke({ Records: [record(`${id}-again`, body)] });
                expect(again.batchItemFailures).to.deep.equal([]);
                expect(await sendsOf(channel, id)).to.have.length(sends.length);
                const rows = await world.logRows(id);
                expect(rows.map((r) => [r.status, r.claimOwner])).to.deep.equal([["SENT", undefined]]);
            });
        }
    }

    it("a crash after 25 of 30 sends, then redelivery past the lease: the 25 are not sent again, every row ends SENT", async () => {
        const id = "cl-crash";
        const addresses = Array.from({ length: 30 }, (_, i) => `crash-${i}@example.com`);
        const records = addresses.map((to, i) =>
            record(`${id}-m${i}`, {
                notificationId: `${id}-${i}`,
                recipients: [{ email: to }],
                channels: ["email"],
                subject: "s",
                body: "b",
            }),
        );
        // The 26th and later SendEmail never return: the invocation dies there (a timeout, a crash).
        const proto = SESv2Client.prototype as unknown as { send: (c: unknown) => Promise<unknown> };
        const original = proto.send;
        let sent = 0;
        const held: ((e: Error) => void)[] = [];
        proto.send = function (this: unknown, command: unknown) {
            if (command instanceof SendEmailCommand && ++sent > 25)
                return new Promise((_, reject) => held.push(reject));
            return original.call(this, command);
        };
        const crashed = world.load("email-sender");
        const first = crashed.invoke({ Records: records }).catch(() => undefined);
        try {
            // Wait (on the data, not the clock) until the first group's rows are durable.
            for (let polls = 0; polls < 600; polls++) {
                const rows = (
                    await Promise.all(addresses.slice(0, 25).map((_, i) => world.logRows(`${id}-${i}`)))
                ).flat();
                if (held.length > 0 && rows.filter((r) => r.status === "SENT").length === 25) break;
                await new Promise((r) => setImmediate(r));
            }
        } finally {
            proto.send = original;
        }
        const sentBefore = (await world.emulators.ses.emails()).filter((e) =>
            e.destination.to[0].startsWith("crash-"),
        ).length;
        expect(sentBefore).to.equal(25);

        // Redelivery after the visibility timeout: the dead invocation's leases have expired.
        const realNow = Date.now;
        Date.now = () => realNow() + 31_000 + CLAIM_MARGIN_MS + 60_000;
        let response: { batchItemFailures: unknown[] };
        try {
            response = await world.load("email-sender").invoke({ Records: records });
        } finally {
            Date.now = realNow;
        }
        expect(response.batchItemFailures).to.deep.equal([]);
        const to = (await world.emulators.ses.emails())
            .map((e) => e.destination.to[0])
            .filter((a) => a.startsWith("crash-"));
        expect(to.sort()).to.deep.equal([...addresses].sort());
        for (let i = 0; i < 30; i++) expect((await world.logRows(`${id}-${i}`))[0].status).to.equal("SENT");
        for (const reject of held) reject(new Error("the crashed invocation is gone"));
        await first;
    });

    it("measured: a batch's 50 claims cost 1 TransactWriteItems call, against 50 conditional UpdateItem calls", async () => {
        const counting = (): { dynamo: Dynamo; calls: string[] } => {
            const inner = createDynamo();
            const calls: string[] = [];
            const call: Dynamo["call"] = (op, input) => {
                calls.push(op);
                return inner.call(op, input);
            };
            return { calls, dynamo: { call } };
        };
        const claim = (strategy: typeof claimAll, prefix: string, dynamo: Dynamo) =>
            strategy({
                dynamo,
                table: world.plane.tables.deliveryLog,
                owner: "measure",
                now: Date.now(),
                expiresAt: Date.now() + 60_000,
                ttl: Math.floor(Date.now() / 1000) + 86_400,
                keys: Array.from({ length: 50 }, (_, i) => ({
                    notificationId: `${prefix}-${i}`,
                    recipientKey: "email#x",
                })),
            });
        const tx = counting();
        const each = counting();
        const txResults = await claim(claimAll, "measure-tx", tx.dynamo);
        const eachResults = await claim(claimEach, "measure-each", each.dynamo);
        expect([...txResults.values()].every((r) => r === undefined)).to.equal(true);
        expect([...eachResults.values()].every((r) => r === undefined)).to.equal(true);
        console.log(
            `      50 claims: TransactWriteItems ${tx.calls.length} call(s), UpdateItem ${each.calls.length} calls`,
        );
        expect(tx.calls).to.deep.equal(["TransactWriteItems"]);
        expect(each.calls).to.have.length(50);
        // A second claim by another owner is refused with the row's state, in one more call.
        const again = await claimAll({
            dynamo: tx.dynamo,
            table: world.plane.tables.deliveryLog,
            owner: "other",
            now: Date.now(),
            expiresAt: Date.now() + 60_000,
            ttl: 0,
            keys: [{ notificationId: "measure-tx-0", recipientKey: "email#x" }],
        });
        expect([...again.values()][0]).to.deep.include({ kind: "claimed", owner: "measure" });
    });
});
