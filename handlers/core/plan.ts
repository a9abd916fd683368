/**
 * The sender's decision core: for a whole SQS batch, given everything read for it up front, decide per
 * record and recipient whether to skip (already sent), fail, suppress, defer or send, and what exactly
 * to send. No I/O: the adapter reads, calls this, performs the sends, then writes the outcomes.
 */
import { parseNotificationRequest, requestTargetsChannel } from "./request";
import { isSentStatus, logKey, rateCounterId, hourWindow, recipientsFor, type RecipientRef } from "./deliveryLog";
import { quietHoursEnd } from "./quietHours";
import {
    directEmail,
    localeCandidates,
    renderEmail,
    renderPush,
    renderSms,
    selectVariant,
    type EmailContent,
    type PushContent,
    type Rendered,
} from "./templates";
import { buildPushMessage, type ApnsPlatform, type PushMessage } from "./push";
import { isE164, smsProblem } from "./sms";
import { isValidEmail, normalizeEmail } from "./email";
import type {
    Channel,
    ChannelPreference,
    DeliveryLogRow,
    DeviceSummary,
    NotificationRequest,
    Profile,
    TemplateVariant,
} from "./types";

/**
 * Whether a user with no preference row for a channel counts as opted in. SMS needs an explicit
 * opt-in (carrier and consent rules); push and e-mail are on until the user turns them off.
 */
export const DEFAULT_OPT_IN: Record<Channel, boolean> = { push: true, email: true, sms: false };

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
    rateCounterIds: string[];
    templateKeys: { templateId: string; locale: string }[];
}

/** Everything read for the batch. Map keys: userId, logKey(), counter id, templateKey(). */
export interface BatchData {
    profiles: Map<string, Profile>;
    preferences: Map<string, ChannelPreference>;
    summaries: Map<string, DeviceSummary>;
    logRows: Map<string, DeliveryLogRow>;
    rateCounts: Map<string, number>;
    templates: Map<string, TemplateVariant>;
    /** SMS: phone numbers that opted out (from the cached ListPhoneNumbersOptedOut). */
    optedOutPhones?: { has(phone: string): boolean };
    /** SMS: numbers whose opt-out status could not be learned (listing and checks failed): not sent now. */
    optOutUnknownPhones?: { has(phone: string): boolean };
}

export const templateKey = (templateId: string, locale: string) => `${templateId}|${locale}`;

export interface PlanOptions {
    channel: Channel;
    now: number;
    /** Sends per user per hour on this channel; undefined = unlimited. */
    rateLimit?: number;
    apnsPlatform: ApnsPlatform;
}

export interface PushTarget {
    deviceId: string;
    endpointArn: string;
    push: PushMessage;
}

export type Delivery =
    | { channel: "push"; targets: PushTarget[]; alreadySent: string[] }
    | { channel: "email"; to: string; content: EmailContent }
    | { channel: "sms"; phone: string; text: string };

export type Action =
    | { kind: "skip"; reason: string }
    | { kind: "fail"; reason: string }
    | { kind: "suppress"; reason: string }
    /** Nothing recorded; the record goes back to its queue (a fact needed to decide is missing for now). */
    | { kind: "retry"; reason: string }
    | { kind: "defer"; until: number; reason: string }
    | { kind: "send"; delivery: Delivery; rateCounterId: string };

export interface RecipientPlan {
    recipient: RecipientRef;
    action: Action;
}

export type RecordPlan =
    | { messageId: string; kind: "ignore"; reason: string }
    | {
          messageId: string;
          kind: "invalid";
          reason: string;
          notificationId?: string;
          campaignId?: string;
          recipients: RecipientPlan[];
      }
    | { messageId: string; kind: "request"; request: NotificationRequest; recipients: RecipientPlan[] };

type Parsed =
    | { messageId: string; kind: "ignore"; reason: string }
    | {
          messageId: string;
          kind: "invalid";
          reason: string;
          notificationId?: string;
          campaignId?: string;
          recipients: RecipientRef[];
      }
    | { messageId: string; kind: "request"; request: NotificationRequest; recipients: RecipientRef[] };

/**
 * Step 1: parse every record and decide which belong to this channel. A sendAt is judged "in the past"
 * (invalid) against when the record was queued; whether it has passed *now* (send) or not (defer) is
 * planRecipient's decision, at processing time.
 */
