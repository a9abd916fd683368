/** Outcome messages: the rows a sender could not write travel on the feedback queue and parse back. */
import { expect } from "chai";
import { OUTCOME_MESSAGE_TYPE, outcomeMessageBodies } from "../../../handlers/core/deliveryLog";
import { parseFeedback } from "../../../handlers/core/feedback";
import type { DeliveryLogRow } from "../../../handlers/core/types";

const row = (i: number, reason?: string): DeliveryLogRow => ({
    notificationId: `n${i}`,
    recipientKey: `sms#+49170000000${i}`,
    channel: "sms",
    status: "SENT",
    providerMessageId: `m${i}`,
    ...(reason ? { reason } : {}),
    createdAt: "2026-01-15T12:00:00.000Z",
    updatedAt: "2026-01-15T12:00:00.000Z",
    expiresAt: 1_776_000_000,
});

describe("core/deliveryLog + core/feedback: outcome messages", () => {
    it("puts rows in as few bodies as the size bound allows", () => {
        const rows = [row(1, "x".repeat(400)), row(2, "y".repeat(400)), row(3, "z".repeat(400))];
        const bodies = outcomeMessageBodies(rows, 1_600);
        expect(bodies.map((b) => JSON.parse(b).rows.length)).to.deep.equal([2, 1]);
        expect(bodies.every((b) => Buffer.byteLength(b) <= 1_600)).to.equal(true);
    });

    it("parses its own bodies back into the rows", () => {
        const [body] = outcomeMessageBodies([row(1), row(2)]);
        expect(parseFeedback(body)).to.deep.equal({ kind: "outcomes", rows: [row(1), row(2)] });
    });

    it("a malformed outcome message is invalid (acknowledged with its reason, not retried)", () => {
        const body = JSON.stringify({ type: OUTCOME_MESSAGE_TYPE, version: 1, rows: [{ notificationId: "n" }] });
        expect(parseFeedback(body)).to.deep.equal({ kind: "invalid", reason: "outcome message with a malformed row" });
    });
});
