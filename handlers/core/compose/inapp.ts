/**
 * In-app: an item in the user's inbox (infra/tables.ts `inbox`). Title and body come from the template's
 * push fields or from the request's direct content, bounded so one item stays small whatever a producer
 * sends; the item id comes from when the request was queued (core/inbox.ts), so a retry of the same
 * message builds the same item and the sender's conditional write can never add a second one.
 */
import { inboxItemId } from "../inbox";
import { type PushContent, type Rendered, renderPush } from "../templates";
import type { DataValue } from "../types";
import type { Composer } from "./composer";

/** Characters of an item's title, body, and bytes of its data (JSON): an inbox lists 100 items at once. */
export const INBOX_TITLE_MAX_CHARS = 200;
export const INBOX_BODY_MAX_CHARS = 4_000;
export const INBOX_DATA_MAX_BYTES = 4_096;

export interface InappDelivery {
    channel: "inapp";
    userId: string;
    itemId: string;
    notificationId: string;
    title: string;
    body: string;
    data?: Record<string, DataValue>;
    /** ISO time the request was queued: the same on every retry. */
    createdAt: string;
}

export const inappComposer: Composer<InappDelivery, undefined> = {
    channel: "inapp",
    defaultOptIn: true,
    // An inbox item is read when the user opens the app: it never wakes anyone, so it is never held back.
    holdsForQuietHours: false,
    compose({ request, recipient, variant, values, queuedAt }) {
        const userId = recipient.userId;
        if (!userId) return { kind: "fail", reason: "in-app needs a userId (the inbox is per user)" };
        const content: Rendered<PushContent> = variant
            ? renderPush(variant, values)
            : { ok: true, content: { title: request.title ?? request.subject, body: request.body! } };
        if (!content.ok) return { kind: "fail", reason: content.reason };
        const title = content.content.title ?? "";
        const body = content.content.body;
        if (title.length > INBOX_TITLE_MAX_CHARS)
            return {
                kind: "fail",
                reason: `in-app title is ${title.length} characters, above ${INBOX_TITLE_MAX_CHARS}`,
            };
        if (body.length > INBOX_BODY_MAX_CHARS)
            return { kind: "fail", reason: `in-app body is ${body.length} characters, above ${INBOX_BODY_MAX_CHARS}` };
        const data = request.data && Object.keys(request.data).length > 0 ? request.data : undefined;
        const dataBytes = data ? Buffer.byteLength(JSON.stringify(data), "utf8") : 0;
        if (dataBytes > INBOX_DATA_MAX_BYTES)
            return { kind: "fail", reason: `in-app data is ${dataBytes} bytes as JSON, above ${INBOX_DATA_MAX_BYTES}` };
        const delivery: InappDelivery = {
            channel: "inapp",
            userId,
            itemId: inboxItemId(queuedAt, request.notificationId),
            notificationId: request.notificationId,
            title,
            body,
            createdAt: new Date(queuedAt).toISOString(),
        };
        if (data) delivery.data = data;
        return { kind: "send", delivery };
    },
};

/**
 * The inbox item (plain attributes, infra/tables.ts `inbox`) for a delivery: unread (so `unreadUserId`
 * puts it in the sparse byUnread index), expiring `ttlDays` after it was queued. Deterministic: the same
 * delivery always gives the same item.
 */
export function inboxItem(delivery: InappDelivery, ttlDays: number): Record<string, unknown> {
    const queuedAt = Date.parse(delivery.createdAt);
    const item: Record<string, unknown> = {
        userId: delivery.userId,
        itemId: delivery.itemId,
        notificationId: delivery.notificationId,
        title: delivery.title,
        body: delivery.body,
        createdAt: delivery.createdAt,
        read: false,
        unreadUserId: delivery.userId,
        expiresAt: Math.floor(queuedAt / 1000) + ttlDays * 86_400,
    };
    if (delivery.data) item.data = delivery.data;
    return item;
}
