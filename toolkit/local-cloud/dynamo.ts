/**
 * The harness's DynamoDB access (creating tables, seeding rows, reading the delivery log back), on the
 * SDK's DynamoDBClient with an explicit emulator endpoint and fake credentials. Every request it sends
 * carries HARNESS_HEADER (added by a build-step middleware), so the call log kept by the emulators'
 * DynamoDB front can leave the harness's own calls out of the functions' API-call counts.
 */
import * as DynamoDB from "@aws-sdk/client-dynamodb";
import { DynamoDBClient, waitUntilTableExists } from "@aws-sdk/client-dynamodb";
import { HARNESS_HEADER } from "./emulators";

// The same marshalling the processors use: a harness that wrote rows differently would test nothing.
import { marshall, unmarshall, type Item } from "../../handlers/core/attributes";
export {
    marshall,
    marshallValue,
    unmarshall,
    unmarshallValue,
    type AttributeValue,
    type Item,
} from "../../handlers/core/attributes";

export class DynamoError extends Error {
    constructor(
        public readonly code: string,
        message: string,
        options?: { cause?: unknown },
    ) {
        super(`${code}: ${message}`, options);
        this.name = code;
    }
}

export interface DynamoClientConfig {
    endpoint: string;
    region: string;
    accessKeyId?: string;
    secretAccessKey?: string;
}

type CommandClass = new (input: any) => any;

/** The SDK command class of an operation name (e.g. "PutItem" -> PutItemCommand). */
function commandFor(operation: string): CommandClass {
    const command = (DynamoDB as unknown as Record<string, unknown>)[`${operation}Command`];
    if (typeof command !== "function") throw new Error(`@aws-sdk/client-dynamodb has no ${operation}Command`);
    return command as CommandClass;
}

/** The harness's DynamoDB client (the name predates the SDK; kept for the sandbox and bench scripts). */
export class DynamoHttpClient {
    /** Number of requests sent, per operation: lets tests separate harness calls from handler calls. */
    public readonly calls = new Map<string, number>();
    /** The SDK client underneath: pass it in countApiCalls' `ignore` when counting DynamoDB client-side. */
    public readonly client: DynamoDBClient;

    constructor(public readonly config: DynamoClientConfig) {
        this.client = new DynamoDBClient({
            endpoint: config.endpoint,
            region: config.region,
            credentials: {
                accessKeyId: config.accessKeyId ?? "AKIDLOCALEMULATOR",
                secretAccessKey: config.secretAccessKey ?? "local-emulator-secret",
            },
        });
        this.client.middlewareStack.add(
            (next) => async (args) => {
                const request = args.request as { headers?: Record<string, string> };
                if (request.headers) request.headers[HARNESS_HEADER] = "1";
                return next(args);
            },
            { step: "build", name: "notifyHarnessMarker" },
        );
    }

    /** Sends one operation by name with its wire-shaped input; errors become DynamoError (code = SDK error name). */
    async call<T = any>(operation: string, input: object): Promise<T> {
        this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
        const Command = commandFor(operation);
        try {
            const { $metadata: _metadata, ...output } = await this.client.send(new Command(input));
            return output as T;
        } catch (err) {
            const error = err as Error;
            throw new DynamoError(error.name || "UnknownError", error.message, { cause: err });
        }
    }

    /**
     * Creates a table and waits until it is ACTIVE: DynamoDB answers CreateTable while the table is
     * still CREATING, and a write in that window fails with ResourceNotFoundException.
     */
    async createTable(input: DynamoDB.CreateTableCommandInput): Promise<void> {
        await this.call("CreateTable", input);
        await waitUntilTableExists(
            { client: this.client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 },
            { TableName: input.TableName! },
        );
    }

    async putItem(table: string, item: Item): Promise<void> {
        await this.call("PutItem", { TableName: table, Item: marshall(item) });
    }

    /** Writes many items, 25 per BatchWriteItem, retrying unprocessed ones a bounded number of times. */
    async putItems(table: string, items: Item[]): Promise<void> {
        for (let i = 0; i < items.length; i += 25) {
            let requests: unknown[] = items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: marshall(item) } }));
            for (let attempt = 0; requests.length > 0; attempt++) {
                if (attempt === 10)
                    throw new Error(`BatchWriteItem left ${requests.length} items unprocessed on ${table}`);
                const out = await this.call("BatchWriteItem", { RequestItems: { [table]: requests } });
                requests = out.UnprocessedItems?.[table] ?? [];
            }
        }
    }

    async getItem(table: string, key: Item): Promise<Item | undefined> {
        const out = await this.call("GetItem", { TableName: table, Key: marshall(key), ConsistentRead: true });
        return out.Item ? unmarshall(out.Item) : undefined;
    }

    async deleteItem(table: string, key: Item): Promise<void> {
        await this.call("DeleteItem", { TableName: table, Key: marshall(key) });
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

    /** Closes the SDK client's sockets. */
    destroy(): void {
        this.client.destroy();
    }
}

/** Alias under the name the client now deserves; DynamoHttpClient stays for existing callers. */
export { DynamoHttpClient as HarnessDynamo };
