import { expect } from "chai";
import {
    parseBatch,
    planBatch,
    readKeys,
    missingTemplateKeys,
    templateKey,
    type BatchData,
    type RecordPlan,
    type SharedBatchData,
} from "../../../handlers/core/plan";
import { logKey, rateCounterId, hourWindow } from "../../../handlers/core/deliveryLog";
import type { Channel, DeviceSummary, Profile, TemplateVariant } from "../../../handlers/core/types";
import { type EmailDelivery, emailComposer } from "../../../handlers/core/compose/email";
import { type PushDelivery, pushComposer } from "../../../handlers/core/compose/push";
import { type SmsDelivery, smsComposer } from "../../../handlers/core/compose/sms";
import type { Composer } from "../../../handlers/core/compose/composer";

const NOW = Date.parse("2026-01-15T12:00:00Z"); // 13:00 in Berlin
const rec = (body: unknown, messageId = "m1") => ({
    messageId,
    body: typeof body === "string" ? body : JSON.stringify(body),
});

/** The shared batch data plus every channel's enrichment, so one fixture serves all three composers. */
interface TestData extends SharedBatchData {
    summaries: Map<string, DeviceSummary>;
    optedOutPhones?: Set<string>;
    optOutUnknownPhones?: Set<string>;
}

function data(partial: Partial<TestData> = {}): TestData {
    return {
        profiles: new Map<string, Profile>([
            ["u1", { userId: "u1", timezone: "Europe/Berlin", email: "u1@example.com", phone: "+491701234567" }],
        ]),
        preferences: new Map(),
        summaries: new Map([
            [
                "u1",
                { userId: "u1", devices: { d1: { platform: "ios" as const, endpointArn: "arn:ep/1", enabled: true } } },
            ],
        ]),
        logRows: new Map(),
        templates: new Map(),
        ...partial,
    };
}

type AnyDelivery = PushDelivery | EmailDelivery | SmsDelivery;
/** Each channel's composer with the enrichment its adapter would give it, from the test data. */
function composerOf(channel: Channel, d: TestData): { composer: Composer<AnyDelivery, unknown>; enrichment: unknown } {
    if (channel === "push")
        return { composer: pushComposer("APNS_SANDBOX") as Composer<AnyDelivery, unknown>, enrichment: d.summaries };
    if (channel === "sms")
        return {
            composer: smsComposer as Composer<AnyDelivery, unknown>,
            enrichment: { optedOut: d.optedOutPhones ?? new Set(), unknown: d.optOutUnknownPhones ?? new Set() },
        };
    return { composer: emailComposer as Composer<AnyDelivery, unknown>, enrichment: undefined };
}

function plan(channel: Channel, bodies: unknown[], d = data(), rateLimit?: number): RecordPlan<AnyDelivery>[] {
    const parsed = parseBatch(
        bodies.map((b, i) => rec(b, `m${i}`)),
        channel,
        NOW,
    );
    const { composer, enrichment } = composerOf(channel, d);
    const batch: BatchData<unknown> = { ...d, enrichment };
    return planBatch(parsed, batch, { now: NOW, rateLimit, composer });
}
const action = (p: RecordPlan<AnyDelivery>, i = 0) => (p.kind === "ignore" ? undefined : p.recipients[i]?.action);

