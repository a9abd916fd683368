/**
 * The sender's decision core: for a whole SQS batch, given everything read for it up front, decide per
 * record and recipient whether to skip (already sent), fail, suppress, defer or send, and what exactly
 * to send. No I/O: the adapter reads, calls this, performs the sends, then writes the outcomes.
 */
import { parseNotificationRequest, requestTargetsChannel } from "./request";
import {
    hourWindow,
    isSentStatus,
    logKey,
    rateCounterId,
    recipientsFor,
    requestRecipient,
    type RecipientRef,
} from "./deliveryLog";
import { quietHoursEnd } from "./quietHours";
import { localeCandidates, selectVariant } from "./templates";
import type { Composer } from "./compose/composer";
import type {
    Channel,
    ChannelPreference,
    DeliveryLogRow,
    NotificationRequest,
    Profile,
    TemplateVariant,
} from "./types";

export interface QueueRecord {
    messageId: string;
    body: string;
    /** SQS system attributes; SentTimestamp (epoch ms as a string) is when the message entered the queue. */
    attributes?: { SentTimestamp?: string };
}

/**
 * When the record's message entered the queue: its SentTimestamp, never later than `now` (clock skew),
 * or `now` when the attribute is absent (a hand-built event). A redelivered record keeps its original
 * SentTimestamp, so neither a backlog nor a retry after the visibility timeout ages its sendAt.
 */
export function enqueuedAt(record: QueueRecord, now: number): number {
    const sent = Number(record.attributes?.SentTimestamp);
    return Number.isFinite(sent) && sent > 0 ? Math.min(sent, now) : now;
}

/** What the adapter must read before planning (round 1), as plain keys. */
export interface ReadKeys {
    userIds: string[];
    logKeys: { notificationId: string; recipientKey: string }[];
    templateKeys: { templateId: string; locale: string }[];
}

/** What every channel reads for the batch. Map keys: userId, logKey(), counter id, templateKey(). */
export interface SharedBatchData {
    profiles: Map<string, Profile>;
    preferences: Map<string, ChannelPreference>;
    logRows: Map<string, DeliveryLogRow>;
    templates: Map<string, TemplateVariant>;
}

/** Everything read for the batch: the shared part, plus what only this channel reads (its enrichment). */
export interface BatchData<E = unknown> extends SharedBatchData {
    enrichment: E;
}

export const templateKey = (templateId: string, locale: string) => `${templateId}|${locale}`;

export interface PlanOptions<D, E> {
    now: number;
    /** Sends per user per hour on this channel; undefined = unlimited. */
    rateLimit?: number;
    /** The channel's composer: its address rules and content. */
    composer: Composer<D, E>;
}

export type Action<D = unknown> =
    | { kind: "skip"; reason: string }
    | { kind: "fail"; reason: string }
    | { kind: "suppress"; reason: string }
    /** Nothing recorded; the record goes back to its queue (a fact needed to decide is missing for now). */
    | { kind: "retry"; reason: string }
    | { kind: "defer"; until: number; reason: string }
    | { kind: "send"; delivery: D; rateCounterId: string };

export interface RecipientPlan<D = unknown> {
    recipient: RecipientRef;
    action: Action<D>;
}

/**
 * One record of the batch, whatever its recipients carry: the parsed recipients (Parsed) or each one's
 * decided action (RecordPlan). Ignored: not for this channel; invalid: recorded with its reason.
 */
type BatchRecord<R> =
    | { messageId: string; kind: "ignore"; reason: string }
    | {
          messageId: string;
          kind: "invalid";
          reason: string;
          notificationId?: string;
          campaignId?: string;
          recipients: R[];
      }
    | {
          messageId: string;
          kind: "request";
          request: NotificationRequest;
          recipients: R[];
          /** When the record entered the queue (enqueuedAt); absent in hand-built plans: the batch's now. */
          queuedAt?: number;
      };

export type RecordPlan<D = unknown> = BatchRecord<RecipientPlan<D>>;
export type Parsed = BatchRecord<RecipientRef>;

/**
 * Step 1: parse every record and decide which belong to this channel. A sendAt is judged "in the past"
 * (invalid) against when the record was queued; whether it has passed *now* (send) or not (defer) is
 * planRecipient's decision, at processing time.
 */
