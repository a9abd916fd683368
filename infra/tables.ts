import { STATUS_INDEX_ATTRIBUTE, STATUS_INDEX_NAME } from "../handlers/core/statusIndex";

/**
 * The DynamoDB data model as plain data. infra/storage.ts builds the tables from it and the local
 * emulator harness (test/, sandbox) creates the very same tables from it, so the two cannot drift.
 */

export interface IndexSpec {
    name: string;
    hashKey: string;
    rangeKey?: string;
    /** INCLUDE: the keys plus `nonKeyAttributes` (e.g. the TTL attribute a filter reads on the index). */
    projection: "ALL" | "KEYS_ONLY" | "INCLUDE";
    nonKeyAttributes?: string[];
}

/**
 * A local secondary index: the table's hash key with another range key. Created with the table only
 * (never added later), and it caps each hash key's item collection (table items + index entries) at 10 GB.
 */
export interface LocalIndexSpec {
    name: string;
    rangeKey: string;
    projection: "ALL" | "KEYS_ONLY" | "INCLUDE";
    nonKeyAttributes?: string[];
}

export interface TableSpec {
    hashKey: string;
    rangeKey?: string;
    /** Every key attribute of the table and its indexes (DynamoDB only declares key attributes). */
    attributes: Record<string, "S" | "N">;
    indexes: IndexSpec[];
    localIndexes?: LocalIndexSpec[];
    /** Attribute holding the epoch-seconds expiry that DynamoDB TTL deletes rows by. */
    ttlAttribute?: string;
    /** Stream view, where a consumer reads the table's changes. */
    stream?: "NEW_AND_OLD_IMAGES" | "NEW_IMAGE" | "KEYS_ONLY";
}

