/**
 * In-app sender (inapp channel queue -> one item per recipient in the user's inbox, DynamoDB PutItem on
 * the KMS-encrypted inbox table). The "provider" is DynamoDB: the write is conditional on the item id
 * (deterministic per queued message, core/inbox.ts), so a redelivery, a copy past its lease or a resend
 * after an attempt without an answer finds the item instead of adding a second one — that
 * ConditionalCheckFailed is the proof it was delivered, hence SENT. A throttle is retried with backoff
 * within the time budget, then the record goes back to its queue; a missing table or key access is
 * operational (core/retry), a rejected item permanent (FAILED).
 */
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "./core/attributes";
import { type InappDelivery, inappComposer, inboxItem } from "./core/compose/inapp";
import { callWithBackoff, providerClientConfig, SEND_TIME_GUARD_MS } from "./lib/backoff";
import { INAPP_ENV, readEnvironment } from "./lib/env";
import { type DeliverArgs, type DeliveryResult, failedDelivery } from "./lib/pipeline/channel";
import { createSenderHandler, senderSetup } from "./lib/sender";
import { createTelemetry } from "./lib/telemetry";

/** The condition that makes a repeat of the same item a no-op (never an overwrite of its read flag). */
export const INBOX_ITEM_ABSENT = "attribute_not_exists(itemId)";

export function inappSender() {
    const telemetry = createTelemetry();
    // Its own client, like a provider's: one attempt per call (callWithBackoff owns the retries), bounded.
    const dynamo = new DynamoDBClient(providerClientConfig());
    const env = readEnvironment(INAPP_ENV);
    const ttlDays = inboxTtlDays(env.inboxTtlDays);
    return createSenderHandler(senderSetup("inapp", telemetry), {
        composer: inappComposer,
        // The in-app composer ignores the previous row: the claim alone finds one already sent.
        readsPreviousRows: false,
        deliver: (args) => deliverInboxItem(args, dynamo, env.inboxTable, ttlDays),
    });
}

export function inboxTtlDays(raw: string): number {
    const days = Number(raw);
    if (!Number.isInteger(days) || days < 1) throw new Error(`INBOX_TTL_DAYS must be a positive integer, got ${raw}`);
    return days;
}

export async function deliverInboxItem(
    args: DeliverArgs<InappDelivery>,
    dynamo: DynamoDBClient,
    table: string,
    ttlDays: number,
): Promise<DeliveryResult> {
    const { itemId } = args.delivery;
    const result = await callWithBackoff(
        () =>
            dynamo.send(
                new PutItemCommand({
                    TableName: table,
                    Item: marshall(inboxItem(args.delivery, ttlDays)),
                    ConditionExpression: INBOX_ITEM_ABSENT,
                }),
            ),
        args.remaining,
        { minRemainingMs: SEND_TIME_GUARD_MS, uncertainResends: args.uncertainResends },
    );
    const counted = result.uncertainAttempts ? { uncertainAttempts: result.uncertainAttempts } : {};
    // Written now, or found written by an earlier attempt: either way exactly one item, certainly.
    if (result.ok || result.error.name === "ConditionalCheckFailedException")
        return { status: "SENT", providerMessageId: itemId, ...counted };
    return failedDelivery(result);
}