export function parseBatch(records: QueueRecord[], channel: Channel, now: number): Parsed[] {
    return records.map((r): Parsed => {
        const queuedAt = enqueuedAt(r, now);
        const parsed = parseNotificationRequest(r.body, new Date(queuedAt));
        if (parsed.ok) {
            if (!requestTargetsChannel(parsed.request, channel)) {
                return { messageId: r.messageId, kind: "ignore", reason: `not for ${channel}` };
            }
            return {
                messageId: r.messageId,
                kind: "request",
                request: parsed.request,
                recipients: recipientsFor(parsed.request, channel),
                queuedAt,
            };
        }
        if (parsed.channels && !parsed.channels.includes(channel)) {
            return { messageId: r.messageId, kind: "ignore", reason: `not for ${channel}` };
        }
        const recipients =
            parsed.notificationId && parsed.recipients ? recipientsFor({ recipients: parsed.recipients }, channel) : [];
        // A bad request that names nobody usable on this channel, or too many, still leaves its trace:
        // one request-level row with the reason (given a notificationId to key it by).
        if (parsed.notificationId && (recipients.length === 0 || parsed.recipientsOverLimit !== undefined))
            recipients.push(requestRecipient(channel));
        return {
            messageId: r.messageId,
            kind: "invalid",
            reason: parsed.reason,
            notificationId: parsed.notificationId,
            campaignId: parsed.campaignId,
            recipients,
        };
    });
}

/**
 * Step 2: the keys to read for the parsed batch (templates: the request's locale chain only). With
 * `previousRows: false` (a channel whose composer does not look at the previous row) the delivery-log
 * rows of valid requests are not read: their claim refuses a row already sent (core/claims), at no
 * extra call. Invalid requests' rows are always read, so a FAILED row never replaces a sent one.
 */
export function readKeys(parsed: Parsed[], options: { previousRows?: boolean } = {}): ReadKeys {
    const previousRows = options.previousRows ?? true;
    const userIds = new Set<string>();
    const logKeys = new Map<string, { notificationId: string; recipientKey: string }>();
    const templates = new Map<string, { templateId: string; locale: string }>();
    for (const p of parsed) {
        if (p.kind === "ignore") continue;
        const notificationId = p.kind === "request" ? p.request.notificationId : p.notificationId;
        if (!notificationId) continue;
        for (const r of p.recipients) {
            if (previousRows || p.kind !== "request")
                logKeys.set(logKey(notificationId, r.recipientKey), { notificationId, recipientKey: r.recipientKey });
            if (p.kind !== "request") continue;
            if (r.userId) userIds.add(r.userId);
        }
        if (p.kind === "request" && p.request.template) {
            for (const locale of localeCandidates(p.request.locale)) {
                templates.set(templateKey(p.request.template, locale), { templateId: p.request.template, locale });
            }
        }
    }
    return {
        userIds: [...userIds],
        logKeys: [...logKeys.values()],
        templateKeys: [...templates.values()],
    };
}

/** Step 3: template keys still missing once profiles are known (a profile locale the request did not give). */
export function missingTemplateKeys(parsed: Parsed[], data: Pick<SharedBatchData, "profiles">, fetched: Set<string>) {
    const out = new Map<string, { templateId: string; locale: string }>();
    for (const p of parsed) {
        if (p.kind !== "request" || !p.request.template || p.request.locale) continue;
        for (const r of p.recipients) {
            const locale = r.userId ? data.profiles.get(r.userId)?.locale : undefined;
            for (const candidate of localeCandidates(locale)) {
                const key = templateKey(p.request.template, candidate);
                if (!fetched.has(key)) out.set(key, { templateId: p.request.template, locale: candidate });
            }
        }
    }
    return [...out.values()];
}

