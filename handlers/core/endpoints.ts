/**
 * Device maintenance decisions: the SNS platform-endpoint lifecycle (create, "already exists with
 * different attributes", re-enable with a new token, delete) driven by the devices table's stream, and
 * the per-user device summary the push sender reads in one BatchGetItem.
 */
import type { DevicePlatform, DeviceSummaryEntry } from "./types";

export const SUMMARY_DEVICE_ID = "#summary";

/** A device row as the stream shows it. */
export interface DeviceRow {
    userId: string;
    deviceId: string;
    platform?: string;
    token?: string;
    endpointArn?: string;
    /** The token the endpoint was last synchronized with (written back with endpointArn). */
    endpointToken?: string;
    enabled?: boolean;
}

export interface DeviceStreamChange {
    eventName: "INSERT" | "MODIFY" | "REMOVE";
    oldImage?: DeviceRow;
    newImage?: DeviceRow;
}

export type DeviceAction =
    | { kind: "none"; reason: string }
    /** Create or repair the endpoint for the row's token, write endpointArn back, refresh the summary. */
    | { kind: "ensure-endpoint"; device: DeviceRow & { platform: DevicePlatform; token: string } }
    /** Only the summary entry changes (enabled flag or endpoint ARN). */
    | { kind: "update-summary"; userId: string; deviceId: string; entry: DeviceSummaryEntry }
    /** The row is gone (TTL expiry or explicit deletion): drop its summary entry and its endpoint. */
    | { kind: "delete-device"; userId: string; deviceId: string; endpointArn?: string }
    | { kind: "invalid"; reason: string };

const isPlatform = (p: unknown): p is DevicePlatform => p === "ios" || p === "android";

export function summaryEntry(row: DeviceRow & { platform: DevicePlatform }): DeviceSummaryEntry {
    const entry: DeviceSummaryEntry = { platform: row.platform, enabled: row.enabled !== false };
    if (row.endpointArn) entry.endpointArn = row.endpointArn;
    return entry;
}

export function decideDeviceAction(change: DeviceStreamChange): DeviceAction {
    const row = change.newImage ?? change.oldImage;
    if (!row) return { kind: "invalid", reason: "stream record without an image" };
    if (row.deviceId === SUMMARY_DEVICE_ID) return { kind: "none", reason: "summary item" };
    if (change.eventName === "REMOVE") {
        const old = change.oldImage ?? row;
        return { kind: "delete-device", userId: old.userId, deviceId: old.deviceId, endpointArn: old.endpointArn };
    }
    const next = change.newImage!;
    if (!isPlatform(next.platform))
        return {
            kind: "invalid",
            reason: `device ${next.deviceId} has platform '${next.platform}' (ios|android expected)`,
        };
    const platform = next.platform;
    if (next.enabled !== false) {
        if (!next.token) return { kind: "invalid", reason: `device ${next.deviceId} has no token` };
        const tokenChanged = next.token !== next.endpointToken;
        const reEnabled = change.oldImage?.enabled === false;
        if (!next.endpointArn || tokenChanged || reEnabled) {
            return { kind: "ensure-endpoint", device: { ...next, platform, token: next.token } };
        }
    }
    // Only our own write-back (endpointArn/endpointToken) or a disable reaches here: refresh the
    // summary when what it mirrors changed, otherwise stop (this is what breaks the stream loop).
    const before =
        change.oldImage && isPlatform(change.oldImage.platform)
            ? summaryEntry({ ...change.oldImage, platform: change.oldImage.platform })
            : undefined;
    const after = summaryEntry({ ...next, platform });
    if (before && JSON.stringify(before) === JSON.stringify(after))
        return { kind: "none", reason: "nothing the summary mirrors changed" };
    return { kind: "update-summary", userId: next.userId, deviceId: next.deviceId, entry: after };
}

/**
 * CreatePlatformEndpoint fails with InvalidParameter when an endpoint with the same token but other
 * attributes exists; the message names it: "Invalid parameter: Token Reason: Endpoint <arn> already
 * exists with the same Token, but different attributes."
 */
export function parseExistingEndpointArn(message: string): string | undefined {
    const m = /Endpoint (arn:aws[\w-]*:sns:[\w-]+:\d{12}:endpoint\/\S+?) already exists/i.exec(message);
    return m?.[1];
}

/** The SetEndpointAttributes an endpoint needs to deliver to `token` again, or undefined if none. */
export function endpointRepair(
    attributes: Record<string, string | undefined>,
    token: string,
): Record<string, string> | undefined {
    if (attributes.Token === token && attributes.Enabled === "true") return undefined;
    return { Token: token, Enabled: "true" };
}
