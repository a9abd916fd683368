/**
 * DynamoDB Streams for dynalite, which has none: TableStream snapshots a table and turns what changed
 * since the last snapshot into stream records (INSERT / MODIFY / REMOVE with Keys, NewImage, OldImage,
 * increasing SequenceNumbers), shaped as Lambda delivers them from a NEW_AND_OLD_IMAGES stream.
 * Several writes to one key between two snapshots collapse into one record (a real stream would hold
 * each); an UpdateItem that changes nothing yields no record, as in DynamoDB Streams.
 *
 * eventSourceFilter() applies the program's event source mapping filter (Lambda event filtering) to
 * the records, so the function sees what Lambda would hand it.
 */
import type { AttributeValue, DynamoHttpClient } from "./dynamo";
import type { LoadedProgram } from "./program";

export interface StreamRecord {
    eventID: string;
    eventName: "INSERT" | "MODIFY" | "REMOVE";
    eventVersion: "1.1";
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
        StreamViewType: "NEW_AND_OLD_IMAGES";
    };
}

export interface TableStreamOptions {
    region: string;
    hashKey: string;
    rangeKey?: string;
    /** Stream ARN the records name (default: the table's ARN in fauxqs's account, /stream/local). */
    streamArn?: string;
}

type RawItem = Record<string, AttributeValue>;

/** Key-order-independent JSON, so two images with the same content compare equal. */
function canonical(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
    if (value && typeof value === "object") {
        return `{${Object.keys(value as object)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(value);
}

export class TableStream {
    private last = new Map<string, RawItem>();
    private sequence = 0;
    /** Keys deleted on purpose as TTL expiries (their REMOVE records carry DynamoDB's userIdentity). */
    private ttlExpired = new Set<string>();

    constructor(
        private readonly db: DynamoHttpClient,
        readonly table: string,
        private readonly options: TableStreamOptions,
    ) {}

    get arn(): string {
        return (
            this.options.streamArn ??
            `arn:aws:dynamodb:${this.options.region}:000000000000:table/${this.table}/stream/local`
        );
    }

    /** Remembers the table's current content: the next changes() reports what differs from it. */
    async snapshot(): Promise<void> {
        this.last = await this.read();
        this.ttlExpired.clear();
    }

    /** Deletes a row as TTL expiry would (the REMOVE record says so). */
    async expire(key: Record<string, string>): Promise<void> {
        const raw = this.keyOf(Object.fromEntries(Object.entries(key).map(([k, v]) => [k, { S: v }])) as RawItem);
        this.ttlExpired.add(raw);
        await this.db.deleteItem(this.table, key);
    }

    /** The stream records for everything that changed since the last snapshot; then snapshots again. */
    async changes(): Promise<StreamRecord[]> {
        const now = await this.read();
        const records: StreamRecord[] = [];
        const keys = [...new Set([...this.last.keys(), ...now.keys()])].sort();
        for (const key of keys) {
            const before = this.last.get(key);
            const after = now.get(key);
            if (before && after && canonical(before) === canonical(after)) continue;
            const eventName = !before ? "INSERT" : !after ? "REMOVE" : "MODIFY";
            records.push(this.record(eventName, before, after, this.ttlExpired.has(key)));
        }
        this.last = now;
        this.ttlExpired.clear();
        return records;
    }

    /** A record built by hand (e.g. a change the table cannot show, or a malformed one). */
    record(
        eventName: StreamRecord["eventName"],
        oldImage: RawItem | undefined,
        newImage: RawItem | undefined,
        byTtl = false,
    ): StreamRecord {
        const image = (newImage ?? oldImage)!;
        const keys: RawItem = { [this.options.hashKey]: image[this.options.hashKey] };
        if (this.options.rangeKey) keys[this.options.rangeKey] = image[this.options.rangeKey];
        const n = ++this.sequence;
        const dynamodb: StreamRecord["dynamodb"] = {
            ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
            Keys: keys,
            SequenceNumber: String(100_000_000_000_000_000_000n + BigInt(n)),
            SizeBytes: Buffer.byteLength(JSON.stringify(newImage ?? oldImage ?? {})),
            StreamViewType: "NEW_AND_OLD_IMAGES",
        };
        if (newImage) dynamodb.NewImage = newImage;
        if (oldImage) dynamodb.OldImage = oldImage;
        const record: StreamRecord = {
            eventID: `local-${String(n).padStart(8, "0")}`,
            eventName,
            eventVersion: "1.1",
            eventSource: "aws:dynamodb",
            awsRegion: this.options.region,
            eventSourceARN: this.arn,
            dynamodb,
        };
        if (byTtl && eventName === "REMOVE")
            record.userIdentity = { type: "Service", principalId: "dynamodb.amazonaws.com" };
        return record;
    }

    private keyOf(item: RawItem): string {
        const { hashKey, rangeKey } = this.options;
        return canonical(rangeKey ? [item[hashKey], item[rangeKey]] : [item[hashKey]]);
    }

    private async read(): Promise<Map<string, RawItem>> {
        const items = new Map<string, RawItem>();
        let startKey: unknown;
        for (let page = 0; page < 10_000; page++) {
            const out = await this.db.call("Scan", {
                TableName: this.table,
                ExclusiveStartKey: startKey,
                ConsistentRead: true,
            });
            for (const item of (out.Items ?? []) as RawItem[]) items.set(this.keyOf(item), item);
            startKey = out.LastEvaluatedKey;
            if (!startKey) return items;
        }
        throw new Error(`scan of ${this.table} did not finish`);
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
