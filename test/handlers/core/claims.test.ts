/** Claim decisions and lease arithmetic (pure). */
import { expect } from "chai";
import { applyClaims, CLAIM_MARGIN_MS, claimKeys, leaseExpiry, refusalOf } from "../../../handlers/core/claims";
import type { RecordPlan } from "../../../handlers/core/plan";

const plan: RecordPlan<string> = {
    messageId: "m",
    kind: "request",
    request: { notificationId: "n", priority: "normal" },
    recipients: [
        {
            recipient: { identity: "a", recipientKey: "sms#a", spec: {} },
            action: { kind: "send", delivery: "x", rateCounterId: "r" },
        },
        { recipient: { identity: "b", recipientKey: "sms#b", spec: {} }, action: { kind: "fail", reason: "bad" } },
    ],
};

describe("core/claims: leases and decisions", () => {
    it("a lease outlives its invocation: start + remaining time + margin", () => {
        expect(leaseExpiry(1_000, 30_000)).to.equal(31_000 + CLAIM_MARGIN_MS);
    });

    it("claims only the recipients the plan sends to", () => {
        expect(claimKeys([plan])).to.deep.equal([{ notificationId: "n", recipientKey: "sms#a" }]);
    });

    it("a row already sent turns the send into a skip; a live claim into a retry", () => {
        const sent = applyClaims([plan], () => ({ kind: "sent", status: "SENT" }));
        expect(sent[0].kind === "request" && sent[0].recipients[0].action).to.deep.equal({
            kind: "skip",
            reason: "already SENT",
        });
        const claimed = applyClaims([plan], () => ({ kind: "claimed", owner: "o", until: 0 }));
        expect(claimed[0].kind === "request" && claimed[0].recipients[0].action.kind).to.equal("retry");
        const kept = applyClaims([plan], () => undefined);
        expect(kept[0]).to.deep.equal(plan);
    });

    it("reads the refusal from the row as it stood", () => {
        expect(refusalOf({ status: "DELIVERED" })).to.deep.equal({ kind: "sent", status: "DELIVERED" });
        expect(refusalOf({ status: "PENDING", claimOwner: "o", claimExpiresAt: 5 })).to.deep.equal({
            kind: "claimed",
            owner: "o",
            until: 5,
        });
    });
});
