/**
 * A small DynamoDB JSON-protocol client for the harness side (creating tables, seeding rows, reading the
 * delivery log back). The project does not install @aws-sdk/client-dynamodb (the nodejs22.x runtime
 * ships it), so the harness speaks the wire protocol itself, SigV4-signed, against dynalite.
 */
import { createHash, createHmac } from "crypto";

export type AttributeValue =
    | { S: string }
    | { N: string }
    | { BOOL: boolean }
    | { NULL: true }
    | { SS: string[] }
    | { NS: string[] }
    | { L: AttributeValue[] }
    | { M: Record<string, AttributeValue> };

export type Item = Record<string, unknown>;

/** Plain JS value -> DynamoDB AttributeValue (strings, finite numbers, booleans, null, arrays, objects, Sets of strings). */
export function marshallValue(value: unknown): AttributeValue {
    if (value === null) return { NULL: true };
    if (typeof value === "string") return { S: value };
    if (typeof value === "number") {
        if (!Number.isFinite(value)) throw new Error(`cannot store non-finite number ${value}`);
        return { N: String(value) };
    }
    if (typeof value === "boolean") return { BOOL: value };
    if (Array.isArray(value)) return { L: value.map(marshallValue) };
    if (value instanceof Set) return { SS: [...value].map(String) };
    if (typeof value === "object") return { M: marshall(value as Item) };
    throw new Error(`cannot store a value of type ${typeof value}`);
}

/** Plain object -> DynamoDB item; undefined properties are left out, as the SDK's removeUndefinedValues does. */
export function marshall(item: Item): Record<string, AttributeValue> {
    const out: Record<string, AttributeValue> = {};
    for (const [key, value] of Object.entries(item)) if (value !== undefined) out[key] = marshallValue(value);
    return out;
}

export function unmarshallValue(value: AttributeValue): unknown {
    if ("S" in value) return value.S;
    if ("N" in value) return Number(value.N);
    if ("BOOL" in value) return value.BOOL;
    if ("NULL" in value) return null;
    if ("SS" in value) return new Set(value.SS);
    if ("NS" in value) return new Set(value.NS.map(Number));
    if ("L" in value) return value.L.map(unmarshallValue);
    if ("M" in value) return unmarshall(value.M);
    throw new Error(`unsupported attribute value ${JSON.stringify(value)}`);
}

export function unmarshall(item: Record<string, AttributeValue>): Item {
    const out: Item = {};
    for (const [key, value] of Object.entries(item)) out[key] = unmarshallValue(value);
    return out;
}

/** A DynamoDB error response, with its `__type` short name (e.g. ConditionalCheckFailedException). */
export class DynamoError extends Error {
    constructor(public readonly code: string, message: string) {
        super(`${code}: ${message}`);
    }
}

export interface DynamoClientConfig {
    endpoint: string;
    region: string;
    accessKeyId?: string;
    secretAccessKey?: string;
}

const sha256Hex = (data: string) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();

export class DynamoHttpClient {
    /** Number of requests sent, per operation: lets tests separate harness calls from handler calls. */
    public readonly calls = new Map<string, number>();

    constructor(private readonly config: DynamoClientConfig) {}

    async call<T = any>(operation: string, input: object): Promise<T> {
        this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
        const url = new URL(this.config.endpoint);
        const body = JSON.stringify(input);
        const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
        const day = amzDate.slice(0, 8);
        const target = `DynamoDB_20120810.${operation}`;
        const headers: Record<string, string> = {
            "content-type": "application/x-amz-json-1.0",
            host: url.host,
            "x-amz-date": amzDate,
            "x-amz-target": target,
        };
        // SigV4, as the SDK would sign it (dynalite checks the header's shape, real DynamoDB the signature).
        const signedHeaders = Object.keys(headers).sort();
        const canonical = [
            "POST",
            "/",
            "",
            ...signedHeaders.map((h) => `${h}:${headers[h]}`),
            "",
            signedHeaders.join(";"),
            sha256Hex(body),
        ].join("\n");
        const scope = `${day}/${this.config.region}/dynamodb/aws4_request`;
        const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
        const secret = this.config.secretAccessKey ?? "local-emulator-secret";
        let key = hmac(`AWS4${secret}`, day);
        for (const part of [this.config.region, "dynamodb", "aws4_request"]) key = hmac(key, part);
        const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
        const authorization =
            `AWS4-HMAC-SHA256 Credential=${this.config.accessKeyId ?? "AKIDLOCALEMULATOR"}/${scope}, ` +
            `SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
        const { host: _host, ...sent } = headers;
        // The marker header keeps the harness's requests out of the API-call counts (not signed).
        const res = await fetch(url, { method: "POST", headers: { ...sent, authorization, "x-notify-harness": "1" }, body });
        const text = await res.text();
        const parsed = text ? JSON.parse(text) : {};
        if (!res.ok) {
            const code = String(parsed.__type ?? `HTTP${res.status}`).split("#").pop()!;
            throw new DynamoError(code, parsed.message ?? parsed.Message ?? text);
        }
        return parsed as T;
    }

    async putItem(table: string, item: Item): Promise<void> {
        await this.call("PutItem", { TableName: table, Item: marshall(item) });
    }

    /** Writes many items, 25 per BatchWriteItem, retrying unprocessed ones a bounded number of times. */
    async putItems(table: string, items: Item[]): Promise<void> {
        for (let i = 0; i < items.length; i += 25) {
            let requests: unknown[] = items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: marshall(item) } }));
            for (let attempt = 0; requests.length > 0; attempt++) {
                if (attempt === 10) throw new Error(`BatchWriteItem left ${requests.length} items unprocessed on ${table}`);
                const out = await this.call("BatchWriteItem", { RequestItems: { [table]: requests } });
                requests = out.UnprocessedItems?.[table] ?? [];
            }
        }
    }

    async getItem(table: string, key: Item): Promise<Item | undefined> {
        const out = await this.call("GetItem", { TableName: table, Key: marshall(key), ConsistentRead: true });
        return out.Item ? unmarshall(out.Item) : undefined;
    }

    /** Every item of a table (paged; tables in tests are small). */
    async scanAll(table: string): Promise<Item[]> {
        const items: Item[] = [];
        let startKey: unknown;
        for (let page = 0; page < 10_000; page++) {
            const out = await this.call("Scan", { TableName: table, ExclusiveStartKey: startKey });
            items.push(...(out.Items ?? []).map(unmarshall));
            startKey = out.LastEvaluatedKey;
            if (!startKey) return items;
        }
        throw new Error(`scan of ${table} did not finish`);
    }

    /** Every item with the given partition key value. */
    async queryAll(table: string, hashKey: string, value: string, indexName?: string): Promise<Item[]> {
        const items: Item[] = [];
        let startKey: unknown;
        for (let page = 0; page < 10_000; page++) {
            const out = await this.call("Query", {
                TableName: table,
                IndexName: indexName,
                KeyConditionExpression: "#k = :v",
                ExpressionAttributeNames: { "#k": hashKey },
                ExpressionAttributeValues: { ":v": { S: value } },
                ExclusiveStartKey: startKey,
            });
            items.push(...(out.Items ?? []).map(unmarshall));
            startKey = out.LastEvaluatedKey;
            if (!startKey) return items;
        }
        throw new Error(`query of ${table} did not finish`);
    }
}
