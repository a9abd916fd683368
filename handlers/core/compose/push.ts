/** Push: the user's enabled devices (from their summary), one platform payload each, minus devices already reached. */
import { buildPushMessage, type ApnsPlatform, type PushMessage } from "../push";
import { renderPush, type PushContent, type Rendered } from "../templates";
import type { DeviceSummary } from "../types";
import type { Composer } from "./composer";

export interface PushTarget {
    deviceId: string;
    endpointArn: string;
    push: PushMessage;
}

export interface PushDelivery {
    channel: "push";
    targets: PushTarget[];
    /** Devices an earlier attempt of this record reached (kept in the delivery log, not sent again). */
    alreadySent: string[];
}

/** The device summaries of the batch's users, by userId (pushSender's enrich step). */
export type DeviceSummaries = Map<string, DeviceSummary>;

/** `apnsPlatform`: which APNs payload key the stack's platform application expects. */
export function pushComposer(apnsPlatform: ApnsPlatform): Composer<PushDelivery, DeviceSummaries> {
    return {
        channel: "push",
        defaultOptIn: true,
        compose({ request, recipient, variant, values, enrichment, previous }) {
            const alreadySent = previous?.sentDevices ?? [];
            const summary = recipient.userId ? enrichment.get(recipient.userId) : undefined;
            const devices = Object.entries(summary?.devices ?? {}).filter(([, d]) => d.enabled && d.endpointArn);
            if (devices.length === 0) return { kind: "fail", reason: "user has no enabled devices" };
            const content: Rendered<PushContent> = variant
                ? renderPush(variant, values)
                : { ok: true, content: { title: request.title, body: request.body! } };
            if (!content.ok) return { kind: "fail", reason: content.reason };
            const targets: PushTarget[] = [];
            for (const [deviceId, device] of devices) {
                const built = buildPushMessage({
                    platform: device.platform,
                    apnsPlatform,
                    content: content.content,
                    data: values,
                    notificationId: request.notificationId,
                    priority: request.priority,
                });
                if (!built.ok) return { kind: "fail", reason: built.reason };
                if (!alreadySent.includes(deviceId))
                    targets.push({ deviceId, endpointArn: device.endpointArn!, push: built.push });
            }
            return { kind: "send", delivery: { channel: "push", targets, alreadySent } };
        },
    };
}
