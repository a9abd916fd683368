/**
 * The pipeline every channel sender shares, for a whole SQS batch: parse -> one round of BatchGetItem
 * for everything the batch needs -> plan (pure core) -> deliver / defer -> one round of BatchWriteItem
 * for the delivery-log rows and rate counters -> one PutRecordBatch of analytics -> EMF metrics. Only
 * the channel's `deliver` differs (SNS endpoint, SES, SNS SMS). Partial batch responses: a record is
 * reported failed only when something retryable is left for it (throttling past the time budget, a
 * deferral that could not be scheduled, an unexpected error); bad input is recorded and acknowledged.
 */
import { SchedulerClient, CreateScheduleCommand } from "@aws-sdk/client-scheduler";
import { FirehoseClient } from "@aws-sdk/client-firehose";
import { marshall, unmarshall, type AttributeMap } from "../core/attributes";
import {
    analyticsEvent,
    atExpression,
    deferralScheduleName,
    deferredRequestBody,
    deliveryLogRow,
    logKey,
    rateCounterRows,
    type RecipientOutcome,
} from "../core/deliveryLog";
import { SUMMARY_DEVICE_ID } from "../core/endpoints";
import {
    missingTemplateKeys,
    parseBatch,
    planBatch,
    readKeys,
    templateKey,
    type BatchData,
    type Delivery,
    type RecordPlan,
    type RecipientPlan,
} from "../core/plan";
import type { ApnsPlatform } from "../core/push";
import type { ErrorClass } from "../core/retry";
import type {
    Channel,
    ChannelPreference,
    DeliveryLogRow,
    DeviceSummary,
    NotificationRequest,
    Profile,
    TemplateVariant,
} from "../core/types";
import { batchGetAll, batchPutAll, createDynamo, type Dynamo } from "./dynamo";
import { ENV, requireEnv } from "./env";
import { METRICS } from "./telemetry-names";
import {
    callWithBackoff,
    mapLimit,
    providerClientConfig,
    putAnalytics,
    rateLimitFor,
    remainingMs,
    SEND_TIME_GUARD_MS,
    ttlDays,
    type BatchResponse,
    type LambdaContext,
    type SqsEvent,
    type Telemetry,
} from "./runtime";

/** What a channel's delivery produced for one recipient. */
export type DeliveryResult =
    | { status: "SENT"; providerMessageId?: string; sentDevices?: string[] }
    | { status: "FAILED"; reason: string; sentDevices?: string[] }
    /** The provider refused for a reason that is the recipient's choice (e.g. SMS opt-out). */
    | { status: "SUPPRESSED"; reason: string }
    /**
     * Retryable (throttled or transient past the time budget, or operational: our setup is broken): the
     * record goes back to the queue; devices already done are kept.
     */
    | { status: "RETRY"; reason: string; errorClass?: ErrorClass; sentDevices?: string[] };

export interface DeliverArgs {
    delivery: Delivery;
    request: NotificationRequest;
    userId?: string;
    /** Milliseconds left in the invocation, read fresh at each call. */
    remaining: () => number;
}

export interface SenderConfig {
    channel: Channel;
    telemetry: Telemetry;
    dynamo: Dynamo;
    firehose: FirehoseClient;
    scheduler: SchedulerClient;
    tables: { preferences: string; templates: string; deliveryLog: string; idempotency: string; devices?: string };
    analyticsStream: string;
    deferral: { group: string; roleArn: string; queueArn: string };
    rateLimit?: number;
    ttlDays: number;
    /** Push only: which APNs payload key the platform application expects. */
    apnsPlatform?: ApnsPlatform;
    deliver: (args: DeliverArgs) => Promise<DeliveryResult>;
    /** SMS: the opt-out status of `phones` (cached listing, checks); absent on other channels. */
    optedOut?: (phones: string[], remaining: () => number) => Promise<OptOutStatus>;
    now?: () => number;
}

/** Numbers known to have opted out, and numbers whose status could not be learned (their records retry). */
export interface OptOutStatus {
    optedOut: Set<string>;
    unknown: Set<string>;
}

const SEND_CONCURRENCY = 8;

