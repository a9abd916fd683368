/**
 * Device maintenance (devices table stream): keeps each device's SNS platform endpoint in step with its
 * row (create; "already exists with different attributes" -> reuse the ARN from the message; re-enable
 * with the new token; delete on REMOVE, i.e. TTL expiry or deletion) and maintains the per-user summary
 * item (deviceId "#summary") the push sender batch-reads. Writing endpointArn back changes the row
 * again; the decision core recognizes its own write-back and stops there, so the stream never loops.
 * Records are processed in order; at the first failure the rest of the batch is left for the retry.
 */
import {
    CreatePlatformEndpointCommand,
    DeleteEndpointCommand,
    GetEndpointAttributesCommand,
    SetEndpointAttributesCommand,
    SNSClient,
} from "@aws-sdk/client-sns";
import { marshall, unmarshall, type AttributeMap } from "./core/attributes";
import {
    decideDeviceAction,
    endpointRepair,
    parseExistingEndpointArn,
    SUMMARY_DEVICE_ID,
    summaryEntry,
    type DeviceRow,
    type DeviceStreamChange,
} from "./core/endpoints";
import type { DevicePlatform, DeviceSummaryEntry } from "./core/types";
import { createDynamo, type Dynamo } from "./lib/dynamo";
import { ENV, requireEnv } from "./lib/env";
import type { Logger } from "./lib/log";
import type { LambdaContext } from "./lib/lambda";
import { createTelemetry } from "./lib/telemetry";

export interface DynamoStreamRecord {
    eventID?: string;
    eventName?: "INSERT" | "MODIFY" | "REMOVE";
    dynamodb?: { SequenceNumber?: string; NewImage?: AttributeMap; OldImage?: AttributeMap };
}

interface Deps {
    sns: SNSClient;
    dynamo: Dynamo;
    table: string;
    applications: Record<DevicePlatform, string | undefined>;
    log: Logger;
}

/**
 * A problem retrying cannot fix (bad token, unconfigured platform): logged and acknowledged. A plain
 * Error marked by name: closure serialization rewrites classes (an Error subclass lost its message).
 */
const PERMANENT = "PermanentDeviceError";
function permanentError(message: string): Error {
    const error = new Error(message);
    error.name = PERMANENT;
    return error;
}

export function deviceMaintenance() {
    const telemetry = createTelemetry();
    const deps: Deps = {
        sns: new SNSClient({}),
        dynamo: createDynamo(),
        table: requireEnv(ENV.devicesTable),
        applications: {
            ios: process.env[ENV.apnsApplicationArn] || undefined,
            android: process.env[ENV.fcmApplicationArn] || undefined,
        },
        log: telemetry.log,
    };
    return async (event: { Records: DynamoStreamRecord[] }, context?: LambdaContext) => {
        telemetry.log.addContext(context);
        for (const record of event.Records ?? []) {
            try {
                await handleRecord(record, deps);
            } catch (error) {
                if ((error as Error).name === PERMANENT) {
                    telemetry.log.warn("device record cannot be acted on; acknowledged", {
                        eventID: record.eventID,
                        reason: (error as Error).message,
                    });
                    continue;
                }
                telemetry.log.error("device record failed; retrying from here", { eventID: record.eventID, error });
                return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? "" }] };
            }
        }
        return { batchItemFailures: [] };
    };
}

function toChange(record: DynamoStreamRecord): DeviceStreamChange | undefined {
    if (!record.eventName) return undefined;
    const image = (m?: AttributeMap) => (m ? (unmarshall(m) as unknown as DeviceRow) : undefined);
    return {
        eventName: record.eventName,
        oldImage: image(record.dynamodb?.OldImage),
        newImage: image(record.dynamodb?.NewImage),
    };
}

async function handleRecord(record: DynamoStreamRecord, deps: Deps): Promise<void> {
    const change = toChange(record);
    if (!change) throw permanentError("stream record without an event name");
    const action = decideDeviceAction(change);
    switch (action.kind) {
        case "none":
            return;
        case "invalid":
            throw permanentError(action.reason);
        case "update-summary":
            await putSummaryEntry(deps, action.userId, action.deviceId, action.entry);
            return;
        case "delete-device":
            await removeSummaryEntry(deps, action.userId, action.deviceId);
            if (action.endpointArn)
                await deleteEndpointIfUnused(deps, action.endpointArn, action.userId, action.deviceId);
            return;
        case "ensure-endpoint": {
            const { device } = action;
            const endpointArn = await ensureEndpoint(deps, device);
            if (endpointArn !== device.endpointArn || device.token !== device.endpointToken) {
                await writeBack(deps, device, endpointArn);
            }
            await putSummaryEntry(
                deps,
                device.userId,
                device.deviceId,
                summaryEntry({ ...device, endpointArn, enabled: true }),
            );
            return;
        }
    }
}

/** The lifecycle of engineering notes §4: create -> get -> (re-create if gone) -> set token/enabled. */
async function ensureEndpoint(
    deps: Deps,
    device: DeviceRow & { platform: DevicePlatform; token: string },
): Promise<string> {
    const application = deps.applications[device.platform];
    if (!application) throw permanentError(`no platform application configured for ${device.platform}`);
    let arn = device.endpointArn ?? (await createEndpoint(deps, application, device));
    let attributes = await getAttributes(deps, arn);
    if (!attributes) {
        arn = await createEndpoint(deps, application, device);
        attributes = (await getAttributes(deps, arn)) ?? {};
    }
    const repair = endpointRepair(attributes, device.token);
    if (repair) await deps.sns.send(new SetEndpointAttributesCommand({ EndpointArn: arn, Attributes: repair }));
    deps.log.info("endpoint ready", {
        userId: device.userId,
        deviceId: device.deviceId,
        endpointArn: arn,
        repaired: !!repair,
    });
    return arn;
}

