/** Claim decisions and lease arithmetic (pure). */
import { expect } from "chai";
import {
    applyClaims,
    CLAIM_MARGIN_MS,
    claimKeys,
    counterAdds,
    counterUpdate,
    leaseExpiry,
    refusalOf,
} from "../../../handlers/core/claims";
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
        expect(claimKeys([plan])).to.deep.equal([{ notificationId: "n", recipientKey: "sms#a", rateCounterId: "r" }]);
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

describe("core/claims: rate counters counted in the claim transaction", () => {
    const keys = [
        { notificationId: "n1", recipientKey: "sms#a", rateCounterId: "rate#sms#a#2026011512" },
        { notificationId: "n2", recipientKey: "sms#a", rateCounterId: "rate#sms#a#2026011512" },
        { notificationId: "n3", recipientKey: "sms#b", rateCounterId: "rate#sms#b#2026011512" },
    ];
    const now = Date.parse("2026-01-15T12:30:00Z");

    it("adds one per claimed send to each counter, expiring an hour after its hour", () => {
        expect(counterAdds(keys, now)).to.deep.equal([
            { id: "rate#sms#a#2026011512", add: 2, expiration: Date.parse("2026-01-15T14:00:00Z") / 1000 },
            { id: "rate#sms#b#2026011512", add: 1, expiration: Date.parse("2026-01-15T14:00:00Z") / 1000 },
        ]);
    });

    it("the counter's Update is an atomic ADD that fails once the sends would pass the limit", () => {
        const [a] = counterAdds(keys, now);
        const update = counterUpdate({ table: "idem", counter: a, limit: 5 });
        expect(update.UpdateExpression).to.equal("ADD #count :n SET expiration = if_not_exists(expiration, :exp)");
        expect(update.ConditionExpression).to.equal("attribute_not_exists(#count) OR #count <= :max");
        expect(update.ExpressionAttributeValues[":max"]).to.deep.equal({ N: "3" });
        expect(counterUpdate({ table: "idem", counter: a })).to.not.have.property("ConditionExpression");
    });

    it("a claim refused as rate limited becomes a suppression with the reason", () => {
        const limited = applyClaims([plan], () => ({ kind: "rate-limited", reason: "rate limited: 1 sms per hour" }));
        expect(limited[0].kind === "request" && limited[0].recipients[0].action).to.deep.equal({
            kind: "suppress",
            reason: "rate limited: 1 sms per hour",
        });
    });
});
