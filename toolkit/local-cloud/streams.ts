/**
 * DynamoDB Streams as Lambda's event source mapping reads them, from DynamoDB Local's real stream:
 * TableStream finds the table's LatestStreamArn (DescribeTable), its shards (DescribeStream), and reads
 * them in order with GetShardIterator / GetRecords (@aws-sdk/client-dynamodb-streams), turning each
 * record into the shape Lambda hands a function: the stream record as GetRecords returns it, plus
 * `eventSourceARN`, with ApproximateCreationDateTime in epoch seconds and binary values in base64 (the
 * JSON Lambda delivers). Every write is one record, in write order, as in DynamoDB Streams.
 *
 * DynamoDB Local never expires rows by TTL: expire() deletes a row as the TTL process would, and the
 * REMOVE record of that key gets the userIdentity DynamoDB puts on TTL deletions. That mark is the
 * only thing the harness adds to a record.
 *
 * eventSourceFilter() applies the program's event source mapping filter (Lambda event filtering) to
 * the records, so the function sees what Lambda would hand it.
 */
import {
    DescribeStreamCommand,
    DynamoDBStreamsClient,
    GetRecordsCommand,
    GetShardIteratorCommand,
    type _Record as SdkStreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import { type AttributeValue, type DynamoHttpClient, marshall } from "./dynamo";
import { HARNESS_HEADER } from "./emulators";
import type { LoadedProgram } from "./program";

export interface StreamRecord {
    eventID: string;
    eventName: "INSERT" | "MODIFY" | "REMOVE";
    eventVersion: string;
    eventSource: "aws:dynamodb";
    awsRegion: string;
    eventSourceARN: string;
    /** Present on deletions by TTL, as DynamoDB marks them. */
    userIdentity?: { type: "Service"; principalId: "dynamodb.amazonaws.com" };
    dynamodb: {
        ApproximateCreationDateTime: number;
        Keys: Record<string, AttributeValue>;
        NewImage?: Record<string, AttributeValue>;
        OldImage?: Record<string, AttributeValue>;
        SequenceNumber: string;
        SizeBytes: number;
        StreamViewType: "NEW_AND_OLD_IMAGES" | "NEW_IMAGE" | "OLD_IMAGE" | "KEYS_ONLY";
    };
}

/** Upper bound of GetRecords / DescribeStream pages per changes(): a stream that never ends is an error. */
const MAX_PAGES = 10_000;

/** Binary values as the base64 strings of Lambda's JSON event (the SDK hands them over as bytes). */
function lambdaJson(value: unknown): any {
    if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
    if (Array.isArray(value)) return value.map(lambdaJson);
    if (value && typeof value === "object")
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, lambdaJson(v)]));
    return value;
}

/** A GetRecords record in the shape Lambda delivers it. */
export function toLambdaRecord(record: SdkStreamRecord, streamArn: string): StreamRecord {
    const { ApproximateCreationDateTime: created, ...body } = record.dynamodb ?? {};
    const out: StreamRecord = {
        eventID: record.eventID!,
        eventName: record.eventName as StreamRecord["eventName"],
        eventVersion: record.eventVersion!,
        eventSource: "aws:dynamodb",
        awsRegion: record.awsRegion!,
        eventSourceARN: streamArn,
        dynamodb: {
            ...lambdaJson(body),
            ApproximateCreationDateTime: created ? Math.floor(created.getTime() / 1000) : 0,
        },
    };
    if (record.userIdentity)
        out.userIdentity = {
            type: record.userIdentity.Type as "Service",
            principalId: record.userIdentity.PrincipalId as "dynamodb.amazonaws.com",
        };
    return out;
}

