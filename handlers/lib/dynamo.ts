/**
 * The DynamoDB access the processors share: an SDK v3 client (provided by the nodejs22.x runtime, so
 * no package ships in the archive) behind a one-method interface, plus the batch helpers that read and
 * write a whole SQS batch at once. The SDK's standard retry handles throttling of single calls; the
 * helpers below retry what a batch call leaves unprocessed. Created inside each callbackFactory.
 */
import {
    BatchGetItemCommand,
    BatchWriteItemCommand,
    DynamoDBClient,
    GetItemCommand,
    PutItemCommand,
    QueryCommand,
    TransactWriteItemsCommand,
    UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { AttributeMap } from "../core/attributes";

export interface DynamoError extends Error {
    name: string;
}

export interface Dynamo {
    /** Sends one DynamoDB operation by name with its JSON-protocol input; SDK errors keep their `name`. */
    // biome-ignore lint/suspicious/noExplicitAny: callers name the output shape they read
    call<T = any>(operation: DynamoOperation, input: object): Promise<T>;
}

export type DynamoOperation =
    | "BatchGetItem"
    | "BatchWriteItem"
    | "GetItem"
    | "PutItem"
    | "Query"
    | "TransactWriteItems"
    | "UpdateItem";

export function createDynamo(): Dynamo {
    const client = new DynamoDBClient({});
    // Built here, not at module level: a closure captures module-level objects by value.
    // biome-ignore lint/suspicious/noExplicitAny: one table of SDK command classes with different input types
    const commands: Record<DynamoOperation, new (input: any) => any> = {
        BatchGetItem: BatchGetItemCommand,
        BatchWriteItem: BatchWriteItemCommand,
        GetItem: GetItemCommand,
        PutItem: PutItemCommand,
        Query: QueryCommand,
        TransactWriteItems: TransactWriteItemsCommand,
        UpdateItem: UpdateItemCommand,
    };
    // biome-ignore lint/suspicious/noExplicitAny: see commands
    return { call: (operation, input) => client.send(new commands[operation](input)) as Promise<any> };
}

export interface TableKeys {
    table: string;
    keys: AttributeMap[];
    consistentRead?: boolean;
}

const BATCH_GET_MAX_KEYS = 100;
const BATCH_WRITE_MAX_ITEMS = 25;
const MAX_UNPROCESSED_ROUNDS = 8;

/**
 * BatchGetItem over several tables at once, 100 keys per call (keys of different tables share a call),
 * retrying UnprocessedKeys with backoff a bounded number of times. Returns the items per table.
 */
export async function batchGetAll(
    dynamo: Dynamo,
    requests: TableKeys[],
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<Map<string, AttributeMap[]>> {
    const results = new Map<string, AttributeMap[]>(requests.map((r) => [r.table, []]));
    const consistent = new Map(requests.map((r) => [r.table, r.consistentRead ?? false]));
    const pending: { table: string; key: AttributeMap }[] = [];
    for (const r of requests) {
        const seen = new Set<string>();
        for (const key of r.keys) {
            const id = JSON.stringify(key);
            if (!seen.has(id)) pending.push({ table: r.table, key });
            seen.add(id);
        }
    }
    for (let i = 0; i < pending.length; i += BATCH_GET_MAX_KEYS) {
        let requestItems = toRequestItems(pending.slice(i, i + BATCH_GET_MAX_KEYS), consistent);
        for (let round = 0; Object.keys(requestItems).length > 0; round++) {
            if (round === MAX_UNPROCESSED_ROUNDS) throw new Error("BatchGetItem kept returning unprocessed keys");
            if (round > 0) await sleep(Math.random() * Math.min(1_000, 50 * 2 ** round));
            const out = await dynamo.call("BatchGetItem", { RequestItems: requestItems });
            for (const [table, items] of Object.entries((out.Responses ?? {}) as Record<string, AttributeMap[]>)) {
                results.get(table)?.push(...items);
            }
            requestItems = out.UnprocessedKeys ?? {};
        }
    }
    return results;
}

function toRequestItems(slice: { table: string; key: AttributeMap }[], consistent: Map<string, boolean>) {
    const items: Record<string, { Keys: AttributeMap[]; ConsistentRead: boolean }> = {};
    for (const { table, key } of slice) {
        items[table] ??= { Keys: [], ConsistentRead: consistent.get(table) ?? false };
        items[table].Keys.push(key);
    }
    return items;
}

/** BatchWriteItem puts over several tables, 25 per call, retrying UnprocessedItems a bounded number of times. */
export async function batchPutAll(
    dynamo: Dynamo,
    puts: { table: string; item: AttributeMap }[],
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<void> {
    for (let i = 0; i < puts.length; i += BATCH_WRITE_MAX_ITEMS) {
        let requestItems: Record<string, unknown[]> = {};
        for (const { table, item } of puts.slice(i, i + BATCH_WRITE_MAX_ITEMS)) {
            requestItems[table] ??= [];
            requestItems[table].push({ PutRequest: { Item: item } });
        }
        for (let round = 0; Object.keys(requestItems).length > 0; round++) {
            if (round === MAX_UNPROCESSED_ROUNDS) throw new Error("BatchWriteItem kept returning unprocessed items");
            if (round > 0) await sleep(Math.random() * Math.min(1_000, 50 * 2 ** round));
            const out = await dynamo.call("BatchWriteItem", { RequestItems: requestItems });
            requestItems = out.UnprocessedItems ?? {};
        }
    }
}
