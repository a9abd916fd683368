/**
 * `PUT /v1/me/devices/{deviceId}` and `DELETE /v1/me/devices/{deviceId}`, pure: the device id and the
 * token checked per platform, and the devices-table writes the stream processor (handlers/
 * deviceMaintenance.ts, core/endpoints.ts) consumes. The row is written with an UpdateItem, never a
 * Put: `endpointArn`/`endpointToken` (device maintenance's write-back) stay, so a new token repairs
 * the same SNS endpoint instead of leaving the old one behind. The user is always the caller's.
 */
import type { AttributeMap } from "../attributes";
import { marshall } from "../attributes";
import { SUMMARY_DEVICE_ID } from "../endpoints";
import type { DevicePlatform } from "../types";
import { type FieldError, type HttpApiEvent, type Parsed, parseJsonObject, problem } from "./http";

/** A device id: the app's own name for the install ([A-Za-z0-9_-], so never the `#summary` item). */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/**
 * APNs device token as hex: 32 bytes (64 hex digits) today; Apple says the length may change, so any
 * even-length hex string of 64 to 200 digits is accepted (stored lower-case: case never means a new token).
 */
export const APNS_TOKEN_PATTERN = /^(?:[0-9a-fA-F]{2}){32,100}$/;
/**
 * FCM registration token: Google documents it as opaque. Tokens seen are ~140-163 characters of
 * [A-Za-z0-9_-] with a `:` (some clients report longer ones and `.`, `%`, `/`, `+`, `=`), up to the
 * 4 KB some SDKs allow; a 22-character Firebase installation id (FID) is not a token.
 */
export const FCM_TOKEN_PATTERN = /^[A-Za-z0-9_:.%/+=-]{32,4096}$/;
export const DEVICE_BODY_MAX_BYTES = 8192;
/** FCM treats a token inactive for 270 days as expired: the row's TTL default (config may change it). */
export const DEFAULT_DEVICE_TTL_DAYS = 270;

export interface DeviceRegistration {
    deviceId: string;
    platform: DevicePlatform;
    token: string;
}

export function validDeviceId(value: string | undefined): value is string {
    return typeof value === "string" && DEVICE_ID_PATTERN.test(value) && value !== SUMMARY_DEVICE_ID;
}

function deviceIdError(deviceId: string | undefined): FieldError | undefined {
    return validDeviceId(deviceId) ? undefined : { field: "deviceId", problem: "must match [A-Za-z0-9_-]{1,128}" };
}

/** The path's device id, or the 400 answer. */
export function parseDeviceId(event: HttpApiEvent): Parsed<string> {
    const deviceId = event.pathParameters?.deviceId;
    const error = deviceIdError(deviceId);
    if (error) return { ok: false, result: problem(400, "Invalid device id", [error]) };
    return { ok: true, value: deviceId as string };
}

function tokenError(platform: DevicePlatform, token: unknown): FieldError | undefined {
    if (typeof token !== "string") return { field: "token", problem: "must be a string" };
    if (platform === "ios" && !APNS_TOKEN_PATTERN.test(token))
        return { field: "token", problem: "must be an APNs device token: an even number (64-200) of hex digits" };
    if (platform === "android" && !FCM_TOKEN_PATTERN.test(token))
        return { field: "token", problem: "must be an FCM registration token: 32-4096 of [A-Za-z0-9_:.%/+=-]" };
    return undefined;
}

/** The whole PUT request (path and body), or the 400/413 answer listing every problem. */
export function parseDeviceRegistration(event: HttpApiEvent): Parsed<DeviceRegistration> {
    const body = parseJsonObject(event, { maxBytes: DEVICE_BODY_MAX_BYTES, fields: ["platform", "token"] });
    if (!body.ok) return body;
    const deviceId = event.pathParameters?.deviceId;
    const { platform, token } = body.value;
    const errors: FieldError[] = [];
    const idError = deviceIdError(deviceId);
    if (idError) errors.push(idError);
    if (platform !== "ios" && platform !== "android") {
        errors.push({ field: "platform", problem: "must be ios or android" });
    } else {
        const error = tokenError(platform, token);
        if (error) errors.push(error);
    }
    if (errors.length > 0) return { ok: false, result: problem(400, "Invalid device registration", errors) };
    const normalized = platform === "ios" ? (token as string).toLowerCase() : (token as string);
    return {
        ok: true,
        value: { deviceId: deviceId as string, platform: platform as DevicePlatform, token: normalized },
    };
}

/**
 * The UpdateItem input that registers (or refreshes) the device of `userId`: platform, token, enabled
 * (an app registering its token again re-enables an endpoint the platform disabled; device maintenance
 * then sets Enabled=true on it), lastSeen and the TTL `expiresAt`, and drops the disable markers. A
 * device id registered with the other platform is refused by the condition (its endpoint belongs to
 * the other platform application): the app deletes it first.
 */
export function registerDeviceUpdate(
    table: string,
    userId: string,
    device: DeviceRegistration,
    now: number,
    ttlDays: number,
) {
    return {
        TableName: table,
        Key: marshall({ userId, deviceId: device.deviceId }),
        UpdateExpression:
            "SET #platform = :platform, #token = :token, #enabled = :enabled, #lastSeen = :now, #expiresAt = :expiresAt REMOVE #disabledReason, #disabledAt",
        ConditionExpression: "attribute_not_exists(#platform) OR #platform = :platform",
        ExpressionAttributeNames: Object.fromEntries(
            ["platform", "token", "enabled", "lastSeen", "expiresAt", "disabledReason", "disabledAt"].map((n) => [
                `#${n}`,
                n,
            ]),
        ),
        ExpressionAttributeValues: marshall({
            ":platform": device.platform,
            ":token": device.token,
            ":enabled": true,
            ":now": new Date(now).toISOString(),
            ":expiresAt": Math.floor(now / 1000) + ttlDays * 86_400,
        }),
    };
}

/** The DeleteItem input for a device of `userId` (the stream's REMOVE deletes its endpoint). */
export function deleteDeviceInput(
    table: string,
    userId: string,
    deviceId: string,
): { TableName: string; Key: AttributeMap } {
    return { TableName: table, Key: marshall({ userId, deviceId }) };
}

export function deviceTtlDays(raw: string | undefined): number {
    if (raw === undefined || raw === "") return DEFAULT_DEVICE_TTL_DAYS;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 3650) throw new Error(`device TTL ${raw} is not 1-3650 days`);
    return value;
}
