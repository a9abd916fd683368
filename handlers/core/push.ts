/**
 * Per-platform payloads for SNS mobile push (Publish with TargetArn and MessageStructure "json"): the
 * values under APNS / APNS_SANDBOX / GCM are JSON *strings*; GCM uses the FCM v1 shape.
 */
import type { DataValue, DevicePlatform, Priority } from "./types";
import type { PushContent } from "./templates";

/** APNs and FCM both reject a notification payload above 4 KB. */
export const MAX_PUSH_PAYLOAD_BYTES = 4096;

export type ApnsPlatform = "APNS" | "APNS_SANDBOX";

export interface PushMessage {
    /** The Publish `Message` (MessageStructure "json"). */
    message: string;
    /** Publish MessageAttributes, in the SDK's shape. */
    attributes: Record<string, { DataType: "String"; StringValue: string }>;
    /** Size of the platform payload that APNs/FCM will see. */
    payloadBytes: number;
}

export type BuiltPush = { ok: true; push: PushMessage } | { ok: false; reason: string };

const byteLength = (s: string) => new TextEncoder().encode(s).length;

export function apnsPayload(content: PushContent, data: Record<string, DataValue>, notificationId: string): object {
    const alert: Record<string, string> = { body: content.body };
    if (content.title) alert.title = content.title;
    return { aps: { alert, sound: "default" }, notificationId, data };
}

/** FCM v1 message; FCM data values must be strings. */
export function fcmV1Payload(
    content: PushContent,
    data: Record<string, DataValue>,
    notificationId: string,
    priority: Priority,
): object {
    const notification: Record<string, string> = { body: content.body };
    if (content.title) notification.title = content.title;
    const stringData: Record<string, string> = { notificationId };
    for (const [k, v] of Object.entries(data)) stringData[k] = String(v);
    return {
        fcmV1Message: {
            message: {
                notification,
                data: stringData,
                android: { priority: priority === "high" ? "HIGH" : "NORMAL" },
            },
        },
    };
}

/** The Publish message for one device platform, or why it cannot be sent (e.g. over 4 KB). */
export function buildPushMessage(args: {
    platform: DevicePlatform;
    apnsPlatform: ApnsPlatform;
    content: PushContent;
    data: Record<string, DataValue>;
    notificationId: string;
    priority: Priority;
}): BuiltPush {
    const { platform, apnsPlatform, content, data, notificationId, priority } = args;
    const key = platform === "ios" ? apnsPlatform : "GCM";
    const payload = JSON.stringify(
        platform === "ios"
            ? apnsPayload(content, data, notificationId)
            : fcmV1Payload(content, data, notificationId, priority),
    );
    const payloadBytes = byteLength(payload);
    if (payloadBytes > MAX_PUSH_PAYLOAD_BYTES) {
        return {
            ok: false,
            reason: `${key} payload is ${payloadBytes} bytes, above the ${MAX_PUSH_PAYLOAD_BYTES}-byte limit`,
        };
    }
    const attributes: PushMessage["attributes"] = {};
    if (platform === "ios") {
        attributes["AWS.SNS.MOBILE.APNS.PUSH_TYPE"] = { DataType: "String", StringValue: "alert" };
        attributes["AWS.SNS.MOBILE.APNS.PRIORITY"] = {
            DataType: "String",
            StringValue: priority === "high" ? "10" : "5",
        };
    }
    return {
        ok: true,
        push: { message: JSON.stringify({ default: content.body, [key]: payload }), attributes, payloadBytes },
    };
}