describe("core/plan: routing, preferences, deferral, rate limits, idempotency", () => {
    it("sends a direct push to every enabled device", () => {
        const d = data();
        d.summaries.get("u1")!.devices.d2 = { platform: "android", endpointArn: "arn:ep/2", enabled: true };
        d.summaries.get("u1")!.devices.d3 = { platform: "android", endpointArn: "arn:ep/3", enabled: false };
        d.summaries.get("u1")!.devices.d4 = { platform: "android", enabled: true }; // no endpoint yet
        const [p] = plan("push", [{ notificationId: "n1", userId: "u1", title: "T", body: "B" }], d);
        const a = action(p)!;
        expect(a.kind).to.equal("send");
        if (a.kind !== "send" || a.delivery.channel !== "push") return;
        expect(a.delivery.targets.map((t) => t.endpointArn)).to.deep.equal(["arn:ep/1", "arn:ep/2"]);
        expect(JSON.parse(a.delivery.targets[0].push.message)).to.have.all.keys("APNS_SANDBOX", "default");
    });

    it("silently ignores a request for another channel; fails an invalid one for its recipients", () => {
        const [other, bad, notJson] = plan("push", [
            { notificationId: "n1", userId: "u1", body: "B", channels: ["email"] },
            { notificationId: "n2", userId: "u1", channels: ["push", "fax"], body: "x" },
            "{",
        ]);
        expect(other.kind).to.equal("ignore");
        expect(bad.kind).to.equal("invalid");
        expect(action(bad)).to.deep.equal({
            kind: "fail",
            reason: "unknown channel 'fax' (expected push, email, sms, inapp)",
        });
        expect(notJson.kind).to.equal("invalid");
        if (notJson.kind === "invalid") expect(notJson.recipients).to.deep.equal([]);
    });

    it("ignores, without a warning, a channel copy with nobody for the channel; fails it when the request named the channel", () => {
        const emailOnly = { notificationId: "n", recipients: [{ email: "a@example.com" }], body: "B" };
        expect(plan("sms", [emailOnly])[0]).to.deep.equal({
            messageId: "m0",
            kind: "ignore",
            reason: "no sms recipient in the request",
        });
        const named = plan("sms", [{ ...emailOnly, channels: ["sms", "email"] }])[0];
        expect(named.kind).to.equal("invalid");
    });

    it("fails an unknown user, a user with no devices, bad addresses and a missing template variable", () => {
        expect(action(plan("push", [{ notificationId: "n", userId: "ghost", body: "B" }])[0])).to.deep.equal({
            kind: "fail",
            reason: "unknown user ghost",
        });
        const noDevices = data({ summaries: new Map() });
        expect(action(plan("push", [{ notificationId: "n", userId: "u1", body: "B" }], noDevices)[0])).to.deep.equal({
            kind: "fail",
            reason: "user has no enabled devices",
        });
        expect(
            action(
                plan("email", [
                    { notificationId: "n", recipients: [{ email: "not-an-address" }], subject: "s", body: "B" },
                ])[0],
            )!.kind,
        ).to.equal("fail");
        const optedInSms = data({
            preferences: new Map([["u1", { userId: "u1", channel: "sms" as const, optIn: true }]]),
        });
        expect(
            action(
                plan(
                    "sms",
                    [{ notificationId: "n", recipients: [{ userId: "u1", phone: "0170 123" }], body: "B" }],
                    optedInSms,
                )[0],
            ),
        ).to.deep.equal({
            kind: "fail",
            reason: "invalid phone number 0170 123 (E.164 expected)",
        });
        const templates = new Map<string, TemplateVariant>([
            [templateKey("t", "en"), { templateId: "t", locale: "en", body: "Hi {{name}}" }],
        ]);
        expect(
            action(plan("push", [{ notificationId: "n", userId: "u1", template: "t" }], data({ templates }))[0]),
        ).to.deep.equal({
            kind: "fail",
            reason: "missing template variable: name",
        });
        expect(action(plan("push", [{ notificationId: "n", userId: "u1", template: "nope" }])[0])).to.deep.equal({
            kind: "fail",
            reason: "template nope not found",
        });
    });

    it("fails an oversize push payload", () => {
        const a = action(plan("push", [{ notificationId: "n", userId: "u1", body: "x".repeat(5000) }])[0])!;
        expect(a.kind).to.equal("fail");
    });

    it("suppresses opted-out channels, SMS without an explicit opt-in, suppressed and opted-out addresses", () => {
        const optOut = data({
            preferences: new Map([["u1", { userId: "u1", channel: "email" as const, optIn: false }]]),
        });
        expect(
            action(plan("email", [{ notificationId: "n", userId: "u1", subject: "s", body: "B" }], optOut)[0]),
        ).to.deep.equal({
            kind: "suppress",
            reason: "user has not opted in to email",
        });
        expect(action(plan("sms", [{ notificationId: "n", userId: "u1", body: "B" }])[0])!.kind).to.equal("suppress");
        const suppressed = data();
        Object.assign(suppressed.profiles.get("u1")!, {
            emailSuppressed: true,
            emailSuppressedAddress: "U1@example.com",
            emailSuppressedReason: "Permanent bounce",
        });
        expect(
            action(plan("email", [{ notificationId: "n", userId: "u1", subject: "s", body: "B" }], suppressed)[0]),
        ).to.deep.equal({
            kind: "suppress",
            reason: "address suppressed: Permanent bounce",
        });
        const optedOut = data({
            optedOutPhones: new Set(["+491701234567"]),
            preferences: new Map([["u1", { userId: "u1", channel: "sms" as const, optIn: true }]]),
        });
        expect(action(plan("sms", [{ notificationId: "n", userId: "u1", body: "B" }], optedOut)[0])).to.deep.equal({
            kind: "suppress",
            reason: "phone number opted out of SMS",
        });
    });

    it("leaves an SMS recipient whose opt-out status is unknown for a retry (never sent blind)", () => {
        const d = data({
            optOutUnknownPhones: new Set(["+491701234567"]),
            preferences: new Map([["u1", { userId: "u1", channel: "sms" as const, optIn: true }]]),
        });
        expect(action(plan("sms", [{ notificationId: "n", userId: "u1", body: "B" }], d)[0])).to.deep.equal({
            kind: "retry",
            reason: "opt-out status of the number unavailable",
        });
        d.optedOutPhones = new Set(["+491701234567"]);
        expect(
            action(plan("sms", [{ notificationId: "n", userId: "u1", body: "B" }], d)[0])!.kind,
            "a known opt-out wins",
        ).to.equal("suppress");
    });

    it("defers in quiet hours unless the priority is high, and defers a future sendAt", () => {
        const quiet = data({
            preferences: new Map([
                ["u1", { userId: "u1", channel: "push" as const, quietHours: { start: "12:00", end: "14:00" } }],
            ]),
        });
        const normal = action(plan("push", [{ notificationId: "n", userId: "u1", body: "B" }], quiet)[0])!;
        expect(normal).to.deep.include({ kind: "defer", until: Date.parse("2026-01-15T13:00:00Z") });
        expect(
            action(plan("push", [{ notificationId: "n", userId: "u1", body: "B", priority: "high" }], quiet)[0])!.kind,
        ).to.equal("send");
        const later = action(
            plan("push", [
                { notificationId: "n", userId: "u1", body: "B", sendAt: "2026-01-16T08:00:00Z", priority: "high" },
            ])[0],
        )!;
        expect(later).to.deep.include({ kind: "defer", until: Date.parse("2026-01-16T08:00:00Z") });
    });

    it("rate-limits per user and channel within the batch (earlier batches: the claim's counter)", () => {
        const bodies = [1, 2, 3].map((i) => ({ notificationId: `n${i}`, userId: "u1", subject: "s", body: "B" }));
        const kinds = plan("email", bodies, data(), 2).map((p) => action(p)!.kind);
        expect(kinds).to.deep.equal(["send", "send", "suppress"]);
        const counted = action(plan("email", bodies, data(), 2)[0]);
        expect(counted).to.deep.include({ rateCounterId: rateCounterId("email", "u1", hourWindow(NOW)) });
    });

    it("does not rate-limit a channel without a limit", () => {
        const bodies = [1, 2, 3].map((i) => ({ notificationId: `n${i}`, userId: "u1", subject: "s", body: "B" }));
        expect(plan("email", bodies, data(), undefined).map((p) => action(p)!.kind)).to.deep.equal([
            "send",
            "send",
            "send",
        ]);
    });

    it("skips recipients already sent (redelivery) and push devices already published to", () => {
        const sent = data({ logRows: new Map([[logKey("n", "email#u1"), { status: "DELIVERED" } as any]]) });
        expect(
            action(plan("email", [{ notificationId: "n", userId: "u1", subject: "s", body: "B" }], sent)[0]),
        ).to.deep.equal({ kind: "skip", reason: "already DELIVERED" });
        const partial = data({
            logRows: new Map([[logKey("n", "push#u1"), { status: "PENDING", sentDevices: ["d1"] } as any]]),
        });
        partial.summaries.get("u1")!.devices.d2 = { platform: "android", endpointArn: "arn:ep/2", enabled: true };
        const a = action(plan("push", [{ notificationId: "n", userId: "u1", body: "B" }], partial)[0])!;
        if (a.kind !== "send" || a.delivery.channel !== "push") throw new Error(a.kind);
        expect(a.delivery.targets.map((t) => t.deviceId)).to.deep.equal(["d2"]);
    });

    it("lists the keys to read for the whole batch, templates by the request's locale chain, then the profiles'", () => {
        const parsed = parseBatch(
            [
                rec({ notificationId: "a", userId: "u1", template: "t", locale: "de-AT" }),
                rec({ notificationId: "b", recipients: [{ userId: "u2" }, { email: "x@example.com" }], template: "t" }),
                rec("{"),
            ],
            "email",
            NOW,
        );
        const keys = readKeys(parsed);
        expect(keys.userIds).to.deep.equal(["u1", "u2"]);
        expect(keys.logKeys.map((k) => `${k.notificationId}/${k.recipientKey}`)).to.deep.equal([
            "a/email#u1",
            "b/email#u2",
            "b/email#x@example.com",
        ]);
        expect(keys.templateKeys.map((k) => k.locale)).to.deep.equal(["de-AT", "de", "en"]);
        const profiles = new Map([["u2", { userId: "u2", locale: "fr-CA" }]]);
        const fetched = new Set(keys.templateKeys.map((k) => templateKey(k.templateId, k.locale)));
        expect(missingTemplateKeys(parsed, { profiles }, fetched).map((k) => k.locale)).to.deep.equal(["fr-CA", "fr"]);
    });
});

describe("core/plan: previous rows read only where the channel needs them", () => {
    it("leaves out the rows of valid requests, never those of invalid ones", () => {
        const parsed = parseBatch(
            [
                rec({ notificationId: "a", userId: "u1", subject: "s", body: "B" }),
                rec({ notificationId: "b", userId: 42 }),
            ],
            "email",
            NOW,
        );
        const keys = readKeys(parsed, { previousRows: false });
        expect(keys.logKeys.map((k) => k.notificationId)).to.deep.equal(["b"]);
        expect(keys.userIds).to.deep.equal(["u1"]);
    });
});

describe("core/plan: duplicates inside one batch", () => {
    it("plans the same notification and recipient only once per batch (a duplicate publish)", () => {
        const body = { notificationId: "dup", userId: "u1", subject: "s", body: "B" };
        const plans = plan("email", [body, body, { notificationId: "other", userId: "u1", subject: "s", body: "B" }]);
        expect(plans.map((p) => action(p)!.kind)).to.deep.equal(["send", "skip", "send"]);
        expect(action(plans[1])).to.deep.equal({ kind: "skip", reason: "duplicate in this batch" });
    });
});
