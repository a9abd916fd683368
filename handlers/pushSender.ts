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
import type { ErrorClass } from "./core/retry";
import { type DeliverArgs, type DeliveryResult, failedDelivery, uncertainReason } from "./lib/pipeline/channel";
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

/**
 * Publishes to every target device, each on its own: a retryable failure on one device does not stop
 * the others (the map order of the user's devices is not fixed), and only the devices left retryable
 * are published to again on the redelivery (the others are in sentDevices). A device whose publish got
 * no answer past the uncertain-send policy counts as done (in sentDevices, never published again) and
 * marks the row uncertain. The result is SENT as soon as one device (now or earlier) surely got it.
 */
export async function deliverPush(
    args: DeliverArgs<PushDelivery>,
    sns: SNSClient,
    dynamo: Dynamo,
    devicesTable: string,
    log: Logger,
): Promise<DeliveryResult> {
    const done = [...args.delivery.alreadySent];
    let reached = done.length;
    let providerMessageId: string | undefined;
    let uncertainAttempts = 0;
    const problems: string[] = [];
    const uncertainDevices: string[] = [];
    let retryable: { error: Error; errorClass: ErrorClass } | undefined;
    for (const target of args.delivery.targets) {
        const result = await publishToDevice(args, sns, target);
        uncertainAttempts += result.uncertainAttempts ?? 0;
        if (result.ok) {
            done.push(target.deviceId);
            reached++;
            providerMessageId ??= result.value.MessageId;
            continue;
        }
        const { error, errorClass } = result;
        if (result.uncertainAttempts) {
            done.push(target.deviceId);
            uncertainDevices.push(target.deviceId);
            problems.push(
                `device ${target.deviceId}: ${uncertainReason(result.uncertainAttempts, `${error.name}: ${error.message}`)}`,
            );
        } else if (isRetryable(errorClass)) {
            retryable ??= result;
        } else if (errorClass === "endpoint-gone") {
            problems.push(`device ${target.deviceId}: ${error.name}`);
            const reason = `${error.name}: ${error.message}`;
            await disableDevice(dynamo, devicesTable, args.userId!, target.deviceId, reason, log);
        } else problems.push(`device ${target.deviceId}: ${error.name}: ${error.message}`);
    }
    const counted = uncertainAttempts > 0 ? { uncertainAttempts } : {};
    const uncertain = uncertainAttempts > 0 ? { uncertain: true } : {};
    if (retryable) return { ...failedDelivery(retryable, { sentDevices: done }), ...uncertain, ...counted };
    if (reached > 0) return { status: "SENT", providerMessageId, sentDevices: done, ...uncertain, ...counted };
    if (uncertainDevices.length > 0)
        return { status: "UNCERTAIN", reason: problems.join("; "), sentDevices: done, ...counted };
    return { status: "FAILED", reason: problems.join("; ") || "no device accepted the notification" };
}

/** One device's publish, with backoff; each is guarded: out of time, the devices done so far are kept. */
function publishToDevice(args: DeliverArgs<PushDelivery>, sns: SNSClient, target: PushDelivery["targets"][number]) {
    return callWithBackoff(
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
        { target: "push-endpoint", minRemainingMs: SEND_TIME_GUARD_MS, uncertainResends: args.uncertainResends },
    );
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
