/**
 * Hand-written validation of the NotificationRequest contract (no zod: every package would ship in
 * each function archive). Each problem is reported with the field that caused it; the partial
 * identity (notificationId, recipients) is returned even for an invalid request so the processor can
 * record FAILED rows for the recipients it can name.
 */
import { CHANNELS } from "./channels";
import type { Channel, DataValue, NotificationRequest, Priority, RecipientSpec } from "./types";

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const TEMPLATE_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
/** BCP-47 as used here: a 2-3 letter language, then subtags (script, region, variant). */
export const LOCALE_PATTERN = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
/** ISO-8601 date-time with an explicit offset or Z (a zone-less time would be ambiguous). */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
export const MAX_RECIPIENTS = 100;
/**
 * A request travels as one SNS message (at most 262,144 bytes); a body above that can only come from
 * a producer writing to a channel queue directly, around the contract, and is refused whole.
 */
export const MAX_BODY_BYTES = 262_144;
const MAX_TEXT_CHARS = 100_000;
/**
 * A sendAt this little before the request entered the queue still counts as "now" (clock skew between
 * producer and AWS). Older ones are the producer's error: invalid. Time spent in the queue (backlog,
 * a retry after the visibility timeout) never counts against the request: see parseNotificationRequest.
 */
export const SEND_AT_GRACE_MS = 60_000;

export type ParsedRequest =
    | { ok: true; request: NotificationRequest }
    | {
          ok: false;
          reason: string;
          /** What could be identified despite the error, to record FAILED rows against. */
          notificationId?: string;
          recipients?: RecipientSpec[];
          campaignId?: string;
          /** The channels list when it was itself valid (a processor not named there stays silent). */
          channels?: Channel[];
          /** More recipients than MAX_RECIPIENTS: only the first ones are in `recipients`. */
          recipientsOverLimit?: number;
      };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Parses and validates one queue message body. `enqueuedAt` decides whether sendAt was already in the
 * past: the instant the producer's message entered the queue (SQS SentTimestamp), not the processing
 * time, so a valid request that waits in a backlog or comes back after a timeout stays valid (a sendAt
 * passed by then means "send now", which the plan decides).
 */
export function parseNotificationRequest(body: string, enqueuedAt: Date): ParsedRequest {
    let raw: unknown;
    try {
        raw = JSON.parse(body);
    } catch {
        return { ok: false, reason: "body is not valid JSON" };
    }
    if (!isRecord(raw)) return { ok: false, reason: "body is not a JSON object" };
    const identity = partialIdentity(raw);
    const bytes = Buffer.byteLength(body, "utf8");
    const problem =
        bytes > MAX_BODY_BYTES
            ? `body is ${bytes} bytes, above the ${MAX_BODY_BYTES} a request may have (one SNS message)`
            : findProblem(raw, enqueuedAt);
    if (problem) return { ok: false, reason: problem, ...identity };
    return { ok: true, request: normalize(raw) };
}

function partialIdentity(raw: Record<string, unknown>) {
    const notificationId =
        typeof raw.notificationId === "string" && ID_PATTERN.test(raw.notificationId) ? raw.notificationId : undefined;
    const campaignId =
        typeof raw.campaignId === "string" && ID_PATTERN.test(raw.campaignId) ? raw.campaignId : undefined;
    let recipients: RecipientSpec[] | undefined;
    if (typeof raw.userId === "string" && ID_PATTERN.test(raw.userId) && raw.recipients === undefined) {
        recipients = [{ userId: raw.userId }];
    } else if (Array.isArray(raw.recipients) && raw.userId === undefined) {
        recipients = raw.recipients.slice(0, MAX_RECIPIENTS).flatMap((r) => {
            if (!isRecord(r)) return [];
            const spec: RecipientSpec = {};
            if (typeof r.userId === "string" && ID_PATTERN.test(r.userId)) spec.userId = r.userId;
            if (typeof r.email === "string") spec.email = r.email;
            if (typeof r.phone === "string") spec.phone = r.phone;
            return spec.userId || spec.email || spec.phone ? [spec] : [];
        });
    }
    const channels = checkChannels(raw.channels) === undefined ? (raw.channels as Channel[] | undefined) : undefined;
    const recipientsOverLimit =
        Array.isArray(raw.recipients) && raw.recipients.length > MAX_RECIPIENTS ? raw.recipients.length : undefined;
    return { notificationId, recipients, campaignId, channels, recipientsOverLimit };
}

/** The first problem of the request, or undefined when it is valid. */
function findProblem(raw: Record<string, unknown>, enqueuedAt: Date): string | undefined {
    const idProblem = checkId(raw.notificationId, "notificationId", true);
    if (idProblem) return idProblem;
    const recipientProblem = checkRecipients(raw);
    if (recipientProblem) return recipientProblem;
    const channelProblem = checkChannels(raw.channels);
    if (channelProblem) return channelProblem;
    return checkContent(raw) ?? checkDelivery(raw, enqueuedAt);
}

function checkId(value: unknown, field: string, required: boolean): string | undefined {
    if (value === undefined) return required ? `${field} is required` : undefined;
    if (typeof value !== "string") return `${field} must be a string`;
    if (!ID_PATTERN.test(value)) return `${field} must match [A-Za-z0-9_-]{1,128}`;
    return undefined;
}