/** A DynamoDB Streams client on the harness's endpoint, marked as harness traffic (not counted). */
function streamsClient(db: DynamoHttpClient): DynamoDBStreamsClient {
    const client = new DynamoDBStreamsClient({
        region: db.config.region,
        endpoint: db.config.endpoint,
        credentials: {
            accessKeyId: db.config.accessKeyId ?? "AKIDLOCALEMULATOR",
            secretAccessKey: db.config.secretAccessKey ?? "local-emulator-secret",
        },
    });
    client.middlewareStack.add(
        (next) => async (args) => {
            const request = args.request as { headers?: Record<string, string> };
            if (request.headers) request.headers[HARNESS_HEADER] = "1";
            return next(args);
        },
        { step: "build", name: "notifyHarnessMarker" },
    );
    return client;
}

export class TableStream {
    /** Next iterator per shard; null once a closed shard has been read to its end. */
    private readonly iterators = new Map<string, string | null>();
    /** Keys deleted on purpose as TTL expiries (their REMOVE records carry DynamoDB's userIdentity). */
    private readonly ttlExpired = new Set<string>();

    private constructor(
        private readonly db: DynamoHttpClient,
        private readonly client: DynamoDBStreamsClient,
        readonly table: string,
        readonly arn: string,
        private readonly keyNames: string[],
    ) {}

    /** The table's stream, positioned at its start (call skipToEnd() to ignore what is already there). */
    static async open(db: DynamoHttpClient, table: string): Promise<TableStream> {
        const { Table } = await db.call("DescribeTable", { TableName: table });
        const arn: string | undefined = Table?.LatestStreamArn;
        if (!arn || !Table?.StreamSpecification?.StreamEnabled)
            throw new Error(`table ${table} has no stream (no StreamSpecification in its model?)`);
        const keyNames = (Table.KeySchema as { AttributeName: string }[]).map((k) => k.AttributeName);
        return new TableStream(db, streamsClient(db), table, arn, keyNames);
    }

    /** Reads and drops every record written so far: the next changes() starts after them. */
    async skipToEnd(): Promise<void> {
        await this.changes();
        this.ttlExpired.clear();
    }

    /** Deletes a row as TTL expiry would (its REMOVE record says so). */
    async expire(key: Record<string, string>): Promise<void> {
        this.ttlExpired.add(this.keyOf(marshall(key) as Record<string, AttributeValue>));
        await this.db.deleteItem(this.table, key);
    }

    /** Every record written since the last call, shard by shard (parents before children), in order. */
    async changes(): Promise<StreamRecord[]> {
        const records: StreamRecord[] = [];
        for (const shardId of await this.shardIds()) {
            const known = this.iterators.get(shardId);
            if (known === null) continue; // a closed shard already read to its end
            records.push(...(await this.readShard(shardId, known ?? (await this.firstIterator(shardId)))));
        }
        return records;
    }

    private async firstIterator(shardId: string): Promise<string> {
        const out = await this.client.send(
            new GetShardIteratorCommand({ StreamArn: this.arn, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }),
        );
        return out.ShardIterator!;
    }

