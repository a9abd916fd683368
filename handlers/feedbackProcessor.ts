/**
 * Feedback processor (feedback queue): SES events update the delivery-log row (DELIVERED, BOUNCED,
 * COMPLAINT, FAILED) and, on a permanent bounce or a complaint, flag the address suppressed on the
 * user's profile; SNS platform-endpoint events disable the device behind the endpoint (found through the
 * byEndpointArn index) and its entry in the user's device summary, but only for token-level failures: a
 * platform-level one (disabled application, expired credentials) is logged and counted instead. An
 * EndpointUpdated event without an `Enabled` attribute is checked with GetEndpointAttributes. Status
 * updates are conditional so late or reordered events never move a row backwards. An event whose
 * delivery-log row does not exist yet (the sender's batch write still in flight) is retried a few times
 * through the queue, then acknowledged. Outcome messages (`notify.outcomes`) carry delivery-log rows a
 * sender could not write after its sends; they are replayed into the log (never over a sent status).
 */
import { FirehoseClient } from "@aws-sdk/client-firehose";
import { GetEndpointAttributesCommand, SNSClient } from "@aws-sdk/client-sns";
import { endpointUpdate, overwritableStatuses, parseFeedback, type FeedbackEvent } from "./core/feedback";
import { normalizeEmail } from "./core/email";
import { SUMMARY_DEVICE_ID } from "./core/endpoints";
import { STATUS_INDEX_ATTRIBUTE, statusIndexKey } from "./core/statusIndex";
import { createDynamo, type Dynamo } from "./lib/dynamo";
import { mapLimit } from "./lib/concurrency";
import { marshall } from "./core/attributes";
import { SENT_STATUSES } from "./core/deliveryLog";
import type { DeliveryLogRow } from "./core/types";
import { ENV, requireEnv } from "./lib/env";
import { METRICS } from "./lib/telemetry-names";
import { putAnalytics } from "./lib/firehose";
import type { LambdaContext } from "./lib/lambda";
import type { BatchResponse, SqsEvent, SqsRecord } from "./lib/sqs";
import { createTelemetry, type Telemetry } from "./lib/telemetry";

/** Receives after which an event for a row that never appeared is given up (logged, acknowledged). */
export const MISSING_ROW_MAX_RECEIVES = 3;

interface Tables {
    deliveryLog: string;
    preferences: string;
    devices: string;
}

export function feedbackProcessor() {
    const telemetry = createTelemetry();
    const dynamo = createDynamo();
    const firehose = new FirehoseClient({});
    const sns = new SNSClient({});
    const tables: Tables = {
        deliveryLog: requireEnv(ENV.deliveryLogTable),
        preferences: requireEnv(ENV.preferencesTable),
        devices: requireEnv(ENV.devicesTable),
    };
    const analyticsStream = requireEnv(ENV.analyticsStream);

    return async (event: SqsEvent, context?: LambdaContext): Promise<BatchResponse> => {
        telemetry.log.addContext(context);
        const failures: { itemIdentifier: string }[] = [];
        const analytics: string[] = [];
        for (const record of event.Records ?? []) {
            try {
                const line = await handleRecord(record, { dynamo, sns }, tables, telemetry);
                if (line) analytics.push(line);
            } catch (error) {
                telemetry.log.error("feedback record failed; left to the queue", {
                    messageId: record.messageId,
                    error,
                });
                failures.push({ itemIdentifier: record.messageId });
            }
        }
        if (analytics.length > 0) await putAnalytics(firehose, analyticsStream, analytics, telemetry.log);
        telemetry.metrics.flush();
        return { batchItemFailures: failures };
    };
}

/** Applies one feedback message; returns its analytics line, throws to have it retried. */
async function handleRecord(
    record: SqsRecord,
    clients: { dynamo: Dynamo; sns: SNSClient },
    tables: Tables,
    telemetry: Telemetry,
): Promise<string | undefined> {
    const { log } = telemetry;
    const { dynamo } = clients;
    const parsed = parseFeedback(record.body);
    const event = parsed.kind === "endpoint-check" ? await checkEndpoint(clients.sns, parsed.endpointArn) : parsed;
    switch (event.kind) {
        case "invalid":
            log.warn("unusable feedback message acknowledged", { messageId: record.messageId, reason: event.reason });
            return undefined;
        case "ignore":
            log.debug("feedback needs no action", { messageId: record.messageId, reason: event.reason });
            return undefined;
        case "endpoint":
            await disableDevicesByEndpoint(dynamo, tables.devices, event.endpointArn, event.reason, log);
            return undefined;
        case "platform-failure":
            // Credentials or the application are broken: every device would fail alike, so none is
            // disabled (they work again once the credentials are fixed). Loud log plus a push Failed count.
            log.error("push platform application failing; no device disabled", {
                messageId: record.messageId,
                endpointArn: event.endpointArn,
                platformApplicationArn: event.platformApplicationArn,
                reason: event.reason,
            });
            telemetry.metrics.add("push", METRICS.failed);
            telemetry.metrics.add("push", METRICS.platformFailure);
            return undefined;
        case "email":
            return applyEmailEvent(record, event, dynamo, tables, telemetry);
        case "outcomes":
            await replayOutcomes(dynamo, tables.deliveryLog, event.rows, log);
            return undefined;
    }
}

