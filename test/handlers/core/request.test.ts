import { expect } from "chai";
import { parseNotificationRequest, requestTargetsChannel, SEND_AT_GRACE_MS } from "../../../handlers/core/request";

const NOW = new Date("2026-03-01T12:00:00Z");
const parse = (body: unknown) => parseNotificationRequest(typeof body === "string" ? body : JSON.stringify(body), NOW);
const valid = { notificationId: "n-1", userId: "u_1", body: "hello" };

function expectInvalid(body: unknown, pattern: RegExp) {
    const r = parse(body);
    expect(r.ok, JSON.stringify(r)).to.equal(false);
    if (!r.ok) expect(r.reason).to.match(pattern);
    return r;
}

describe("core/request: NotificationRequest validation", () => {
    it("accepts a minimal request and applies the normal priority", () => {
        const r = parse(valid);
        expect(r).to.deep.equal({
            ok: true,
            request: { notificationId: "n-1", userId: "u_1", body: "hello", priority: "normal" },
        });
    });

    it("accepts a templated request with recipients, data, locale, channels and a future sendAt", () => {
        const r = parse({
            notificationId: "n-2",
            recipients: [{ userId: "u1" }, { email: " a@example.com " }],
            channels: ["email", "email", "sms"],
            template: "welcome",
            data: { name: "Ann", n: 3, vip: true },
            locale: "de-AT",
            priority: "high",
            sendAt: "2026-03-02T09:00:00Z",
            campaignId: "c1",
        });
        expect(r.ok).to.equal(true);
        if (!r.ok) return;
        expect(r.request.channels).to.deep.equal(["email", "sms"]);
        expect(r.request.recipients).to.deep.equal([{ userId: "u1" }, { email: "a@example.com" }]);
        expect(r.request.priority).to.equal("high");
    });

    it("rejects a body that is not JSON, or not an object", () => {
        expectInvalid("{not json", /not valid JSON/);
        expectInvalid("[1,2]", /not a JSON object/);
    });

    it("rejects wrong types field by field", () => {
        expectInvalid({ ...valid, notificationId: 7 }, /notificationId must be a string/);
        expectInvalid({ ...valid, notificationId: "has space" }, /notificationId must match/);
        expectInvalid({ ...valid, userId: ["x"] }, /userId must be a string/);
        expectInvalid({ ...valid, body: 5 }, /body must be a string/);
        expectInvalid({ ...valid, priority: "urgent" }, /priority must be high or normal/);
        expectInvalid({ ...valid, data: { a: { nested: true } } }, /data\.a must be/);
        expectInvalid({ ...valid, data: "x" }, /data must be an object/);
        expectInvalid({ ...valid, locale: "german!" }, /BCP-47/);
        expectInvalid({ ...valid, channels: "push" }, /channels must be an array/);
        expectInvalid({ ...valid, recipients: [{ email: "a@b.co" }] }, /exactly one of userId and recipients/);
        expectInvalid({ notificationId: "n", body: "b" }, /exactly one of userId and recipients/);
        expectInvalid({ notificationId: "n", recipients: [], body: "b" }, /must not be empty/);
        expectInvalid({ notificationId: "n", recipients: [{}], body: "b" }, /needs a userId, an email or a phone/);
        expectInvalid({ notificationId: "n", recipients: [{ phone: 49 }], body: "b" }, /phone must be a string/);
    });

    it("rejects an unknown channel but still reports the identity to record FAILED against", () => {
        const r = expectInvalid({ ...valid, channels: ["push", "fax"] }, /unknown channel 'fax'/);
        if (!r.ok) {
            expect(r.notificationId).to.equal("n-1");
            expect(r.recipients).to.deep.equal([{ userId: "u_1" }]);
            expect(r.channels).to.equal(undefined);
        }
    });

    it("keeps a valid channels list on an otherwise invalid request (other processors stay silent)", () => {
        const r = expectInvalid({ ...valid, channels: ["sms"], priority: 1 }, /priority/);
        if (!r.ok) expect(r.channels).to.deep.equal(["sms"]);
    });

    it("requires a body without a template and forbids mixing template and direct content", () => {
        expectInvalid({ notificationId: "n", userId: "u" }, /body is required/);
        expectInvalid({ ...valid, template: "t" }, /either template or direct/);
    });

    it("rejects sendAt in the past (beyond the grace) and a malformed sendAt", () => {
        expectInvalid({ ...valid, sendAt: "2026-03-01T11:00:00Z" }, /in the past when the request was queued/);
        expectInvalid({ ...valid, sendAt: "tomorrow" }, /ISO-8601/);
        expectInvalid({ ...valid, sendAt: "2026-03-02T09:00:00" }, /ISO-8601/); // no zone: ambiguous
        const justNow = new Date(NOW.getTime() - SEND_AT_GRACE_MS / 2).toISOString();
        expect(parse({ ...valid, sendAt: justNow }).ok).to.equal(true);
    });

    it("routes a request to the channels it names, or to all when it names none", () => {
        const r = parse({ ...valid, channels: ["email"] });
        if (!r.ok) throw new Error(r.reason);
        expect(requestTargetsChannel(r.request, "email")).to.equal(true);
        expect(requestTargetsChannel(r.request, "push")).to.equal(false);
        const all = parse(valid);
        if (!all.ok) throw new Error(all.reason);
        expect(["push", "email", "sms"].every((c) => requestTargetsChannel(all.request, c as any))).to.equal(true);
    });
});
