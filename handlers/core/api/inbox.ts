/**
 * The inbox routes, pure: `GET /v1/me/inbox?cursor=&limit=`, `POST /v1/me/inbox/{id}/read`,
 * `POST /v1/me/inbox/read-all`. Query and update inputs on the inbox table (infra/tables.ts `inbox`:
 * newest first by `itemId`, the sparse `byUnread` index holding exactly the unread items), the item
 * view, and the page cursor.
 *
 * The cursor is the Query's LastEvaluatedKey reduced to its `itemId` (the `userId` half is the caller
 * by construction), bound to the caller and authenticated: `<itemId>.<HMAC-SHA256(key, v1|user|itemId)>`
 * in base64url. A cursor that was altered, made up, or issued to another user fails the MAC: 400.
 * The key is derived, once per container, from the stack's KMS HMAC key (infra/cursorMacKey.ts):
 * GenerateMac(HMAC_SHA_256) over CURSOR_KEY_LABEL gives 32 bytes that never leave the function's memory;
 * cursors are then signed and checked locally, and the MAC is compared in constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { marshall } from "../attributes";
import { INBOX_ITEM_ID_PATTERN, parseInboxItemId } from "../inbox";
import { type FieldError, type HttpApiEvent, type Parsed, problem } from "./http";

export const UNREAD_INDEX = "byUnread";
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** Items marked read by one `read-all` call; the unread count of the list says whether any remain. */
export const READ_ALL_BATCH = 100;
/** The cursor key is an HMAC-SHA-256 output: exactly this many bytes, never fewer. */
export const CURSOR_KEY_BYTES = 32;
/** The KMS MAC algorithm of the derivation (the only one the key policy and the route's role allow). */
export const CURSOR_MAC_ALGORITHM = "HMAC_SHA_256";
/** The fixed message whose KMS MAC is the cursor key; a new label (v2) would make a new key. */
export const CURSOR_KEY_LABEL = "notify/inbox-cursor/v1";
const CURSOR_VERSION = "v1";

export interface InboxItemView {
    id: string;
    notificationId: string;
    title: string;
    body: string;
    data?: Record<string, unknown>;
    createdAt: string;
    read: boolean;
    readAt?: string;
}

export interface InboxPage {
    items: InboxItemView[];
    unreadCount: number;
    nextCursor?: string;
}

export interface PageRequest {
    limit: number;
    /** The itemId to continue after (from a verified cursor). */
    after?: string;
}

/** The cursor key from GenerateMac's `Mac`: exactly 32 bytes, or an error (never a weaker key). */
export function cursorKeyFromMac(mac: Uint8Array | undefined): Buffer {
    if (!mac || mac.length !== CURSOR_KEY_BYTES)
        throw new Error(
            `GenerateMac returned ${mac?.length ?? "no"} bytes, not the ${CURSOR_KEY_BYTES} of HMAC-SHA-256`,
        );
    return Buffer.from(mac);
}

function mac(key: Buffer, userId: string, itemId: string): Buffer {
    return createHmac("sha256", key).update(`${CURSOR_VERSION}|${userId}|${itemId}`).digest();
}

export function encodeCursor(key: Buffer, userId: string, itemId: string): string {
    return `${Buffer.from(itemId).toString("base64url")}.${mac(key, userId, itemId).toString("base64url")}`;
}

/** The itemId a cursor continues after, when it is one this platform issued to `userId`; else undefined. */
export function verifyCursor(key: Buffer, userId: string, cursor: string): string | undefined {
    const match = /^([A-Za-z0-9_-]{1,256})\.([A-Za-z0-9_-]{43})$/.exec(cursor);
    if (!match) return undefined;
    const itemId = Buffer.from(match[1], "base64url").toString("utf8");
    if (!INBOX_ITEM_ID_PATTERN.test(itemId)) return undefined;
    const given = Buffer.from(match[2], "base64url");
    // Only the canonical spelling: base64's unused trailing bits would otherwise let an altered
    // string decode to the same bytes and pass.
    if (Buffer.from(itemId).toString("base64url") !== match[1] || given.toString("base64url") !== match[2])
        return undefined;
    const expected = mac(key, userId, itemId);
    return given.length === expected.length && timingSafeEqual(given, expected) ? itemId : undefined;
}