/**
 * A sender's outcomes that its delivery-log write could not take: each row is put as the sender would
 * have, unless the row already holds a sent status (a later result, or feedback, got there first).
 * Idempotent, so a redelivered message replays harmlessly; any other error leaves the message to the
 * queue (and its DLQ): the outcome is never dropped.
 */
async function replayOutcomes(dynamo: Dynamo, table: string, rows: DeliveryLogRow[], log: Telemetry["log"]) {
    const values: Record<string, { S: string }> = {};
    SENT_STATUSES.forEach((status, i) => {
        values[`:sent${i}`] = { S: status };
    });
    const sent = SENT_STATUSES.map((_, i) => `:sent${i}`).join(", ");
    let replayed = 0;
    await mapLimit(rows, 8, async (row) => {
        try {
            await dynamo.call("PutItem", {
                TableName: table,
                Item: marshall({ ...row }),
                ConditionExpression: `attribute_not_exists(#status) OR NOT #status IN (${sent})`,
                ExpressionAttributeNames: { "#status": "status" },
                ExpressionAttributeValues: values,
            });
            replayed++;
        } catch (err) {
            if ((err as Error).name !== "ConditionalCheckFailedException") throw err;
        }
    });
    log.info("unwritten outcomes replayed into the delivery log", { rows: rows.length, replayed });
}

/** Asks SNS what an EndpointUpdated event without attributes changed; NotFound means it was deleted. */
async function checkEndpoint(sns: SNSClient, endpointArn: string): Promise<ReturnType<typeof endpointUpdate>> {
    try {
        const out = await sns.send(new GetEndpointAttributesCommand({ EndpointArn: endpointArn }));
        return endpointUpdate(endpointArn, out.Attributes ?? {});
    } catch (err) {
        if ((err as Error).name === "NotFoundException") return endpointUpdate(endpointArn, undefined);
        throw err; // throttling, access denied: the record is retried through the queue
    }
}

async function applyEmailEvent(
    record: SqsRecord,
    event: Extract<FeedbackEvent, { kind: "email" }>,
    dynamo: Dynamo,
    tables: Tables,
    telemetry: Telemetry,
): Promise<string | undefined> {
    const { log } = telemetry;
    const ids = { notificationId: event.notificationId, recipientKey: event.recipientKey, sesEvent: event.sesEvent };
    if (event.suppressAddress && event.userId) {
        await suppressAddress(
            dynamo,
            tables.preferences,
            event.userId,
            event.suppressAddress,
            event.reason ?? event.status,
            log,
        );
    }
    const now = new Date().toISOString();
    const allowed = overwritableStatuses(event.status);
    const values: Record<string, { S: string }> = { ":status": { S: event.status }, ":now": { S: now } };
    allowed.forEach((s, i) => {
        values[`:from${i}`] = { S: s };
    });
    let update = "SET #status = :status, updatedAt = :now";
    if (event.reason) {
        update += ", reason = :reason";
        values[":reason"] = { S: event.reason };
    }
    // The row moves in (or out of) the sparse status index with its status, as the sender writes it.
    const indexKey = statusIndexKey({ ...event, channel: "email" });
    if (indexKey) {
        update += `, ${STATUS_INDEX_ATTRIBUTE} = :statusShard`;
        values[":statusShard"] = { S: indexKey };
    } else {
        update += ` REMOVE ${STATUS_INDEX_ATTRIBUTE}`;
    }
    try {
        await dynamo.call("UpdateItem", {
            TableName: tables.deliveryLog,
            Key: { notificationId: { S: event.notificationId }, recipientKey: { S: event.recipientKey } },
            UpdateExpression: update,
            ConditionExpression: `attribute_exists(notificationId) AND #status IN (${allowed.map((_, i) => `:from${i}`).join(", ")})`,
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: values,
        });
    } catch (err) {
        const error = err as Error;
        if (error.name !== "ConditionalCheckFailedException") throw error;
        const existing = await dynamo.call("GetItem", {
            TableName: tables.deliveryLog,
            Key: { notificationId: { S: event.notificationId }, recipientKey: { S: event.recipientKey } },
            ConsistentRead: true,
            ProjectionExpression: "notificationId",
        });
        const existed = existing.Item !== undefined;
        const receives = Number(record.attributes?.ApproximateReceiveCount ?? "1");
        if (!existed && receives < MISSING_ROW_MAX_RECEIVES) {
            throw new Error(`delivery-log row ${event.notificationId}/${event.recipientKey} not written yet`);
        }
        log.info("feedback event did not change the row (stale, reordered or unknown)", ids);
        return undefined;
    }
    log.info("delivery log updated from SES", { ...ids, status: event.status });
    return `${JSON.stringify({
        type: "notification.feedback",
        timestamp: now,
        notificationId: event.notificationId,
        recipientKey: event.recipientKey,
        channel: "email",
        status: event.status,
        reason: event.reason,
        userId: event.userId,
        providerMessageId: event.providerMessageId,
    })}\n`;
}