export function parseBatch(records: QueueRecord[], channel: Channel, now: number): Parsed[] {
    return records.map((r): Parsed => {
        const parsed = parseNotificationRequest(r.body, new Date(enqueuedAt(r, now)));
        if (parsed.ok) {
            if (!requestTargetsChannel(parsed.request, channel)) {
                return { messageId: r.messageId, kind: "ignore", reason: `not for ${channel}` };
            }
            return {
                messageId: r.messageId,
                kind: "request",
                request: parsed.request,
                recipients: recipientsFor(parsed.request, channel),
            };
        }
        if (parsed.channels && !parsed.channels.includes(channel)) {
            return { messageId: r.messageId, kind: "ignore", reason: `not for ${channel}` };
        }
        const recipients =
            parsed.notificationId && parsed.recipients ? recipientsFor({ recipients: parsed.recipients }, channel) : [];
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

/** Step 2: the keys to read for the parsed batch (templates: the request's locale chain only). */
export function readKeys(parsed: Parsed[], channel: Channel, now: number): ReadKeys {
    const userIds = new Set<string>();
    const logKeys = new Map<string, { notificationId: string; recipientKey: string }>();
    const counters = new Set<string>();
    const templates = new Map<string, { templateId: string; locale: string }>();
    const window = hourWindow(now);
    for (const p of parsed) {
        if (p.kind === "ignore") continue;
        const notificationId = p.kind === "request" ? p.request.notificationId : p.notificationId;
        if (!notificationId) continue;
        for (const r of p.recipients) {
            logKeys.set(logKey(notificationId, r.recipientKey), { notificationId, recipientKey: r.recipientKey });
            if (p.kind !== "request") continue;
            if (r.userId) userIds.add(r.userId);
            counters.add(rateCounterId(channel, r.identity, window));
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
        rateCounterIds: [...counters],
        templateKeys: [...templates.values()],
    };
}

/** Step 3: template keys still missing once profiles are known (a profile locale the request did not give). */
export function missingTemplateKeys(parsed: Parsed[], data: Pick<BatchData, "profiles">, fetched: Set<string>) {
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
export function planBatch(parsed: Parsed[], data: BatchData, options: PlanOptions): RecordPlan[] {
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
    return parsed.map((p): RecordPlan => {
        if (p.kind === "ignore") return p;
        if (p.kind === "invalid") {
            const recipients = p.recipients.map((recipient) => {
                const previous = p.notificationId
                    ? data.logRows.get(logKey(p.notificationId, recipient.recipientKey))
                    : undefined;
                const action: Action = !firstInBatch(p.notificationId, recipient.recipientKey)
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
                ? planRecipient(p.request, recipient, data, options, sentThisBatch)
                : ({ kind: "skip", reason: "duplicate in this batch" } as Action),
        }));
        if (recipients.length === 0) {
            // A request that names no channels reaches every channel queue: the SMS copy of a request
            // whose recipients have only e-mail addresses is normal traffic, not a problem. Only a request
            // that named this channel and gave it nobody is the producer's mistake.
            const reason = `no ${options.channel} recipient in the request`;
            if (!p.request.channels?.includes(options.channel))
                return { messageId: p.messageId, kind: "ignore", reason };
            return { messageId: p.messageId, kind: "invalid", reason, recipients };
        }
        return { ...p, recipients };
    });
}

function planRecipient(
    request: NotificationRequest,
    recipient: RecipientRef,
    data: BatchData,
    options: PlanOptions,
    sentThisBatch: Map<string, number>,
): Action {
    const { channel, now } = options;
    const previous = data.logRows.get(logKey(request.notificationId, recipient.recipientKey));
    if (previous && isSentStatus(previous.status)) return { kind: "skip", reason: `already ${previous.status}` };

    const profile = recipient.userId ? data.profiles.get(recipient.userId) : undefined;
    if (recipient.userId && !profile) return { kind: "fail", reason: `unknown user ${recipient.userId}` };
    const preference = recipient.userId ? data.preferences.get(recipient.userId) : undefined;
    const optedIn = preference?.optIn ?? (recipient.userId ? DEFAULT_OPT_IN[channel] : true);
    if (!optedIn) return { kind: "suppress", reason: `user has not opted in to ${channel}` };

    const locale = request.locale ?? profile?.locale;
    const composed = compose(request, recipient, profile, locale, data, options, previous?.sentDevices ?? []);
    if (composed.kind !== "send") return composed;

    if (request.sendAt && Date.parse(request.sendAt) > now) {
        return { kind: "defer", until: Date.parse(request.sendAt), reason: `sendAt ${request.sendAt}` };
    }
    if (request.priority !== "high") {
        const timeZone = profile?.timezone ?? "UTC";
        const until = quietHoursEnd(now, timeZone, preference?.quietHours);
        if (until !== undefined) return { kind: "defer", until, reason: `quiet hours in ${timeZone}` };
    }
    const counterId = rateCounterId(channel, recipient.identity, hourWindow(now));
    const used = (data.rateCounts.get(counterId) ?? 0) + (sentThisBatch.get(counterId) ?? 0);
    if (options.rateLimit !== undefined && used >= options.rateLimit) {
        return { kind: "suppress", reason: `rate limited: ${options.rateLimit} ${channel} per hour` };
    }
    sentThisBatch.set(counterId, (sentThisBatch.get(counterId) ?? 0) + 1);
    return { kind: "send", delivery: composed.delivery, rateCounterId: counterId };
}

type Composed = { kind: "send"; delivery: Delivery } | { kind: "fail" | "suppress" | "retry"; reason: string };

/** Resolves the address and renders the content for this channel. */
function compose(
    request: NotificationRequest,
    recipient: RecipientRef,
    profile: Profile | undefined,
    locale: string | undefined,
    data: BatchData,
    options: PlanOptions,
    alreadySent: string[],
): Composed {
    const variant = request.template ? selectVariant(templatesOf(request.template, data.templates), locale) : undefined;
    if (request.template && !variant) return { kind: "fail", reason: `template ${request.template} not found` };
    const values = request.data ?? {};

    if (options.channel === "email") {
        const to = recipient.address ?? profile?.email;
        if (!to) return { kind: "fail", reason: "recipient has no e-mail address" };
        if (!isValidEmail(to)) return { kind: "fail", reason: `invalid e-mail address ${to}` };
        if (profile?.emailSuppressed && normalizeEmail(profile.emailSuppressedAddress ?? to) === normalizeEmail(to)) {
            return {
                kind: "suppress",
                reason: `address suppressed: ${profile.emailSuppressedReason ?? "bounce or complaint"}`,
            };
        }
        const content: Rendered<EmailContent> = variant
            ? renderEmail(variant, values)
            : { ok: true, content: directEmail(request.subject, request.body!, request.title) };
        if (!content.ok) return { kind: "fail", reason: content.reason };
        if (!content.content.subject) return { kind: "fail", reason: "e-mail needs a subject (subject or title)" };
        return { kind: "send", delivery: { channel: "email", to, content: content.content } };
    }

    if (options.channel === "sms") {
        const phone = recipient.address ?? profile?.phone;
        if (!phone) return { kind: "fail", reason: "recipient has no phone number" };
        if (!isE164(phone)) return { kind: "fail", reason: `invalid phone number ${phone} (E.164 expected)` };
        if (data.optedOutPhones?.has(phone)) return { kind: "suppress", reason: "phone number opted out of SMS" };
        if (data.optOutUnknownPhones?.has(phone))
            return { kind: "retry", reason: "opt-out status of the number unavailable" };
        const text: Rendered<string> = variant ? renderSms(variant, values) : { ok: true, content: request.body! };
        if (!text.ok) return { kind: "fail", reason: text.reason };
        const problem = smsProblem(text.content);
        if (problem) return { kind: "fail", reason: problem };
        return { kind: "send", delivery: { channel: "sms", phone, text: text.content } };
    }

    const summary = recipient.userId ? data.summaries.get(recipient.userId) : undefined;
    const devices = Object.entries(summary?.devices ?? {}).filter(([, d]) => d.enabled && d.endpointArn);
    if (devices.length === 0) return { kind: "fail", reason: "user has no enabled devices" };
    const content: Rendered<PushContent> = variant
        ? renderPush(variant, values)
        : { ok: true, content: { title: request.title, body: request.body! } };
    if (!content.ok) return { kind: "fail", reason: content.reason };
    const targets: PushTarget[] = [];
    for (const [deviceId, device] of devices) {
        const built = buildPushMessage({
            platform: device.platform,
            apnsPlatform: options.apnsPlatform,
            content: content.content,
            data: values,
            notificationId: request.notificationId,
            priority: request.priority,
        });
        if (!built.ok) return { kind: "fail", reason: built.reason };
        if (!alreadySent.includes(deviceId))
            targets.push({ deviceId, endpointArn: device.endpointArn!, push: built.push });
    }
    return { kind: "send", delivery: { channel: "push", targets, alreadySent } };
}

function templatesOf(templateId: string, all: Map<string, TemplateVariant>): Map<string, TemplateVariant> {
    const out = new Map<string, TemplateVariant>();
    for (const variant of all.values()) if (variant.templateId === templateId) out.set(variant.locale, variant);
    return out;
}