/** Step 4: the plan for every record. */
export function planBatch<D, E>(parsed: Parsed[], data: BatchData<E>, options: PlanOptions<D, E>): RecordPlan<D>[] {
    const { channel } = options.composer;
    const sentThisBatch = new Map<string, number>();
    // The same notification and recipient twice in one batch (a duplicate publish): only the first counts.
    const seenThisBatch = new Set<string>();
    const firstInBatch = (notificationId: string | undefined, recipientKey: string) => {
        if (!notificationId) return true;
        const key = logKey(notificationId, recipientKey);
        if (seenThisBatch.has(key)) return false;
        seenThisBatch.add(key);
        return true;
    };
    return parsed.map((p): RecordPlan<D> => {
        if (p.kind === "ignore") return p;
        if (p.kind === "invalid") {
            const recipients = p.recipients.map((recipient) => {
                const previous = p.notificationId
                    ? data.logRows.get(logKey(p.notificationId, recipient.recipientKey))
                    : undefined;
                const action: Action<D> = !firstInBatch(p.notificationId, recipient.recipientKey)
                    ? { kind: "skip", reason: "duplicate in this batch" }
                    : previous && isSentStatus(previous.status)
                      ? { kind: "skip", reason: `already ${previous.status}` }
                      : { kind: "fail", reason: p.reason };
                return { recipient, action };
            });
            return { ...p, recipients };
        }
        const recipients = p.recipients.map((recipient) => ({
            recipient,
            action: firstInBatch(p.request.notificationId, recipient.recipientKey)
                ? planRecipient(p.request, recipient, data, options, sentThisBatch, p.queuedAt ?? options.now)
                : ({ kind: "skip", reason: "duplicate in this batch" } as Action<D>),
        }));
        if (recipients.length === 0) {
            // A request that names no channels reaches every channel queue: the SMS copy of a request
            // whose recipients have only e-mail addresses is normal traffic, not a problem. Only a request
            // that named this channel and gave it nobody is the producer's mistake.
            const reason = `no ${channel} recipient in the request`;
            if (!p.request.channels?.includes(channel)) return { messageId: p.messageId, kind: "ignore", reason };
            const { notificationId, campaignId } = p.request;
            const requestRow = { recipient: requestRecipient(channel), action: { kind: "fail", reason } as Action<D> };
            return {
                messageId: p.messageId,
                kind: "invalid",
                reason,
                notificationId,
                campaignId,
                recipients: [requestRow],
            };
        }
        return { ...p, recipients };
    });
}

function planRecipient<D, E>(
    request: NotificationRequest,
    recipient: RecipientRef,
    data: BatchData<E>,
    options: PlanOptions<D, E>,
    sentThisBatch: Map<string, number>,
    queuedAt: number,
): Action<D> {
    const { now, composer } = options;
    const { channel } = composer;
    const previous = data.logRows.get(logKey(request.notificationId, recipient.recipientKey));
    if (previous && isSentStatus(previous.status)) return { kind: "skip", reason: `already ${previous.status}` };
    if (recipient.problem) return { kind: "fail", reason: recipient.problem };

    const profile = recipient.userId ? data.profiles.get(recipient.userId) : undefined;
    if (recipient.userId && !profile) return { kind: "fail", reason: `unknown user ${recipient.userId}` };
    const preference = recipient.userId ? data.preferences.get(recipient.userId) : undefined;
    const optedIn = preference?.optIn ?? (recipient.userId ? composer.defaultOptIn : true);
    if (!optedIn) return { kind: "suppress", reason: `user has not opted in to ${channel}` };

    const locale = request.locale ?? profile?.locale;
    const variant = request.template ? selectVariant(templatesOf(request.template, data.templates), locale) : undefined;
    if (request.template && !variant) return { kind: "fail", reason: `template ${request.template} not found` };
    const composed = composer.compose({
        request,
        recipient,
        profile,
        variant,
        values: request.data ?? {},
        enrichment: data.enrichment,
        previous,
        queuedAt,
    });
    if (composed.kind !== "send") return composed;

    if (request.sendAt && Date.parse(request.sendAt) > now) {
        return { kind: "defer", until: Date.parse(request.sendAt), reason: `sendAt ${request.sendAt}` };
    }
    if (request.priority !== "high" && composer.holdsForQuietHours !== false) {
        const timeZone = profile?.timezone ?? "UTC";
        const until = quietHoursEnd(now, timeZone, preference?.quietHours);
        if (until !== undefined) return { kind: "defer", until, reason: `quiet hours in ${timeZone}` };
    }
    const counterId = rateCounterId(channel, recipient.identity, hourWindow(now));
    // Within the batch; what earlier batches sent is checked by the claim's counter (core/claims).
    const used = sentThisBatch.get(counterId) ?? 0;
    if (options.rateLimit !== undefined && used >= options.rateLimit) {
        return { kind: "suppress", reason: `rate limited: ${options.rateLimit} ${channel} per hour` };
    }
    sentThisBatch.set(counterId, (sentThisBatch.get(counterId) ?? 0) + 1);
    return { kind: "send", delivery: composed.delivery, rateCounterId: counterId };
}

function templatesOf(templateId: string, all: Map<string, TemplateVariant>): Map<string, TemplateVariant> {
    const out = new Map<string, TemplateVariant>();
    for (const variant of all.values()) if (variant.templateId === templateId) out.set(variant.locale, variant);
    return out;
}
