/**
 * sendAt is judged against when the producer's message entered the queue (SQS SentTimestamp), not the
 * processing time: a backlog or a retry after the visibility timeout must not turn a valid request into
 * "sendAt in the past"; at processing time a passed sendAt means "send now", a future one "defer".
 */
import { expect } from "chai";
import { enqueuedAt, parseBatch, planBatch, type BatchData, type RecordPlan } from "../../../handlers/core/plan";
import { SEND_AT_GRACE_MS } from "../../../handlers/core/request";
import { emailComposer } from "../../../handlers/core/compose/email";

const SEND_AT = "2026-01-15T12:00:00Z";
const sendAtMs = Date.parse(SEND_AT);
const body = JSON.stringify({ notificationId: "n-at", userId: "u1", subject: "s", body: "B", sendAt: SEND_AT });

function data(): BatchData<undefined> {
    return {
        enrichment: undefined,
        profiles: new Map([["u1", { userId: "u1", timezone: "UTC", email: "u1@example.com" }]]),
        preferences: new Map(),
        logRows: new Map(),
        templates: new Map(),
    };
}

/** Plans one e-mail record queued at `sentAt` (undefined: no attribute) and processed at `now`. */
function planAt(sentAt: number | undefined, now: number): RecordPlan {
    const record = {
        messageId: "m1",
        body,
        attributes: sentAt === undefined ? undefined : { SentTimestamp: String(sentAt) },
    };
    const [plan] = planBatch(parseBatch([record], "email", now), data(), { now, composer: emailComposer });
    return plan;
}
const actionOf = (p: RecordPlan) => (p.kind === "ignore" ? undefined : p.recipients[0]?.action);

describe("core/plan: sendAt against the record's SentTimestamp", () => {
    it("a request queued before its sendAt, processed long after it (backlog, retry after the visibility timeout), is sent", () => {
        const queued = sendAtMs - 5_000;
        for (const late of [61_000, 180_000 + 30_000, 3_600_000]) {
            const p = planAt(queued, sendAtMs + late);
            expect(p.kind, `processed ${late} ms after sendAt`).to.equal("request");
            expect(actionOf(p)!.kind).to.equal("send");
        }
    });

    it("the same request processed before its sendAt is deferred to it", () => {
        expect(actionOf(planAt(sendAtMs - 5_000, sendAtMs - 1_000))).to.deep.include({
            kind: "defer",
            until: sendAtMs,
        });
    });

    it("a sendAt already past (beyond the grace) when the request was queued is the producer's error: FAILED", () => {
        const p = planAt(sendAtMs + SEND_AT_GRACE_MS + 1_000, sendAtMs + SEND_AT_GRACE_MS + 2_000);
        expect(p.kind).to.equal("invalid");
        expect(actionOf(p)).to.deep.equal({
            kind: "fail",
            reason: `sendAt ${SEND_AT} was in the past when the request was queued`,
        });
        // Within the grace it is "now".
        expect(actionOf(planAt(sendAtMs + SEND_AT_GRACE_MS - 1_000, sendAtMs + 10 * 60_000))!.kind).to.equal("send");
    });

    it("enqueuedAt: the SentTimestamp, never later than now; now when the attribute is missing or malformed", () => {
        expect(enqueuedAt({ messageId: "m", body: "", attributes: { SentTimestamp: "1000" } }, 5_000)).to.equal(1_000);
        expect(enqueuedAt({ messageId: "m", body: "", attributes: { SentTimestamp: "9000" } }, 5_000)).to.equal(5_000);
        expect(enqueuedAt({ messageId: "m", body: "" }, 5_000)).to.equal(5_000);
        expect(enqueuedAt({ messageId: "m", body: "", attributes: { SentTimestamp: "soon" } }, 5_000)).to.equal(5_000);
        // Without a SentTimestamp the processing time is all there is to judge by.
        expect(planAt(undefined, sendAtMs + 10 * 60_000).kind).to.equal("invalid");
    });
});