/** Flags the address on the profile row; the e-mail sender suppresses it from then on. */
async function suppressAddress(
    dynamo: Dynamo,
    table: string,
    userId: string,
    address: string,
    reason: string,
    log: Telemetry["log"],
) {
    try {
        await dynamo.call("UpdateItem", {
            TableName: table,
            Key: { userId: { S: userId }, channel: { S: "profile" } },
            UpdateExpression:
                "SET emailSuppressed = :true, emailSuppressedAddress = :address, emailSuppressedReason = :reason, emailSuppressedAt = :now",
            ConditionExpression: "attribute_exists(userId)",
            ExpressionAttributeValues: {
                ":true": { BOOL: true },
                ":address": { S: normalizeEmail(address) },
                ":reason": { S: reason },
                ":now": { S: new Date().toISOString() },
            },
        });
        log.info("address suppressed", { userId, reason });
    } catch (err) {
        if ((err as Error).name !== "ConditionalCheckFailedException") throw err;
        log.warn("no profile to flag the suppressed address on", { userId });
    }
}

/** Disables every device row pointing at the endpoint (normally one). */
async function disableDevicesByEndpoint(
    dynamo: Dynamo,
    table: string,
    endpointArn: string,
    reason: string,
    log: Telemetry["log"],
) {
    const out = await dynamo.call("Query", {
        TableName: table,
        IndexName: "byEndpointArn",
        KeyConditionExpression: "endpointArn = :arn",
        ExpressionAttributeValues: { ":arn": { S: endpointArn } },
        Limit: 10,
    });
    const keys = (out.Items ?? []) as { userId: { S: string }; deviceId: { S: string } }[];
    if (keys.length === 0) log.info("no device for the endpoint", { endpointArn });
    for (const key of keys) {
        try {
            await dynamo.call("UpdateItem", {
                TableName: table,
                Key: { userId: key.userId, deviceId: key.deviceId },
                UpdateExpression: "SET enabled = :false, disabledReason = :reason, disabledAt = :now",
                ConditionExpression: "attribute_exists(userId) AND endpointArn = :arn",
                ExpressionAttributeValues: {
                    ":false": { BOOL: false },
                    ":reason": { S: reason.slice(0, 500) },
                    ":now": { S: new Date().toISOString() },
                    ":arn": { S: endpointArn },
                },
            });
            log.info("device disabled from endpoint event", { userId: key.userId.S, deviceId: key.deviceId.S, reason });
        } catch (err) {
            if ((err as Error).name !== "ConditionalCheckFailedException") throw err;
            continue;
        }
        // The device stream would flip the summary entry too, but until it does the push sender (which
        // reads only the summary) keeps publishing to the dead endpoint; flip it here, as the push
        // sender does when a publish finds an endpoint disabled.
        try {
            await dynamo.call("UpdateItem", {
                TableName: table,
                Key: { userId: key.userId, deviceId: { S: SUMMARY_DEVICE_ID } },
                UpdateExpression: "SET devices.#d.enabled = :false",
                ConditionExpression: "attribute_exists(devices.#d)",
                ExpressionAttributeNames: { "#d": key.deviceId.S },
                ExpressionAttributeValues: { ":false": { BOOL: false } },
            });
        } catch (err) {
            if ((err as Error).name !== "ConditionalCheckFailedException") throw err;
        }
    }
}