    /** GetRecords from `iterator` until the shard is caught up (open) or ended (closed). */
    private async readShard(shardId: string, iterator: string): Promise<StreamRecord[]> {
        const records: StreamRecord[] = [];
        for (let page = 0; page < MAX_PAGES; page++) {
            const out = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator }));
            const got = out.Records ?? [];
            records.push(...got.map((r) => this.mark(toLambdaRecord(r, this.arn))));
            if (!out.NextShardIterator) {
                this.iterators.set(shardId, null);
                return records;
            }
            iterator = out.NextShardIterator;
            this.iterators.set(shardId, iterator);
            if (got.length === 0) return records; // caught up with the open shard
        }
        throw new Error(`stream of ${this.table}: shard ${shardId} did not end within ${MAX_PAGES} pages`);
    }

    /** The stream's shards, parents first (DescribeStream pages through ExclusiveStartShardId). */
    private async shardIds(): Promise<string[]> {
        const shards: { ShardId?: string; ParentShardId?: string }[] = [];
        let start: string | undefined;
        for (let page = 0; page < MAX_PAGES; page++) {
            const out = await this.client.send(
                new DescribeStreamCommand({ StreamArn: this.arn, ExclusiveStartShardId: start }),
            );
            shards.push(...(out.StreamDescription?.Shards ?? []));
            start = out.StreamDescription?.LastEvaluatedShardId;
            if (!start) break;
        }
        const ids = new Set(shards.map((s) => s.ShardId!));
        const ordered: string[] = [];
        const visit = (id: string) => {
            if (ordered.includes(id)) return;
            const parent = shards.find((s) => s.ShardId === id)?.ParentShardId;
            if (parent && ids.has(parent)) visit(parent);
            ordered.push(id);
        };
        for (const id of ids) visit(id);
        return ordered;
    }

    private mark(record: StreamRecord): StreamRecord {
        if (record.eventName === "REMOVE" && this.ttlExpired.delete(this.keyOf(record.dynamodb.Keys)))
            record.userIdentity = { type: "Service", principalId: "dynamodb.amazonaws.com" };
        return record;
    }

    private keyOf(keys: Record<string, AttributeValue>): string {
        return JSON.stringify(this.keyNames.map((name) => keys[name]));
    }

    /** Closes the streams client's sockets. */
    destroy(): void {
        this.client.destroy();
    }
}

/**
 * Lambda event filtering for the subset of patterns this program uses: nested objects, and at the
 * leaves a list of alternatives, each a literal or {"anything-but": [...] | value}, {"exists": bool},
 * {"prefix": "..."}. Any other operator throws, so a new filter in infra/ cannot pass unchecked.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
    if (Array.isArray(pattern)) return pattern.some((alternative) => matchesLeaf(alternative, event));
    if (pattern && typeof pattern === "object") {
        return Object.entries(pattern as Record<string, unknown>).every(([field, sub]) => {
            const value = event && typeof event === "object" ? (event as Record<string, unknown>)[field] : undefined;
            if (Array.isArray(sub) && sub.length === 1 && isExists(sub[0]))
                return (value !== undefined) === (sub[0] as { exists: boolean }).exists;
            if (value === undefined) return false;
            return matchesPattern(sub, value);
        });
    }
    throw new Error(`unsupported filter pattern ${JSON.stringify(pattern)}`);
}

const isExists = (v: unknown): v is { exists: boolean } => !!v && typeof v === "object" && "exists" in (v as object);

function matchesLeaf(alternative: unknown, value: unknown): boolean {
    if (alternative === null || typeof alternative !== "object") return alternative === value;
    const ops = Object.keys(alternative);
    if (ops.length !== 1) throw new Error(`unsupported filter operator ${JSON.stringify(alternative)}`);
    const operand = (alternative as Record<string, unknown>)[ops[0]];
    switch (ops[0]) {
        case "anything-but": {
            const excluded = Array.isArray(operand) ? operand : [operand];
            return !excluded.includes(value);
        }
        case "prefix":
            return typeof value === "string" && typeof operand === "string" && value.startsWith(operand);
        default:
            throw new Error(`unsupported filter operator ${ops[0]}`);
    }
}

/**
 * The record filter of the program's event source mapping for `functionNamePart` (a record passes if
 * any filter matches; no filter criteria: every record passes).
 */
export function eventSourceFilter(program: LoadedProgram, functionNamePart: string): (record: object) => boolean {
    const fn = program.fn(functionNamePart);
    const mappings = program
        .ofType("aws:lambda/eventSourceMapping:EventSourceMapping")
        .filter(
            (m) => typeof m.inputs.functionName === "string" && m.inputs.functionName.includes(`:function:${fn.name}`),
        );
    if (mappings.length !== 1)
        throw new Error(`expected one event source mapping for ${fn.name}, found ${mappings.length}`);
    const filters: { pattern: string }[] = mappings[0].inputs.filterCriteria?.filters ?? [];
    if (filters.length === 0) return () => true;
    const patterns = filters.map((f) => JSON.parse(f.pattern));
    return (record) => patterns.some((p) => matchesPattern(p, record));
}
