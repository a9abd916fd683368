/**
 * What the counted API calls of a run weigh: DynamoDB read and write request units per table (with the
 * partition key that took the most), Firehose records and bytes, provider requests. Pure: a function of
 * the calls (service, operation, input as the SDK sent it) and the data model (infra/tables.ts).
 *
 * Unit rules (DynamoDB on-demand pricing page): a standard write = 1 unit per started KB of the item, a
 * transactional write = 2 per KB, an eventually consistent read of ≤ 4 KB = ½ unit (strong: 1,
 * transactional: 2). Each global secondary index an item lands in costs one more write (its projected
 * size: the keys for KEYS_ONLY, the item for ALL). Reads are counted per requested key with items
 * assumed ≤ 4 KB (the rows here are well under 1 KB; a key that finds nothing still costs ½ unit); an
 * Update is sized from its key and values (the rows it touches are small and written whole by the claim).
 */
import type { IndexSpec, TableSpec } from "../../infra/tables";

export interface ProfiledCall {
    service: string;
    operation: string;
    input: any;
}

export interface HotKey {
    /** The partition key attribute and the value that took the most units. */
    attribute: string;
    value: string;
    units: number;
    /** Of the table's units of that kind. */
    share: number;
    /** Distinct partition key values that took units of that kind (many: a per-request or per-user key). */
    distinctKeys: number;
}

export interface TableUnits {
    readUnits: number;
    writeUnits: number;
    hottestRead?: HotKey;
    hottestWrite?: HotKey;
}

export interface CallProfile {
    operations: Record<string, number>;
    tables: Record<string, TableUnits>;
    firehose: { requests: number; records: number; bytes: number; billedBytes: number };
}

export interface DataModel {
    /** Physical table name (as the functions' environment names it) -> logical name. */
    logicalName(physical: string): string | undefined;
    spec(logical: string): TableSpec | undefined;
}

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

/** DynamoDB's size of an attribute value (docs: "Item sizes and formats"). */
export function valueBytes(v: any): number {
    if (v === null || typeof v !== "object") return 0;
    if ("S" in v) return utf8(String(v.S));
    if ("N" in v) return Math.ceil(String(v.N).replace(/^-/, "").replace(/^0+/, "").replace(".", "").length / 2) + 1;
    if ("B" in v) return (v.B as Uint8Array).length ?? 0;
    if ("BOOL" in v || "NULL" in v) return 1;
    if ("M" in v)
        return 3 + Object.entries(v.M as Record<string, unknown>).reduce((n, [k, x]) => n + utf8(k) + valueBytes(x), 0);
    if ("L" in v) return 3 + (v.L as unknown[]).reduce((n: number, x) => n + 1 + valueBytes(x), 0);
    if ("SS" in v) return (v.SS as string[]).reduce((n, x) => n + utf8(x), 0);
    if ("NS" in v) return (v.NS as string[]).reduce((n, x) => n + valueBytes({ N: x }), 0);
    return 0;
}

export function itemBytes(item: Record<string, unknown> | undefined): number {
    return Object.entries(item ?? {}).reduce((n, [k, v]) => n + utf8(k) + valueBytes(v), 0);
}

const writeUnitsOf = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

interface Tally {
    read: number;
    write: number;
    readByKey: Map<string, number>;
    writeByKey: Map<string, number>;
    hashKey: string;
}

class Tallies {
    readonly byTable = new Map<string, Tally>();
    constructor(private readonly model: DataModel) {}

    private tally(physical: string): { tally: Tally; spec?: TableSpec; name: string } {
        const name = this.model.logicalName(physical) ?? physical;
        const spec = this.model.spec(name);
        let tally = this.byTable.get(name);
        if (!tally) {
            tally = { read: 0, write: 0, readByKey: new Map(), writeByKey: new Map(), hashKey: spec?.hashKey ?? "?" };
            this.byTable.set(name, tally);
        }
        return { tally, spec, name };
    }

    read(physical: string, key: Record<string, any> | undefined, units: number): void {
        const { tally } = this.tally(physical);
        tally.read += units;
        const k = keyValue(key, tally.hashKey);
        tally.readByKey.set(k, (tally.readByKey.get(k) ?? 0) + units);
    }

    /** A put of `item` (or an update touching `attributes`), `factor` 2 inside a transaction. */
    write(
        physical: string,
        key: Record<string, any> | undefined,
        bytes: number,
        attributes: string[],
        factor: number,
    ): void {
        const { tally, spec } = this.tally(physical);
        let units = writeUnitsOf(bytes) * factor;
        for (const index of spec?.indexes ?? [])
            if (attributes.includes(index.hashKey)) units += indexWriteUnits(index, bytes);
        tally.write += units;
        const k = keyValue(key, tally.hashKey);
        tally.writeByKey.set(k, (tally.writeByKey.get(k) ?? 0) + units);
    }
}

function indexWriteUnits(index: IndexSpec, itemSize: number): number {
    return index.projection === "ALL" ? writeUnitsOf(itemSize) : 1;
}

function keyValue(key: Record<string, any> | undefined, attribute: string): string {
    const v = key?.[attribute];
    if (!v) return "?";
    return String(v.S ?? v.N ?? "?");
}

