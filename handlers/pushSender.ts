/**
 * Push sender (push channel queue -> SNS mobile push). Publishes to each enabled device's platform
 * endpoint (TargetArn, MessageStructure json); a disabled or vanished endpoint marks the device
 * disabled and is not retried; throttling backs off within the time budget, then the record goes back
 * to the queue with the devices already reached remembered in the delivery log.
 */
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { type DeviceSummaries, type PushDelivery, pushComposer } from "./core/compose/push";
import { SUMMARY_DEVICE_ID } from "./core/endpoints";
import type { ApnsPlatform } from "./core/push";
import type { DeviceSummary } from "./core/types";
import { type AttributeMap, marshall, unmarshall } from "./core/attributes";
import { callWithBackoff, isRetryable, providerClientConfig, SEND_TIME_GUARD_MS } from "./lib/backoff";
import { createDynamo, type Dynamo } from "./lib/dynamo";
import { ENV, PUSH_ENV, readEnvironment } from "./lib/env";
import type { Logger } from "./lib/log";
import { type DeliverArgs, type DeliveryResult, failedDelivery } from "./lib/pipeline/channel";
import { createSenderHandler, senderSetup } from "./lib/sender";
import { createTelemetry } from "./lib/telemetry";

export function pushSender() {
    const telemetry = createTelemetry();
    const sns = new SNSClient(providerClientConfig());
    const dynamo = createDynamo();
    const env = readEnvironment(PUSH_ENV);
    const devicesTable = env.devicesTable;
    const apnsPlatform = env.apnsPlatform as ApnsPlatform;
    if (apnsPlatform !== "APNS" && apnsPlatform !== "APNS_SANDBOX")
        throw new Error(`${ENV.apnsPlatform} must be APNS or APNS_SANDBOX`);
    return createSenderHandler(senderSetup("push", telemetry, dynamo), {
        composer: pushComposer(apnsPlatform),
        // Only push reads device summaries: in the batch's first read round, with everything else.
        reads: (userIds) => [
            { table: devicesTable, keys: userIds.map((userId) => marshall({ userId, deviceId: SUMMARY_DEVICE_ID })) },
        ],
        enrich: async ({ items }) => deviceSummaries(items(devicesTable)),
        deliver: (args) => deliverPush(args, sns, dynamo, devicesTable, telemetry.log),
    });
}

/** Row mapping of the #summary items read for the batch. */
export function deviceSummaries(items: AttributeMap[]): DeviceSummaries {
    const summaries: DeviceSummaries = new Map();
    for (const raw of items) {
        const item = unmarshall(raw);
        summaries.set(item.userId as string, {
            userId: item.userId as string,
            devices: (item.devices ?? {}) as DeviceSummary["devices"],
        });
    }
    return summaries;
}

/** Publishes to every target device; the result is SENT as soon as one device (now or earlier) got it. */
export async function deliverPush(
    args: DeliverArgs<PushDelivery>,
    sns: SNSClient,
    dynamo: Dynamo,
    devicesTable: string,
    log: Logger,
): Promise<DeliveryResult> {
    const sentDevices = [...args.delivery.alreadySent];
    let providerMessageId: string | undefined;
    const problems: string[] = [];
    for (const target of args.delivery.targets) {
        const result = await callWithBackoff(
            () =>
                sns.send(
                    new PublishCommand({
                        TargetArn: target.endpointArn,
                        MessageStructure: "json",
                        Message: target.push.message,
                        MessageAttributes: target.push.attributes,
                    }),
                ),
            args.remaining,
            // Each device's publish is guarded: out of time, the devices reached so far are kept (PENDING).
            { target: "push-endpoint", minRemainingMs: SEND_TIME_GUARD_MS },
        );
        if (result.ok) {
            sentDevices.push(target.deviceId);
            providerMessageId ??= result.value.MessageId;
            continue;
        }
        const { error, errorClass } = result;
        if (isRetryable(errorClass)) return failedDelivery(result, { sentDevices });
        if (errorClass === "endpoint-gone") {
            problems.push(`device ${target.deviceId}: ${error.name}`);
            await disableDevice(
                dynamo,
                devicesTable,
                args.userId!,
                target.deviceId,
                `${error.name}: ${error.message}`,
                log,
            );
            continue;
        }
        problems.push(`device ${target.deviceId}: ${error.name}: ${error.message}`);
    }
    if (sentDevices.length > 0) return { status: "SENT", providerMessageId, sentDevices };
    return { status: "FAILED", reason: problems.join("; ") || "no device accepted the notification" };
}

/** Marks a dead device disabled; the device stream then drops it from the user's summary. */
async function disableDevice(
    dynamo: Dynamo,
    table: string,
    userId: string,
    deviceId: string,
    reason: string,
    log: Logger,
) {
    try {
        await dynamo.call("UpdateItem", {
            TableName: table,
            Key: { userId: { S: userId }, deviceId: { S: deviceId } },
            UpdateExpression: "SET enabled = :false, disabledReason = :reason, disabledAt = :now",
            ConditionExpression: "attribute_exists(userId)",
            ExpressionAttributeValues: {
                ":false": { BOOL: false },
                ":reason": { S: reason.slice(0, 500) },
                ":now": { S: new Date().toISOString() },
            },
        });
        // The stream would also update the summary; doing it here closes the window in which the next
        // batch still reads the device as enabled.
        await dynamo.call("UpdateItem", {
            TableName: table,
            Key: { userId: { S: userId }, deviceId: { S: SUMMARY_DEVICE_ID } },
            UpdateExpression: "SET devices.#d.enabled = :false",
            ConditionExpression: "attribute_exists(devices.#d)",
            ExpressionAttributeNames: { "#d": deviceId },
            ExpressionAttributeValues: { ":false": { BOOL: false } },
        });
        log.info("device disabled", { userId, deviceId, reason });
    } catch (error) {
        // The row may be gone already (deleted, expired); nothing else to do for a dead endpoint.
        log.warn("could not disable device", { userId, deviceId, error });
    }
}
