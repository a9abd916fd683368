/**
 * Reading a batch: round 1 of BatchGetItem for everything keyed by the requests (profiles and channel
 * preferences, the delivery-log rows, templates not in the container's cache, and the
 * channel's own reads), round 2 only for templates in the locale of a profile that round 1 returned,
 * then the channel's enrich step. Rows are mapped to the plan's BatchData here.
 */
import { type AttributeMap, marshall, unmarshall } from "../../core/attributes";
import { logKey } from "../../core/deliveryLog";
import {
    missingTemplateKeys,
    readKeys,
    templateKey,
    type BatchData,
    type Parsed,
    type SharedBatchData,
} from "../../core/plan";
import type { Channel } from "../../core/channels";
import type { ChannelPreference, DeliveryLogRow, Profile } from "../../core/types";
import { batchGetAll, type Dynamo, type TableKeys } from "../dynamo";
import type { ChannelAdapter, EnrichRecipient } from "./channel";
import { cachedTemplates, isCached, rememberTemplates, type TemplateCache } from "./templateCache";

/** The tables every sender reads and writes. */
export interface SenderTables {
    preferences: string;
    templates: string;
    deliveryLog: string;
    idempotency: string;
}

export interface ReadBatchArgs<D, E> {
    dynamo: Dynamo;
    tables: SenderTables;
    channel: Channel;
    adapter: ChannelAdapter<D, E>;
    parsed: Parsed[];
    now: number;
    templateCache: TemplateCache;
    remaining: () => number;
}

export async function readBatchData<D, E>(args: ReadBatchArgs<D, E>): Promise<BatchData<E>> {
    const { dynamo, tables, channel, adapter, parsed, now, templateCache } = args;
    const keys = readKeys(parsed, { previousRows: adapter.readsPreviousRows ?? true });
    const templateKeysToRead = keys.templateKeys.filter((k) => !isCached(templateCache, k, now));
    const requests: TableKeys[] = [
        {
            table: tables.preferences,
            keys: keys.userIds.flatMap((userId) => [
                marshall({ userId, channel: "profile" }),
                marshall({ userId, channel }),
            ]),
        },
        { table: tables.deliveryLog, keys: keys.logKeys.map((k) => marshall(k)), consistentRead: true },
        { table: tables.templates, keys: templateKeysToRead.map((k) => marshall(k)) },
        ...(adapter.reads?.(keys.userIds) ?? []),
    ];
    const round1 = await batchGetAll(
        dynamo,
        requests.filter((r) => r.keys.length > 0),
    );
    rememberTemplates(templateCache, templateKeysToRead, round1.get(tables.templates) ?? [], now);
    const shared = toSharedData(tables, round1);
    const known = new Set(keys.templateKeys.map((k) => templateKey(k.templateId, k.locale)));
    const more = missingTemplateKeys(parsed, shared, known);
    const moreToRead = more.filter((k) => !isCached(templateCache, k, now));
    if (moreToRead.length > 0) {
        const round2 = await batchGetAll(dynamo, [
            { table: tables.templates, keys: moreToRead.map((k) => marshall(k)) },
        ]);
        rememberTemplates(templateCache, moreToRead, round2.get(tables.templates) ?? [], now);
    }
    shared.templates = cachedTemplates(templateCache, [...keys.templateKeys, ...more]);
    const enrichment = adapter.enrich
        ? await adapter.enrich({
              recipients: requestRecipients(parsed, shared),
              items: (table) => round1.get(table) ?? [],
              remaining: args.remaining,
          })
        : (undefined as E);
    return { ...shared, enrichment };
}

/** The recipients of the batch's valid requests, with their profiles: what an enrich step looks at. */
export function requestRecipients(parsed: Parsed[], data: Pick<SharedBatchData, "profiles">): EnrichRecipient[] {
    const out: EnrichRecipient[] = [];
    for (const p of parsed) {
        if (p.kind !== "request") continue;
        for (const r of p.recipients) {
            out.push({
                userId: r.userId,
                address: r.address,
                profile: r.userId ? data.profiles.get(r.userId) : undefined,
            });
        }
    }
    return out;
}

/** Row mapping: the shared tables' items into the plan's maps. */
export function toSharedData(tables: SenderTables, items: Map<string, AttributeMap[]>): SharedBatchData {
    const data: SharedBatchData = {
        profiles: new Map(),
        preferences: new Map(),
        logRows: new Map(),
        templates: new Map(),
    };
    for (const raw of items.get(tables.preferences) ?? []) {
        const item = unmarshall(raw);
        if (item.channel === "profile") data.profiles.set(item.userId as string, item as unknown as Profile);
        else data.preferences.set(item.userId as string, item as unknown as ChannelPreference);
    }
    for (const raw of items.get(tables.deliveryLog) ?? []) {
        const row = unmarshall(raw) as unknown as DeliveryLogRow;
        data.logRows.set(logKey(row.notificationId, row.recipientKey), row);
    }
    return data;
}