/**
 * What every sender reads from its environment at cold start: its tables, the analytics stream, the
 * deferral target, its rate limit; and the clients the shared pipeline uses. Adapters add `deliver`.
 */
export function senderSetup(channel: Channel, telemetry: Telemetry, dynamo: Dynamo = createDynamo()) {
    return {
        channel,
        telemetry,
        dynamo,
        firehose: new FirehoseClient({}),
        // One attempt per call, bounded in time: scheduleDeferral's callWithBackoff owns the retries.
        scheduler: new SchedulerClient(providerClientConfig()),
        tables: {
            preferences: requireEnv(ENV.preferencesTable),
            templates: requireEnv(ENV.templatesTable),
            deliveryLog: requireEnv(ENV.deliveryLogTable),
            idempotency: requireEnv(ENV.idempotencyTable),
        },
        analyticsStream: requireEnv(ENV.analyticsStream),
        deferral: {
            group: requireEnv(ENV.deferralScheduleGroup),
            roleArn: requireEnv(ENV.deferralRoleArn),
            queueArn: requireEnv(ENV.channelQueueArn),
        },
        rateLimit: rateLimitFor(channel),
        ttlDays: ttlDays(),
    };
}

export function createSenderHandler(config: SenderConfig) {
    const { channel, telemetry } = config;
    const { log, metrics } = telemetry;
    const now = config.now ?? (() => Date.now());
    const templateCache: TemplateCache = new Map();

    return async (event: SqsEvent, context?: LambdaContext): Promise<BatchResponse> => {
        log.addContext(context);
        log.appendKeys({ channel });
        const started = now();
        const records = event.Records ?? [];
        const parsed = parseBatch(records, channel, started);
        const data = await readBatchData(config, parsed, started, templateCache, () => remainingMs(context));
        const plans = planBatch(parsed, data, {
            channel,
            now: started,
            rateLimit: config.rateLimit,
            apnsPlatform: config.apnsPlatform ?? "APNS",
        });

        const failedRecords = new Set<string>();
        const outcomes: RecipientOutcome[] = [];
        const results = await mapLimit(plans, SEND_CONCURRENCY, (plan) =>
            executeRecord(config, plan, context, started),
        );
        for (const [i, result] of results.entries()) {
            outcomes.push(...result.outcomes);
            if (result.retry) failedRecords.add(plans[i].messageId);
        }

        await writeBookkeeping(config, outcomes, data, now());
        for (const o of outcomes) countOutcome(telemetry, channel, o);
        metrics.flush();
        log.info("batch done", {
            records: records.length,
            outcomes: outcomes.length,
            retried: failedRecords.size,
        });
        return { batchItemFailures: [...failedRecords].map((itemIdentifier) => ({ itemIdentifier })) };
    };
}

/**
 * Templates change rarely and every record of a campaign names the same one: a container keeps each
 * template variant it read (or learned is missing) for this long instead of reading it per batch.
 * An edited template reaches every container within this time.
 */
export const TEMPLATE_CACHE_MS = 60_000;
/** Bound on the variants a container keeps: beyond it the oldest entries go first. */
export const TEMPLATE_CACHE_MAX_ENTRIES = 1_000;
export type TemplateCache = Map<string, { variant?: TemplateVariant; readAt: number }>;
type TemplateRef = { templateId: string; locale: string };

/**
 * Round 1 (everything keyed by the requests, templates not in the container's cache) and, only if
 * needed, round 2 (templates in the locale of a profile that round 1 returned).
 */
