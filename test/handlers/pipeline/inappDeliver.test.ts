/**
 * The in-app adapter's reading of DynamoDB's answers (handlers/inappSender.ts deliverInboxItem), with the
 * SDK's own exception classes and smithy's timeout shape: the conditional PutItem it sends, "already
 * there" as SENT, an uncertain attempt resent once and never counted as a possible duplicate, and the
 * operational / permanent / throttled classes mapped through the shared retry helpers.
 */
import {
    ConditionalCheckFailedException,
    type DynamoDBClient,
    PutItemCommand,
    ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import type { InappDelivery } from "../../../handlers/core/compose/inapp";
import { UNCERTAIN_SEND_POLICY } from "../../../handlers/core/retry";
import { deliverInboxItem, INBOX_ITEM_ABSENT, inboxTtlDays } from "../../../handlers/inappSender";

const QUEUED = Date.parse("2026-12-06T12:00:00Z");
const delivery: InappDelivery = {
    channel: "inapp",
    userId: "u1",
    itemId: `${QUEUED}_n-1`,
    notificationId: "n-1",
    title: "T",
    body: "B",
    createdAt: new Date(QUEUED).toISOString(),
};
const meta = { $metadata: { httpStatusCode: 400 } };
const conditionFailed = () =>
    new ConditionalCheckFailedException({ message: "The conditional request failed", ...meta });
/** smithy's requestTimeout after the request was written: no answer, so the write may have happened. */
const noAnswer = () =>
    Object.assign(new Error("Request did not complete within 5000 ms"), { name: "TimeoutError", code: "ETIMEDOUT" });

/** A client that answers each PutItem with the next of `answers` (an Error is thrown) and keeps the calls. */
function client(...answers: (Error | object)[]) {
    const calls: PutItemCommand[] = [];
    const stub = {
        send: async (command: PutItemCommand) => {
            calls.push(command);
            const answer = answers.shift() ?? {};
            if (answer instanceof Error) throw answer;
            return answer;
        },
    };
    return { calls, dynamo: stub as unknown as DynamoDBClient };
}

const deliver = (dynamo: DynamoDBClient) =>
    deliverInboxItem(
        {
            delivery,
            request: { notificationId: "n-1", userId: "u1", priority: "normal" },
            userId: "u1",
            remaining: () => 30_000,
            uncertainResends: UNCERTAIN_SEND_POLICY.inapp.resends,
        },
        dynamo,
        "inbox-table",
        90,
    );

describe("inappSender deliverInboxItem: DynamoDB's answers as delivery results", () => {
    it("puts the item only if absent, into the given table, and reports SENT with the item id", async () => {
        const { calls, dynamo } = client({});
        expect(await deliver(dynamo)).to.deep.equal({ status: "SENT", providerMessageId: delivery.itemId });
        expect(calls).to.have.length(1);
        expect(calls[0]).to.be.instanceOf(PutItemCommand);
        expect(calls[0].input.TableName).to.equal("inbox-table");
        expect(calls[0].input.ConditionExpression).to.equal(INBOX_ITEM_ABSENT);
        expect(calls[0].input.Item?.itemId).to.deep.equal({ S: delivery.itemId });
        expect(calls[0].input.Item?.unreadUserId).to.deep.equal({ S: "u1" });
        expect(calls[0].input.Item?.expiresAt).to.deep.equal({ N: String(QUEUED / 1000 + 90 * 86_400) });
    });

    it("an item already there (an earlier attempt wrote it) is SENT, not a failure", async () => {
        const { calls, dynamo } = client(conditionFailed());
        expect(await deliver(dynamo)).to.deep.equal({ status: "SENT", providerMessageId: delivery.itemId });
        expect(calls).to.have.length(1);
    });

    it("no answer, then the resend finds the item: SENT once, counted as an uncertain attempt but not flagged uncertain", async () => {
        const { calls, dynamo } = client(noAnswer(), conditionFailed());
        const result = await deliver(dynamo);
        expect(result).to.deep.equal({ status: "SENT", providerMessageId: delivery.itemId, uncertainAttempts: 1 });
        expect(result).not.to.have.property("uncertain");
        expect(calls).to.have.length(2);
    });

    it("no answer twice: never a third attempt; final UNCERTAIN", async () => {
        const { calls, dynamo } = client(noAnswer(), noAnswer(), {});
        const result = await deliver(dynamo);
        expect(result.status).to.equal("UNCERTAIN");
        expect(result.uncertainAttempts).to.equal(2);
        expect(calls).to.have.length(2);
    });

    it("a missing table is operational (RETRY, back to the queue); a rejected item is FAILED", async () => {
        const missing = new ResourceNotFoundException({ message: "Requested resource not found", ...meta });
        const gone = await deliver(client(missing).dynamo);
        expect(gone).to.deep.include({ status: "RETRY", errorClass: "operational" });
        const invalid = Object.assign(new Error("Item size has exceeded the maximum allowed size"), {
            name: "ValidationException",
            ...meta,
        });
        expect(await deliver(client(invalid).dynamo)).to.deep.include({ status: "FAILED" });
    });

    it("INBOX_TTL_DAYS must be a positive integer", () => {
        expect(inboxTtlDays("90")).to.equal(90);
        for (const bad of ["0", "-1", "1.5", "x", ""]) expect(() => inboxTtlDays(bad), bad).to.throw(/INBOX_TTL_DAYS/);
    });
});