/** Attribute names an update expression writes (names map resolved). */
function updatedAttributes(update: any): string[] {
    const names = (update.ExpressionAttributeNames ?? {}) as Record<string, string>;
    const expression = String(update.UpdateExpression ?? "");
    const tokens = expression.match(/#?[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
    return [...tokens.map((t) => (t.startsWith("#") ? names[t] : t)), ...Object.keys(update.Key ?? {})].filter(Boolean);
}

function updateBytes(update: any): number {
    return (
        itemBytes(update.Key) +
        Object.values(update.ExpressionAttributeValues ?? {}).reduce((n: number, v) => n + valueBytes(v), 0)
    );
}

function profileDynamo(call: ProfiledCall, t: Tallies): void {
    const input = call.input ?? {};
    switch (call.operation) {
        case "BatchGetItem":
            for (const [table, req] of Object.entries(input.RequestItems ?? {}) as [string, any][])
                for (const key of req.Keys ?? []) t.read(table, key, req.ConsistentRead ? 1 : 0.5);
            return;
        case "GetItem":
        case "Query":
        case "Scan":
            t.read(input.TableName, input.Key ?? queryKey(input), input.ConsistentRead ? 1 : 0.5);
            return;
        case "TransactGetItems":
            for (const item of input.TransactItems ?? []) t.read(item.Get?.TableName, item.Get?.Key, 2);
            return;
        case "BatchWriteItem":
            for (const [table, requests] of Object.entries(input.RequestItems ?? {}) as [string, any[]][])
                for (const r of requests) {
                    if (r.PutRequest)
                        t.write(
                            table,
                            r.PutRequest.Item,
                            itemBytes(r.PutRequest.Item),
                            Object.keys(r.PutRequest.Item),
                            1,
                        );
                    else if (r.DeleteRequest)
                        t.write(table, r.DeleteRequest.Key, itemBytes(r.DeleteRequest.Key), [], 1);
                }
            return;
        case "TransactWriteItems":
            for (const item of input.TransactItems ?? []) profileTransactItem(item, t);
            return;
        case "PutItem":
            t.write(input.TableName, input.Item, itemBytes(input.Item), Object.keys(input.Item ?? {}), 1);
            return;
        case "UpdateItem":
            t.write(input.TableName, input.Key, updateBytes(input), updatedAttributes(input), 1);
            return;
        case "DeleteItem":
            t.write(input.TableName, input.Key, itemBytes(input.Key), [], 1);
            return;
    }
}

function profileTransactItem(item: any, t: Tallies): void {
    if (item.Put)
        t.write(item.Put.TableName, item.Put.Item, itemBytes(item.Put.Item), Object.keys(item.Put.Item ?? {}), 2);
    else if (item.Update)
        t.write(item.Update.TableName, item.Update.Key, updateBytes(item.Update), updatedAttributes(item.Update), 2);
    else if (item.Delete) t.write(item.Delete.TableName, item.Delete.Key, itemBytes(item.Delete.Key), [], 2);
    else if (item.ConditionCheck) t.write(item.ConditionCheck.TableName, item.ConditionCheck.Key, 0, [], 2);
}

/** A Query's partition key value, from `<attr> = :v` in its key condition. */
function queryKey(input: any): Record<string, any> | undefined {
    const m = /([#A-Za-z_][A-Za-z0-9_]*)\s*=\s*(:[A-Za-z0-9_]+)/.exec(String(input.KeyConditionExpression ?? ""));
    if (!m) return undefined;
    const name = m[1].startsWith("#") ? input.ExpressionAttributeNames?.[m[1]] : m[1];
    return { [name]: input.ExpressionAttributeValues?.[m[2]] };
}

function hottest(byKey: Map<string, number>, total: number, attribute: string): HotKey | undefined {
    let best: HotKey | undefined;
    for (const [value, units] of byKey)
        if (!best || units > best.units)
            best = { attribute, value, units, share: total > 0 ? units / total : 0, distinctKeys: byKey.size };
    return best;
}

export function profileCalls(calls: ProfiledCall[], model: DataModel): CallProfile {
    const operations: Record<string, number> = {};
    const tallies = new Tallies(model);
    const firehose = { requests: 0, records: 0, bytes: 0, billedBytes: 0 };
    for (const call of calls) {
        const op = `${call.service}.${call.operation}`;
        operations[op] = (operations[op] ?? 0) + 1;
        if (call.service === "DynamoDB") profileDynamo(call, tallies);
        if (call.service === "Firehose" && call.operation === "PutRecordBatch") {
            firehose.requests++;
            for (const r of call.input?.Records ?? []) {
                const size = r.Data?.length ?? 0;
                firehose.records++;
                firehose.bytes += size;
                firehose.billedBytes += Math.max(1, Math.ceil(size / 5120)) * 5120;
            }
        }
    }
    const tables: Record<string, TableUnits> = {};
    for (const [name, t] of tallies.byTable)
        tables[name] = {
            readUnits: t.read,
            writeUnits: t.write,
            hottestRead: hottest(t.readByKey, t.read, t.hashKey),
            hottestWrite: hottest(t.writeByKey, t.write, t.hashKey),
        };
    return { operations, tables, firehose };
}