async function readBatchData(
    config: SenderConfig,
    parsed: ReturnType<typeof parseBatch>,
    now: number,
    templateCache: TemplateCache,
    remaining: () => number,
): Promise<BatchData> {
    const { tables, channel } = config;
    const keys = readKeys(parsed, channel, now);
    const cached = (k: TemplateRef) => {
        const entry = templateCache.get(templateKey(k.templateId, k.locale));
        return entry !== undefined && now - entry.readAt < TEMPLATE_CACHE_MS;
    };
    const templateKeysToRead = keys.templateKeys.filter((k) => !cached(k));
    const requests = [
        {
            table: tables.preferences,
            keys: keys.userIds.flatMap((userId) => [
                marshall({ userId, channel: "profile" }),
                marshall({ userId, channel }),
            ]),
        },
        { table: tables.deliveryLog, keys: keys.logKeys.map((k) => marshall(k)), consistentRead: true },
        { table: tables.idempotency, keys: keys.rateCounterIds.map((id) => marshall({ id })), consistentRead: true },
        { table: tables.templates, keys: templateKeysToRead.map((k) => marshall(k)) },
    ];
    if (channel === "push" && tables.devices) {
        requests.push({
            table: tables.devices,
            keys: keys.userIds.map((userId) => marshall({ userId, deviceId: SUMMARY_DEVICE_ID })),
        });
    }
    const round1 = await batchGetAll(
        config.dynamo,
        requests.filter((r) => r.keys.length > 0),
    );
    rememberTemplates(templateCache, templateKeysToRead, round1.get(tables.templates) ?? [], now);
    const data = toBatchData(config, round1);
    const known = new Set(keys.templateKeys.map((k) => templateKey(k.templateId, k.locale)));
    const more = missingTemplateKeys(parsed, data, known);
    const moreToRead = more.filter((k) => !cached(k));
    if (moreToRead.length > 0) {
        const round2 = await batchGetAll(config.dynamo, [
            { table: tables.templates, keys: moreToRead.map((k) => marshall(k)) },
        ]);
        rememberTemplates(templateCache, moreToRead, round2.get(tables.templates) ?? [], now);
    }
    data.templates = cachedTemplates(templateCache, [...keys.templateKeys, ...more]);
    if (config.optedOut) {
        const phones = new Set<string>();
        for (const p of parsed) {
            if (p.kind !== "request") continue;
            for (const r of p.recipients) {
                const phone = r.address ?? (r.userId ? data.profiles.get(r.userId)?.phone : undefined);
                if (phone) phones.add(phone);
            }
        }
        const status = await config.optedOut([...phones], remaining);
        data.optedOutPhones = status.optedOut;
        data.optOutUnknownPhones = status.unknown;
    }
    return data;
}

/** The variants this batch asked for (and that exist), from the cache: not every variant it holds. */
export function cachedTemplates(cache: TemplateCache, wanted: TemplateRef[]): Map<string, TemplateVariant> {
    const out = new Map<string, TemplateVariant>();
    for (const k of wanted) {
        const key = templateKey(k.templateId, k.locale);
        const variant = cache.get(key)?.variant;
        if (variant) out.set(key, variant);
    }
    return out;
}

/**
 * Caches every requested variant: the ones read, and the missing ones as misses (no re-read either).
 * Adding is when the cache is kept bounded: expired entries are dropped, then the oldest beyond
 * TEMPLATE_CACHE_MAX_ENTRIES (a Map iterates in insertion order; a refreshed key is re-inserted).
 */
export function rememberTemplates(cache: TemplateCache, requested: TemplateRef[], items: AttributeMap[], now: number) {
    for (const [key, entry] of cache) if (now - entry.readAt >= TEMPLATE_CACHE_MS) cache.delete(key);
    const put = (key: string, entry: { variant?: TemplateVariant; readAt: number }) => {
        cache.delete(key);
        cache.set(key, entry);
    };
    for (const k of requested) put(templateKey(k.templateId, k.locale), { readAt: now });
    for (const raw of items) {
        const variant = unmarshall(raw) as unknown as TemplateVariant;
        put(templateKey(variant.templateId, variant.locale), { variant, readAt: now });
    }
    for (const key of cache.keys()) {
        if (cache.size <= TEMPLATE_CACHE_MAX_ENTRIES) break;
        cache.delete(key);
    }
}

