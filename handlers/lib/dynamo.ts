/**
 * A small DynamoDB client speaking the JSON protocol (SigV4-signed with the function's credentials),
 * plus the batch helpers the processors use. Why not @aws-sdk/client-dynamodb: this project does not
 * install it (the nodejs22.x runtime ships it, the local emulator tests could not load it), and a
 * hand-written client keeps the closures runnable in both places. Endpoint resolution follows the SDK's
 * standard variables (AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL), so emulator tests need no
 * plumbing of their own. Plain closures, no classes: it is created inside each callbackFactory.
 */
import { createHash, createHmac } from "crypto";
import type { AttributeMap } from "../core/attributes";

export interface DynamoError extends Error {
    name: string;
    httpStatusCode?: number;
}

export interface Dynamo {
    call<T = any>(operation: string, input: object): Promise<T>;
    /** Counts of requests sent per operation (what a benchmark of API calls reads). */
    readonly calls: Map<string, number>;
}

// An array, not a Set: closure serialization turns a captured Set into a plain object.
const RETRYABLE = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
];
const MAX_CALL_ATTEMPTS = 4;

const sha256Hex = (data: string) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();

function resolveEndpoint(region: string): URL {
    const configured = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL;
    return new URL(configured ?? `https://dynamodb.${region}.amazonaws.com`);
}

function dynamoError(code: string, message: string, status?: number): DynamoError {
    const err = new Error(`${code}: ${message}`) as DynamoError;
    err.name = code;
    err.httpStatusCode = status;
    return err;
}

function signedHeaders(url: URL, region: string, body: string, target: string): Record<string, string> {
    const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) throw new Error("AWS credentials are not in the environment");
    const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const day = amzDate.slice(0, 8);
    const headers: Record<string, string> = {
        "content-type": "application/x-amz-json-1.0",
        host: url.host,
        "x-amz-date": amzDate,
        "x-amz-target": target,
    };
    if (process.env.AWS_SESSION_TOKEN) headers["x-amz-security-token"] = process.env.AWS_SESSION_TOKEN;
    const names = Object.keys(headers).sort();
    const canonical = ["POST", url.pathname || "/", "", ...names.map((h) => `${h}:${headers[h]}`), "", names.join(";"), sha256Hex(body)].join("\n");
    const scope = `${day}/${region}/dynamodb/aws4_request`;
    const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
    let key = hmac(`AWS4${secretAccessKey}`, day);
    for (const part of [region, "dynamodb", "aws4_request"]) key = hmac(key, part);
    const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
    const { host: _host, ...sent } = headers;
    return {
        ...sent,
        authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
    };
}

export function createDynamo(options: { region?: string; sleep?: (ms: number) => Promise<void> } = {}): Dynamo {
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const url = resolveEndpoint(region);
    const calls = new Map<string, number>();

    const once = async (operation: string, body: string) => {
        calls.set(operation, (calls.get(operation) ?? 0) + 1);
        const headers = signedHeaders(url, region, body, `DynamoDB_20120810.${operation}`);
        const res = await fetch(url, { method: "POST", headers, body });
        const text = await res.text();
        const parsed = text ? JSON.parse(text) : {};
        if (!res.ok) {
            const code = String(parsed.__type ?? `HTTP${res.status}`).split("#").pop()!;
            throw dynamoError(code, parsed.message ?? parsed.Message ?? text, res.status);
        }
        return parsed;
    };

    return {
        calls,
        call: async (operation, input) => {
            const body = JSON.stringify(input);
            for (let attempt = 0; ; attempt++) {
                try {
                    return await once(operation, body);
                } catch (err) {
                    const e = err as DynamoError;
                    const retryable = RETRYABLE.includes(e.name) || (e.httpStatusCode ?? 0) >= 500 || e.name === "TypeError";
                    if (!retryable || attempt + 1 >= MAX_CALL_ATTEMPTS) throw err;
                    await sleep(Math.random() * Math.min(1_000, 50 * 2 ** attempt));
                }
            }
        },
    };
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
            (requestItems[table] ??= []).push({ PutRequest: { Item: item } });
        }
        for (let round = 0; Object.keys(requestItems).length > 0; round++) {
            if (round === MAX_UNPROCESSED_ROUNDS) throw new Error("BatchWriteItem kept returning unprocessed items");
            if (round > 0) await sleep(Math.random() * Math.min(1_000, 50 * 2 ** round));
            const out = await dynamo.call("BatchWriteItem", { RequestItems: requestItems });
            requestItems = out.UnprocessedItems ?? {};
        }
    }
}