function checkRecipients(raw: Record<string, unknown>): string | undefined {
    const hasUser = raw.userId !== undefined;
    const hasList = raw.recipients !== undefined;
    if (hasUser === hasList) return "exactly one of userId and recipients is required";
    if (hasUser) return checkId(raw.userId, "userId", true);
    if (!Array.isArray(raw.recipients)) return "recipients must be an array";
    if (raw.recipients.length === 0) return "recipients must not be empty";
    if (raw.recipients.length > MAX_RECIPIENTS) return `recipients must hold at most ${MAX_RECIPIENTS} entries`;
    for (const [i, r] of raw.recipients.entries()) {
        if (!isRecord(r)) return `recipients[${i}] must be an object`;
        const idProblem = checkId(r.userId, `recipients[${i}].userId`, false);
        if (idProblem) return idProblem;
        for (const field of ["email", "phone"] as const) {
            if (r[field] !== undefined && typeof r[field] !== "string")
                return `recipients[${i}].${field} must be a string`;
        }
        if (r.userId === undefined && r.email === undefined && r.phone === undefined) {
            return `recipients[${i}] needs a userId, an email or a phone`;
        }
    }
    return undefined;
}

function checkChannels(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) return "channels must be an array";
    if (value.length === 0) return "channels must not be empty (leave it out for every opted-in channel)";
    for (const c of value) {
        if (typeof c !== "string") return "channels must hold strings";
        if (!(CHANNELS as readonly string[]).includes(c)) return `unknown channel '${c}' (expected push, email or sms)`;
    }
    return undefined;
}

function checkContent(raw: Record<string, unknown>): string | undefined {
    for (const field of ["title", "body", "subject"] as const) {
        const v = raw[field];
        if (v === undefined) continue;
        if (typeof v !== "string") return `${field} must be a string`;
        if (v.length > MAX_TEXT_CHARS) return `${field} is longer than ${MAX_TEXT_CHARS} characters`;
    }
    if (raw.template !== undefined) {
        if (typeof raw.template !== "string") return "template must be a string";
        if (!TEMPLATE_PATTERN.test(raw.template)) return "template must match [A-Za-z0-9_.-]{1,128}";
        if (raw.title !== undefined || raw.body !== undefined || raw.subject !== undefined) {
            return "give either template or direct title/body/subject, not both";
        }
    } else if (raw.body === undefined || raw.body === "") {
        return "body is required when no template is given";
    }
    if (raw.locale !== undefined) {
        if (typeof raw.locale !== "string") return "locale must be a string";
        if (!LOCALE_PATTERN.test(raw.locale)) return "locale must be a BCP-47 tag such as en or de-AT";
    }
    if (raw.data !== undefined) {
        if (!isRecord(raw.data)) return "data must be an object";
        for (const [k, v] of Object.entries(raw.data)) {
            if (typeof v !== "string" && typeof v !== "boolean" && !(typeof v === "number" && Number.isFinite(v))) {
                return `data.${k} must be a string, a finite number or a boolean`;
            }
        }
    }
    return undefined;
}

function checkDelivery(raw: Record<string, unknown>, enqueuedAt: Date): string | undefined {
    if (raw.priority !== undefined && raw.priority !== "high" && raw.priority !== "normal") {
        return "priority must be high or normal";
    }
    const campaignProblem = checkId(raw.campaignId, "campaignId", false);
    if (campaignProblem) return campaignProblem;
    if (raw.sendAt !== undefined) {
        if (typeof raw.sendAt !== "string" || !ISO_DATE_TIME.test(raw.sendAt) || Number.isNaN(Date.parse(raw.sendAt))) {
            return "sendAt must be an ISO-8601 date-time with a zone, e.g. 2030-01-31T09:00:00Z";
        }
        if (Date.parse(raw.sendAt) < enqueuedAt.getTime() - SEND_AT_GRACE_MS) {
            return `sendAt ${raw.sendAt} was in the past when the request was queued`;
        }
    }
    return undefined;
}

/** Copies the known fields of a validated request (unknown ones are dropped, defaults applied). */
function normalize(raw: Record<string, unknown>): NotificationRequest {
    const request: NotificationRequest = {
        notificationId: raw.notificationId as string,
        priority: (raw.priority as Priority | undefined) ?? "normal",
    };
    if (raw.userId !== undefined) request.userId = raw.userId as string;
    if (raw.recipients !== undefined) {
        request.recipients = (raw.recipients as Record<string, unknown>[]).map((r) => {
            const spec: RecipientSpec = {};
            if (r.userId !== undefined) spec.userId = r.userId as string;
            if (r.email !== undefined) spec.email = (r.email as string).trim();
            if (r.phone !== undefined) spec.phone = (r.phone as string).trim();
            return spec;
        });
    }
    if (raw.channels !== undefined) request.channels = [...new Set(raw.channels as Channel[])];
    for (const field of ["template", "locale", "title", "body", "subject", "sendAt", "campaignId"] as const) {
        if (raw[field] !== undefined) request[field] = raw[field] as string;
    }
    if (raw.data !== undefined) request.data = { ...(raw.data as Record<string, DataValue>) };
    return request;
}

/** Whether this channel's processor should act on the request (it names the channel or names none). */
export function requestTargetsChannel(request: NotificationRequest, channel: Channel): boolean {
    return request.channels === undefined || request.channels.includes(channel);
}