function toBatchData(config: SenderConfig, items: Map<string, AttributeMap[]>): BatchData {
    const { tables } = config;
    const data: BatchData = {
        profiles: new Map(),
        preferences: new Map(),
        summaries: new Map(),
        logRows: new Map(),
        rateCounts: new Map(),
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
    for (const raw of items.get(tables.idempotency) ?? []) {
        const item = unmarshall(raw);
        data.rateCounts.set(item.id as string, Number(item.count ?? 0));
    }
    if (tables.devices) {
        for (const raw of items.get(tables.devices) ?? []) {
            const item = unmarshall(raw);
            data.summaries.set(item.userId as string, {
                userId: item.userId as string,
                devices: (item.devices ?? {}) as DeviceSummary["devices"],
            });
        }
    }
    return data;
}

interface RecordResult {
    outcomes: RecipientOutcome[];
    retry: boolean;
}

async function executeRecord(
    config: SenderConfig,
    plan: RecordPlan,
    context: LambdaContext | undefined,
    now: number,
): Promise<RecordResult> {
    const { log } = config.telemetry;
    if (plan.kind === "ignore") return { outcomes: [], retry: false };
    if (plan.kind === "invalid") {
        log.warn("invalid request", {
            messageId: plan.messageId,
            notificationId: plan.notificationId,
            reason: plan.reason,
        });
        const outcomes = plan.recipients
            .filter((r) => r.action.kind === "fail" && plan.notificationId)
            .map((r) =>
                outcomeOf(plan.notificationId!, plan.campaignId, r, "FAILED", config.channel, { reason: plan.reason }),
            );
        return { outcomes, retry: false };
    }
    const request = plan.request;
    let retry = false;
    const outcomes: RecipientOutcome[] = [];
    for (const recipient of plan.recipients) {
        try {
            const outcome = await executeRecipient(config, request, recipient, context, now);
            if (outcome === "retry") retry = true;
            else if (outcome) {
                if (outcome.status === "PENDING") retry = true;
                outcomes.push(outcome);
            }
        } catch (error) {
            // Unexpected (a bug or an unclassified outage): leave the record to the queue's redrive.
            log.error("recipient failed unexpectedly", {
                notificationId: request.notificationId,
                recipientKey: recipient.recipient.recipientKey,
                error,
            });
            retry = true;
        }
    }
    return { outcomes, retry };
}

async function executeRecipient(
    config: SenderConfig,
    request: NotificationRequest,
    plan: RecipientPlan,
    context: LambdaContext | undefined,
    now: number,
): Promise<RecipientOutcome | "retry" | undefined> {
    const { log } = config.telemetry;
    const { action, recipient } = plan;
    const ids = { notificationId: request.notificationId, recipientKey: recipient.recipientKey };
    switch (action.kind) {
        case "skip":
            log.info("already handled, skipped", { ...ids, reason: action.reason });
            return undefined;
        case "fail":
            log.warn("recipient failed validation", { ...ids, reason: action.reason });
            return outcomeOf(request.notificationId, request.campaignId, plan, "FAILED", config.channel, {
                reason: action.reason,
            });
        case "suppress":
            return outcomeOf(request.notificationId, request.campaignId, plan, "SUPPRESSED", config.channel, {
                reason: action.reason,
            });
        case "retry":
            log.warn("recipient left for a retry", { ...ids, reason: action.reason });
            return "retry";
        case "defer": {
            const scheduled = await scheduleDeferral(config, request, plan, action.until, now, () =>
                remainingMs(context),
            );
            if (!scheduled) return "retry";
            return outcomeOf(request.notificationId, request.campaignId, plan, "DEFERRED", config.channel, {
                reason: `${action.reason}: until ${new Date(action.until).toISOString()}`,
            });
        }
        case "send": {
            const result = await config.deliver({
                delivery: action.delivery,
                request,
                userId: recipient.userId,
                remaining: () => remainingMs(context),
            });
            const status = result.status === "RETRY" ? "PENDING" : result.status;
            const sentDevices = "sentDevices" in result ? result.sentDevices : undefined;
            if (result.status === "RETRY" && result.errorClass === "operational") {
                // Not the message's fault and it will not heal by itself: loud, for the operator.
                log.error("provider refused: setup or account needs fixing; the record goes back to the queue", {
                    ...ids,
                    reason: result.reason,
                });
            } else if (result.status !== "SENT") {
                log.warn("delivery did not complete", { ...ids, status: result.status, reason: result.reason });
            }
            return outcomeOf(request.notificationId, request.campaignId, plan, status, config.channel, {
                reason: result.status === "SENT" ? undefined : result.reason,
                providerMessageId: result.status === "SENT" ? result.providerMessageId : undefined,
                sentDevices,
                rateCounterId: result.status === "SENT" ? action.rateCounterId : undefined,
            });
        }
    }
}

function outcomeOf(
    notificationId: string,
    campaignId: string | undefined,
    plan: RecipientPlan,
    status: RecipientOutcome["status"],
    channel: Channel,
    extra: Partial<RecipientOutcome>,
): RecipientOutcome {
    const outcome: RecipientOutcome = { notificationId, recipientKey: plan.recipient.recipientKey, channel, status };
    if (plan.recipient.userId) outcome.userId = plan.recipient.userId;
    if (campaignId) outcome.campaignId = campaignId;
    for (const [k, v] of Object.entries(extra))
        if (v !== undefined) (outcome as unknown as Record<string, unknown>)[k] = v;
    return outcome;
}

/**
 * One-time Scheduler schedule back onto this channel's queue. The name carries the deferral's target
 * (`until`, the same on a retry of this record), so a clash means "this deferral is already scheduled".
 */
async function scheduleDeferral(
    config: SenderConfig,
    request: NotificationRequest,
    plan: RecipientPlan,
    until: number,
    now: number,
    remaining: () => number,
): Promise<boolean> {
    const { log } = config.telemetry;
    const name = deferralScheduleName(request.notificationId, config.channel, plan.recipient.recipientKey, until);
    // Throttling (CreateSchedule has a per-account rate) backs off within the time budget like a send;
    // past it, or on any other error, the record goes back to the queue (no DEFERRED row).
    const result = await callWithBackoff(
        () =>
            config.scheduler.send(
                new CreateScheduleCommand({
                    Name: name,
                    GroupName: config.deferral.group,
                    ScheduleExpression: atExpression(Math.max(until, now + 60_000)),
                    ScheduleExpressionTimezone: "UTC",
                    FlexibleTimeWindow: { Mode: "OFF" },
                    ActionAfterCompletion: "DELETE",
                    Target: {
                        Arn: config.deferral.queueArn,
                        RoleArn: config.deferral.roleArn,
                        Input: deferredRequestBody(request, config.channel, plan.recipient),
                    },
                }),
            ),
        remaining,
        { minRemainingMs: SEND_TIME_GUARD_MS },
    );
    if (result.ok || result.error.name === "ConflictException") return true;
    const logged = {
        notificationId: request.notificationId,
        schedule: name,
        errorClass: result.errorClass,
        error: result.error,
    };
    if (result.errorClass === "throttled" || result.errorClass === "transient")
        log.warn("deferral not scheduled yet; the record goes back to the queue", logged);
    else log.error("could not schedule the deferral", logged);
    return false;
}

async function writeBookkeeping(
    config: SenderConfig,
    outcomes: RecipientOutcome[],
    data: BatchData,
    now: number,
): Promise<void> {
    const { tables, telemetry } = config;
    const puts = outcomes.map((o) => ({
        table: tables.deliveryLog,
        item: marshall({
            ...deliveryLogRow(o, now, config.ttlDays, data.logRows.get(logKey(o.notificationId, o.recipientKey))),
        }),
    }));
    for (const counter of rateCounterRows(outcomes, data.rateCounts, now)) {
        puts.push({ table: tables.idempotency, item: marshall({ ...counter }) });
    }
    try {
        await batchPutAll(config.dynamo, puts);
    } catch (error) {
        // The sends already happened: failing the batch now would send them again. Log loudly instead.
        telemetry.log.error("delivery-log write failed", { error, rows: puts.length });
    }
    if (outcomes.length > 0) {
        await putAnalytics(
            config.firehose,
            config.analyticsStream,
            outcomes.map((o) => analyticsEvent(o, now)),
            telemetry.log,
        );
    }
}

function countOutcome(telemetry: Telemetry, channel: Channel, outcome: RecipientOutcome) {
    const { metrics } = telemetry;
    metrics.add(channel, METRICS.attempted);
    const byStatus: Partial<Record<RecipientOutcome["status"], (typeof METRICS)[keyof typeof METRICS]>> = {
        SENT: METRICS.delivered,
        FAILED: METRICS.failed,
        SUPPRESSED: METRICS.suppressed,
        DEFERRED: METRICS.deferred,
    };
    const metric = byStatus[outcome.status];
    if (metric) metrics.add(channel, metric);
}
