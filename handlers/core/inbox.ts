/**
 * The in-app inbox's item id, shared by the inbox sender (which writes items) and the inbox routes
 * (which list them and mark them read). `<13-digit epoch ms the request was queued>_<notificationId>`:
 * it sorts by time, so a Query on the inbox's local index `byTime` with ScanIndexForward=false lists newest
 * first, and it names the notification, which with the user is the item's table key (infra/tables.ts
 * `inbox`): a route finds the item from the id alone.
 */
import { ID_PATTERN } from "./request";

export const INBOX_ITEM_ID_PATTERN = /^(\d{13})_([A-Za-z0-9_-]{1,128})$/;

export function inboxItemId(queuedAtMs: number, notificationId: string): string {
    if (!Number.isSafeInteger(queuedAtMs) || queuedAtMs < 0 || queuedAtMs > 9_999_999_999_999) {
        throw new RangeError(`inbox item time ${queuedAtMs} is not an epoch-ms value of 13 digits or fewer`);
    }
    if (!ID_PATTERN.test(notificationId)) throw new RangeError(`'${notificationId}' is not a notification id`);
    return `${String(queuedAtMs).padStart(13, "0")}_${notificationId}`;
}

/** The parts of an item id, or undefined for anything that is not one (a path parameter is user input). */
export function parseInboxItemId(itemId: string): { queuedAtMs: number; notificationId: string } | undefined {
    const match = INBOX_ITEM_ID_PATTERN.exec(itemId);
    return match ? { queuedAtMs: Number(match[1]), notificationId: match[2] } : undefined;
}