/** `limit` (1-100, default 20) and `cursor` of the list, or the 400 answer. */
export function parsePageRequest(event: HttpApiEvent, key: Buffer, userId: string): Parsed<PageRequest> {
    const query = event.queryStringParameters ?? {};
    const errors: FieldError[] = [];
    let limit = DEFAULT_PAGE_SIZE;
    if (query.limit !== undefined) {
        limit = /^\d{1,3}$/.test(query.limit) ? Number(query.limit) : Number.NaN;
        if (!(limit >= 1 && limit <= MAX_PAGE_SIZE))
            errors.push({ field: "limit", problem: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
    }
    let after: string | undefined;
    if (query.cursor !== undefined && query.cursor !== "") {
        after = verifyCursor(key, userId, query.cursor);
        if (after === undefined) errors.push({ field: "cursor", problem: "is not a cursor this inbox issued to you" });
    }
    if (errors.length > 0) return { ok: false, result: problem(400, "Invalid inbox query", errors) };
    return { ok: true, value: after ? { limit, after } : { limit } };
}

/** The path's item id, or the 400 answer (an id that cannot exist is not looked up). */
export function parseItemIdParam(event: HttpApiEvent): Parsed<string> {
    const id = event.pathParameters?.id;
    if (typeof id !== "string" || !parseInboxItemId(id))
        return {
            ok: false,
            result: problem(400, "Invalid inbox item id", [
                { field: "id", problem: "must be an inbox item id (<13-digit time>_<notificationId>)" },
            ]),
        };
    return { ok: true, value: id };
}

/** One page of the caller's items, newest first, leaving out items past their TTL not yet deleted. */
export function pageQuery(table: string, userId: string, page: PageRequest, nowMs: number) {
    return {
        TableName: table,
        KeyConditionExpression: "userId = :user",
        FilterExpression: "attribute_not_exists(expiresAt) OR expiresAt > :now",
        ExpressionAttributeValues: marshall({ ":user": userId, ":now": Math.floor(nowMs / 1000) }),
        ScanIndexForward: false,
        Limit: page.limit,
        ...(page.after ? { ExclusiveStartKey: marshall({ userId, itemId: page.after }) } : {}),
    };
}

/** The caller's unread items on the sparse index: COUNT for the list, keys for read-all. */
export function unreadQuery(table: string, userId: string, select: "COUNT" | "KEYS", limit?: number) {
    return {
        TableName: table,
        IndexName: UNREAD_INDEX,
        KeyConditionExpression: "unreadUserId = :user",
        ExpressionAttributeValues: marshall({ ":user": userId }),
        ...(select === "COUNT" ? { Select: "COUNT" as const } : { ProjectionExpression: "itemId" }),
        ...(limit ? { Limit: limit } : {}),
    };
}

/**
 * Marks one of the caller's items read: the key is the caller's, so another user's item id finds no
 * item and the condition fails (404); `readAt` keeps the first time.
 */
export function markReadUpdate(table: string, userId: string, itemId: string, nowMs: number) {
    return {
        TableName: table,
        Key: marshall({ userId, itemId }),
        UpdateExpression: "SET #read = :true, readAt = if_not_exists(readAt, :now) REMOVE unreadUserId",
        ConditionExpression: "attribute_exists(userId)",
        ExpressionAttributeNames: { "#read": "read" },
        ExpressionAttributeValues: marshall({ ":true": true, ":now": new Date(nowMs).toISOString() }),
    };
}

/** The contract's view of a stored item (rows without the contract's fields are shown with what they have). */
export function itemView(row: Record<string, unknown>): InboxItemView {
    const view: InboxItemView = {
        id: String(row.itemId),
        notificationId: String(row.notificationId ?? ""),
        title: String(row.title ?? ""),
        body: String(row.body ?? ""),
        createdAt: String(row.createdAt ?? ""),
        read: row.read === true,
    };
    if (row.data && typeof row.data === "object" && !Array.isArray(row.data))
        view.data = row.data as Record<string, unknown>;
    if (typeof row.readAt === "string") view.readAt = row.readAt;
    return view;
}

/** The page answer: items, unread count, and a cursor when the Query stopped before the end. */
export function inboxPage(
    key: Buffer,
    userId: string,
    rows: Record<string, unknown>[],
    lastItemId: string | undefined,
    unreadCount: number,
): InboxPage {
    const page: InboxPage = { items: rows.map(itemView), unreadCount };
    if (lastItemId) page.nextCursor = encodeCursor(key, userId, lastItemId);
    return page;
}
