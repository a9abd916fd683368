/**
 * The delivery log's status index (`byStatusShard`, see infra/tables.ts for the partition arithmetic):
 * a sparse, sharded, KEYS_ONLY index holding only the rows an operator investigates — FAILED, BOUNCED
 * and COMPLAINT — under the key `<status>#<channel>#<shard>`, sorted by updatedAt. The shard is a hash of
 * the row's key, so the sender that writes a row and the feedback processor that updates it compute the
 * same value without reading it. Pure: the queries are built here, run by whoever holds a client.
 */
import { createHash } from "node:crypto";
import type { Channel, DeliveryStatus } from "./types";

export const STATUS_INDEX_NAME = "byStatusShard";
/** The index's partition-key attribute on delivery-log rows. */
export const STATUS_INDEX_ATTRIBUTE = "statusShard";
/**
 * Shards per (status, channel): a whole channel failing at 100K deliveries/s spreads over 128 keys at
 * ~780 writes/s each, under the ~1,000 writes/s one partition key takes.
 */
export const STATUS_INDEX_SHARDS = 128;
/** The statuses the index holds (an array, not a Set: closures copy a captured Set as a plain object). */
export const INDEXED_STATUSES: readonly DeliveryStatus[] = ["FAILED", "BOUNCED", "COMPLAINT"];

/** The shard of a delivery-log row: stable for its key, uniform over 0..STATUS_INDEX_SHARDS-1. */
export function statusShard(notificationId: string, recipientKey: string): number {
    const digest = createHash("sha256").update(`${notificationId}\n${recipientKey}`).digest();
    return digest.readUInt32BE(0) % STATUS_INDEX_SHARDS;
}

/**
 * The index key a row with this status carries, or undefined when the status is not indexed (the row
 * then carries no attribute and is not in the index at all: SENT and DELIVERED, the bulk of the
 * traffic, never write to it).
 */
export function statusIndexKey(row: {
    notificationId: string;
    recipientKey: string;
    channel: Channel;
    status: DeliveryStatus;
}): string | undefined {
    if (!INDEXED_STATUSES.includes(row.status)) return undefined;
    return `${row.status}#${row.channel}#${statusShard(row.notificationId, row.recipientKey)}`;
}

/** The Query input of one shard (DynamoDB's wire shape; run it with any client). */
export interface StatusShardQuery {
    TableName: string;
    IndexName: string;
    KeyConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, { S: string }>;
    ScanIndexForward: false;
    Limit?: number;
}

export interface StatusQuery {
    tableName: string;
    status: DeliveryStatus;
    channel: Channel;
    /** ISO-8601 instant: rows updated at or after it ("in the last hour": now - 1 h). */
    since: string;
    /** ISO-8601 instant: rows updated before it (default: no upper bound). */
    until?: string;
    /** Page size per shard. */
    limit?: number;
}

/** One Query per shard of (status, channel), newest first, bounded by since (and until). */
export function statusShardQueries(q: StatusQuery): StatusShardQuery[] {
    if (!INDEXED_STATUSES.includes(q.status)) {
        throw new Error(`the status index holds ${INDEXED_STATUSES.join(", ")} only, not ${q.status}`);
    }
    for (const [name, value] of [
        ["since", q.since],
        ["until", q.until],
    ] as const) {
        if (value !== undefined && Number.isNaN(Date.parse(value)))
            throw new Error(`${name} '${value}' is not an ISO-8601 instant`);
    }
    const range = q.until ? "#updatedAt BETWEEN :since AND :until" : "#updatedAt >= :since";
    return Array.from({ length: STATUS_INDEX_SHARDS }, (_, shard) => ({
        TableName: q.tableName,
        IndexName: STATUS_INDEX_NAME,
        KeyConditionExpression: `#shard = :shard AND ${range}`,
        ExpressionAttributeNames: { "#shard": STATUS_INDEX_ATTRIBUTE, "#updatedAt": "updatedAt" },
        ExpressionAttributeValues: {
            ":shard": { S: `${q.status}#${q.channel}#${shard}` },
            ":since": { S: q.since },
            ...(q.until ? { ":until": { S: q.until } } : {}),
        },
        ScanIndexForward: false,
        ...(q.limit ? { Limit: q.limit } : {}),
    }));
}

/** A row of the index (KEYS_ONLY: the table's keys and the index's). */
export interface StatusIndexEntry {
    notificationId: string;
    recipientKey: string;
    updatedAt: string;
}

/** The entries of every shard's pages as one list, newest first (ties by key, so the order is stable). */
export function mergeStatusPages(items: Record<string, { S?: string }>[][]): StatusIndexEntry[] {
    const entries = items.flat().map((item) => ({
        notificationId: item.notificationId?.S ?? "",
        recipientKey: item.recipientKey?.S ?? "",
        updatedAt: item.updatedAt?.S ?? "",
    }));
    return entries.sort(
        (a, b) =>
            b.updatedAt.localeCompare(a.updatedAt) ||
            a.notificationId.localeCompare(b.notificationId) ||
            a.recipientKey.localeCompare(b.recipientKey),
    );
}

/**
 * Runs the shard queries through `query` (e.g. `(input) => client.send(new QueryCommand(input))`),
 * following each shard's LastEvaluatedKey, at most `concurrency` shards at a time, and merges the result.
 */
export async function queryStatusIndex<Key>(
    q: StatusQuery,
    query: (
        input: StatusShardQuery & { ExclusiveStartKey?: Key },
    ) => Promise<{ Items?: Record<string, { S?: string }>[]; LastEvaluatedKey?: Key }>,
    concurrency = 16,
): Promise<StatusIndexEntry[]> {
    const pending = statusShardQueries(q);
    const pages: Record<string, { S?: string }>[][] = [];
    const worker = async () => {
        for (let input = pending.shift(); input; input = pending.shift()) {
            let next: (StatusShardQuery & { ExclusiveStartKey?: Key }) | undefined = input;
            while (next) {
                const out = await query(next);
                pages.push(out.Items ?? []);
                next = out.LastEvaluatedKey ? { ...next, ExclusiveStartKey: out.LastEvaluatedKey } : undefined;
            }
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    return mergeStatusPages(pages);
}
