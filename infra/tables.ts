import { STATUS_INDEX_ATTRIBUTE, STATUS_INDEX_NAME } from "../handlers/core/statusIndex";

/**
 * The DynamoDB data model as plain data. infra/storage.ts builds the tables from it and the local
 * emulator harness (test/, sandbox) creates the very same tables from it, so the two cannot drift.
 */

export interface IndexSpec {
    name: string;
    hashKey: string;
    rangeKey?: string;
    projection: "ALL" | "KEYS_ONLY";
}

export interface TableSpec {
    hashKey: string;
    rangeKey?: string;
    /** Every key attribute of the table and its indexes (DynamoDB only declares key attributes). */
    attributes: Record<string, "S" | "N">;
    indexes: IndexSpec[];
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
     * The in-app inbox: one item per user and notification, newest first. `itemId` is
     * `<13-digit epoch ms the request was queued>_<notificationId>` (handlers/core/inbox.ts), so a
     * retry writes the same item and a Query with ScanIndexForward=false lists newest first. Attributes:
     * notificationId, title, body, data, createdAt, read, readAt, expiresAt (TTL, config `inboxTtlDays`).
     * `unreadUserId` (= userId) exists only while the item is unread: the sparse KEYS_ONLY `byUnread`
     * index then holds exactly the unread items, so the unread count is one COUNT Query on it and
     * mark-as-read is one UpdateItem that removes the attribute.
     */
    inbox: {
        hashKey: "userId",
        rangeKey: "itemId",
        attributes: { userId: "S", itemId: "S", unreadUserId: "S" },
        indexes: [{ name: "byUnread", hashKey: "unreadUserId", rangeKey: "itemId", projection: "KEYS_ONLY" }],
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
