/**
 * In-app sender (inapp channel queue -> one item per recipient in the user's inbox, DynamoDB PutItem on
 * the KMS-encrypted inbox table). The "provider" is DynamoDB: the table is keyed by user and
 * notification (infra/tables.ts `inbox`) and the write is conditional on that key being free, so a
 * redelivery, a copy past its lease, a resend after an attempt without an answer, or a second SQS message
 * of the same request (a duplicate publish, queued at another time, hence another item id) finds the item
 * instead of adding a second one — that ConditionalCheckFailed is the proof it was delivered, hence SENT,
 * and the row names the item that exists (DynamoDB returns it with the failure). A throttle is retried
 * with backoff within the time budget, then the record goes back to its queue; a missing table or key
 * access is operational (core/retry), a rejected item permanent (FAILED).
 */
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "./core/attributes";
import { type InappDelivery, inappComposer, inboxItem } from "./core/compose/inapp";
import { callWithBackoff, providerClientConfig, SEND_TIME_GUARD_MS } from "./lib/backoff";
import { INAPP_ENV, readEnvironment } from "./lib/env";
import { type DeliverArgs, type DeliveryResult, failedDelivery } from "./lib/pipeline/channel";
import { createSenderHandler, senderSetup } from "./lib/sender";
import { createTelemetry } from "./lib/telemetry";

/** The condition that makes any repeat for the same user and notification a no-op (never an overwrite). */
export const INBOX_ITEM_ABSENT = "attribute_not_exists(notificationId)";

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
                    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                }),
            ),
        args.remaining,
        { minRemainingMs: SEND_TIME_GUARD_MS, uncertainResends: args.uncertainResends },
    );
    const counted = result.uncertainAttempts ? { uncertainAttempts: result.uncertainAttempts } : {};
    // Written now, or found written by an earlier attempt or copy: either way exactly one item, certainly.
    if (result.ok) return { status: "SENT", providerMessageId: itemId, ...counted };
    if (result.error.name === "ConditionalCheckFailedException")
        return { status: "SENT", providerMessageId: existingItemId(result.error) ?? itemId, ...counted };
    return failedDelivery(result);
}

/** The id of the item a failed condition found (ReturnValuesOnConditionCheckFailure ALL_OLD), if returned. */
export function existingItemId(error: Error): string | undefined {
    const found = (error as { Item?: Record<string, { S?: string }> }).Item?.itemId?.S;
    return typeof found === "string" ? found : undefined;
}