async function createEndpoint(deps: Deps, application: string, device: DeviceRow & { token: string }): Promise<string> {
    try {
        const out = await deps.sns.send(
            new CreatePlatformEndpointCommand({
                PlatformApplicationArn: application,
                Token: device.token,
                CustomUserData: `${device.userId}/${device.deviceId}`,
            }),
        );
        if (!out.EndpointArn) throw new Error("CreatePlatformEndpoint returned no EndpointArn");
        return out.EndpointArn;
    } catch (err) {
        const error = err as Error;
        if (error.name !== "InvalidParameterException" && error.name !== "InvalidParameter") throw error;
        const existing = parseExistingEndpointArn(error.message);
        if (existing) return existing; // same token, other attributes: take it over and repair it
        throw permanentError(`token rejected by SNS: ${error.message}`);
    }
}

async function getAttributes(deps: Deps, arn: string): Promise<Record<string, string> | undefined> {
    try {
        const out = await deps.sns.send(new GetEndpointAttributesCommand({ EndpointArn: arn }));
        return out.Attributes ?? {};
    } catch (err) {
        if ((err as Error).name === "NotFoundException" || (err as Error).name === "NotFound") return undefined;
        throw err;
    }
}

/** Records the endpoint on the row, only if the token is still the one it was created for. */
async function writeBack(deps: Deps, device: DeviceRow & { token: string }, endpointArn: string) {
    try {
        await deps.dynamo.call("UpdateItem", {
            TableName: deps.table,
            Key: marshall({ userId: device.userId, deviceId: device.deviceId }),
            UpdateExpression: "SET endpointArn = :arn, endpointToken = :token",
            ConditionExpression: "#token = :token",
            ExpressionAttributeNames: { "#token": "token" },
            ExpressionAttributeValues: marshall({ ":arn": endpointArn, ":token": device.token }),
        });
    } catch (err) {
        // A newer token (or a deletion) won the race: its own stream record brings the endpoint in step.
        if ((err as Error).name !== "ConditionalCheckFailedException") throw err;
        deps.log.info("device changed during endpoint sync; its next stream record takes over", {
            deviceId: device.deviceId,
        });
    }
}

const summaryKey = (userId: string) => marshall({ userId, deviceId: SUMMARY_DEVICE_ID });

/** An UpdateItem on the summary item; false when its condition did not hold. */
async function updateSummary(deps: Deps, userId: string, update: Record<string, unknown>): Promise<boolean> {
    try {
        await deps.dynamo.call("UpdateItem", { TableName: deps.table, Key: summaryKey(userId), ...update });
        return true;
    } catch (err) {
        if ((err as Error).name !== "ConditionalCheckFailedException") throw err;
        return false;
    }
}

/** Sets one device's entry in the summary map, creating the map on the first device. */
async function putSummaryEntry(deps: Deps, userId: string, deviceId: string, entry: DeviceSummaryEntry) {
    const now = new Date().toISOString();
    for (let attempt = 0; attempt < 3; attempt++) {
        const set = await updateSummary(deps, userId, {
            UpdateExpression: "SET devices.#d = :entry, updatedAt = :now",
            ConditionExpression: "attribute_exists(devices)",
            ExpressionAttributeNames: { "#d": deviceId },
            ExpressionAttributeValues: marshall({ ":entry": entry, ":now": now }),
        });
        if (set) return;
        // No map yet: create it; if another invocation created it in between, set the entry on it.
        const created = await updateSummary(deps, userId, {
            UpdateExpression: "SET devices = :devices, updatedAt = :now",
            ConditionExpression: "attribute_not_exists(devices)",
            ExpressionAttributeValues: marshall({ ":devices": { [deviceId]: entry }, ":now": now }),
        });
        if (created) return;
    }
    throw new Error(`could not update the device summary of ${userId}`);
}

async function removeSummaryEntry(deps: Deps, userId: string, deviceId: string) {
    await updateSummary(deps, userId, {
        UpdateExpression: "REMOVE devices.#d",
        ConditionExpression: "attribute_exists(devices)",
        ExpressionAttributeNames: { "#d": deviceId },
    });
}

/**
 * Deletes the endpoint unless another device row still points at it (a token handed over to another
 * row reuses the same endpoint through "already exists").
 */
async function deleteEndpointIfUnused(deps: Deps, endpointArn: string, userId: string, deviceId: string) {
    const out = await deps.dynamo.call("Query", {
        TableName: deps.table,
        IndexName: "byEndpointArn",
        KeyConditionExpression: "endpointArn = :arn",
        ExpressionAttributeValues: marshall({ ":arn": endpointArn }),
        Limit: 2,
    });
    const others = ((out.Items ?? []) as AttributeMap[])
        .map((i) => unmarshall(i))
        .filter((i) => !(i.userId === userId && i.deviceId === deviceId));
    if (others.length > 0) {
        deps.log.info("endpoint still used by another device; kept", { endpointArn });
        return;
    }
    try {
        await deps.sns.send(new DeleteEndpointCommand({ EndpointArn: endpointArn }));
        deps.log.info("endpoint deleted", { userId, deviceId, endpointArn });
    } catch (err) {
        if ((err as Error).name !== "NotFoundException" && (err as Error).name !== "NotFound") throw err;
    }
}