export const TABLES = {
    /**
     * One row per device: userId, deviceId, platform (ios|android), token, endpointArn, endpointToken,
     * enabled, disabledReason, disabledAt, lastSeen, expiresAt. Plus one summary item per user
     * (deviceId "#summary", `devices`: deviceId -> {platform, endpointArn, enabled}) that the device
     * maintenance processor keeps from the stream, so the push sender reads a whole batch's devices with
     * BatchGetItem instead of one Query per user. A device not seen for the retention period expires
     * through TTL; the stream's REMOVE record lets device maintenance delete its SNS endpoint.
     */
    devices: {
        hashKey: "userId",
        rangeKey: "deviceId",
        attributes: { userId: "S", deviceId: "S", endpointArn: "S" },
        indexes: [{ name: "byEndpointArn", hashKey: "endpointArn", projection: "KEYS_ONLY" }],
        ttlAttribute: "expiresAt",
        stream: "NEW_AND_OLD_IMAGES",
    },
    /**
     * One row per notification and recipient (recipientKey = channel#userId, or channel#address for an
     * explicit address): userId, channel, status (SENT|DELIVERED|BOUNCED|COMPLAINT|FAILED|SUPPRESSED|
     * DEFERRED), createdAt, updatedAt, reason, providerMessageId, sentDevices (push), campaignId,
     * expiresAt, and statusShard on FAILED/BOUNCED/COMPLAINT rows only. The senders batch-read these rows
     * first: a recipient already recorded is not sent again.
     *
     * Partition arithmetic at 100K deliveries/s (a partition, and an index partition, takes ~1,000 write
     * units/s; a row is < 1 KB, so one write = 1 WCU; a throttled GSI throttles writes to its table):
     * - Table: 100K row writes/s from the senders, plus up to 100K/s feedback updates if every delivery
     *   were an e-mail (DELIVERED), = 200K WCU/s → at least 200 partitions, which DynamoDB reaches by
     *   splitting on the partition key, notificationId: one value per request, so per key ~1 write per
     *   recipient (≤ 100 recipients per request, all in one batch: ≤ 100 writes per key, far below 1,000/s).
     * - The former `byStatus` index (key = status, 7 values, ALL): every write landed under one of 7
     *   keys; SENT alone took ~100K puts/s plus ~100K deletes/s as feedback moved rows to DELIVERED, on
     *   a key whose partition takes ~1,000/s: ~200× over, throttling the table itself.
     * - `byStatusShard` (key = `<status>#<channel>#<0..127>`, sort updatedAt, KEYS_ONLY): sparse — only
     *   FAILED, BOUNCED and COMPLAINT rows carry the key, so SENT/DELIVERED (the bulk) never write to
     *   it. At a 1% failure rate: ~1K index writes/s over 3 channels × 128 shards ≈ 3 writes/s per key.
     *   Worst case, a whole channel failing at 100K/s: 100,000 / 128 ≈ 781 writes/s per key, under 1,000.
     *   Bounces/complaints (≤ a few % of e-mail) add ≤ 30 writes/s per key at full e-mail traffic.
     * - The query it serves, "FAILED in the last hour on a channel", is 128 Queries (one per shard,
     *   `updatedAt >= now-1h`) merged newest-first: handlers/core/statusIndex.ts, README "Status index".
     */
    deliveryLog: {
        hashKey: "notificationId",
        rangeKey: "recipientKey",
        attributes: {
            notificationId: "S",
            recipientKey: "S",
            statusShard: "S",
            updatedAt: "S",
            userId: "S",
            createdAt: "S",
        },
        indexes: [
            {
                name: STATUS_INDEX_NAME,
                hashKey: STATUS_INDEX_ATTRIBUTE,
                rangeKey: "updatedAt",
                projection: "KEYS_ONLY",
            },
            { name: "byRecipient", hashKey: "userId", rangeKey: "createdAt", projection: "ALL" },
        ],
        ttlAttribute: "expiresAt",
    },
    /**
     * Per user and channel (push|email|sms): optIn, quietHours {start,end}; per user a `profile` row:
     * timezone, locale, email, phone, segment, and the e-mail suppression the feedback processor sets
     * on a permanent bounce or complaint. Campaigns page through an audience with bySegment.
     */
    preferences: {
        hashKey: "userId",
        rangeKey: "channel",
        attributes: { userId: "S", channel: "S", segment: "S" },
        indexes: [{ name: "bySegment", hashKey: "segment", rangeKey: "userId", projection: "KEYS_ONLY" }],
    },
    /** Per template and locale: title, body (push), subject, html, text (email), sms. */
    templates: {
        hashKey: "templateId",
        rangeKey: "locale",
        attributes: { templateId: "S", locale: "S" },
        indexes: [],
    },
    /**
     * The in-app inbox: one item per user and notification, keyed `userId` + `notificationId`, so the
     * in-app sender's conditional PutItem (`attribute_not_exists(notificationId)`) lets any later copy of a
     * request — a redelivery, a copy past its lease, or a duplicate publish queued at another time — find
     * the item instead of adding a second one (and a read item stays read). `itemId`
     * (`<13-digit epoch ms the request was queued>_<notificationId>`, handlers/core/inbox.ts) is an
     * attribute sorting by time: the local index `byTime` (range key itemId, ALL) lists newest first with
     * one Query (ScanIndexForward=false). Attributes: itemId, title, body, data, createdAt, read, readAt,
     * expiresAt (TTL, config `inboxTtlDays`). `unreadUserId` (= userId) exists only while the item is
     * unread: the sparse `byUnread` GSI then holds exactly the unread items (keys plus `expiresAt`), so the
     * unread count is one COUNT Query on it that filters out items past their TTL not yet deleted, and
     * mark-as-read is one UpdateItem that removes the attribute.
     *
     * The local index caps a user's item collection (items + byTime entries) at 10 GB, which the TTL keeps
     * far away: an item is ≤ ~17.5 KB (title 200 and body 4,000 UTF-16 units at ≤ 3 UTF-8 bytes each,
     * data 4 KB, the rest < 1 KB), stored twice (ALL projection) ≤ 35 KB; a user holds at most
     * rateLimitInappPerHour × 24 × inboxTtlDays live items — 50 × 24 × 90 = 108,000 by default, ≤ 3.8 GB.
     * The cap is reached only when rateLimitInappPerHour × inboxTtlDays exceeds ~12,000 with every item at
     * its maximum size (TTL deletion also lags by up to a few days: keep the product well below that).
     */
    inbox: {
        hashKey: "userId",
        rangeKey: "notificationId",
        attributes: { userId: "S", notificationId: "S", itemId: "S", unreadUserId: "S" },
        indexes: [
            {
                name: "byUnread",
                hashKey: "unreadUserId",
                rangeKey: "itemId",
                projection: "INCLUDE",
                nonKeyAttributes: ["expiresAt"],
            },
        ],
        localIndexes: [{ name: "byTime", rangeKey: "itemId", projection: "ALL" }],
        ttlAttribute: "expiresAt",
    },
    /**
     * Short-lived keyed state of the processors, in the layout Powertools idempotency uses (key `id`,
     * TTL `expiration`): per-user hourly rate-limit counters (`rate#<channel>#<user>#<yyyymmddhh>`) and
     * campaign run checkpoints.
     */
    idempotency: {
        hashKey: "id",
        attributes: { id: "S" },
        indexes: [],
        ttlAttribute: "expiration",
    },
} satisfies Record<string, TableSpec>;

export type TableName = keyof typeof TABLES;
