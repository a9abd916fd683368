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

/** One problem of a request: the field it is about (a JSON path such as `recipients[0].email`) and what is wrong. */
export interface RequestFieldError {
    field: string;
    problem: string;
}

export type ParsedRequest =
    | { ok: true; request: NotificationRequest }
    | {
          ok: false;
          /** The first problem (what the senders record as the FAILED rows' reason). */
          reason: string;
          /** Every problem found, in the order they were checked; `errors[0].problem === reason`. */
          errors: RequestFieldError[];
          /** What could be identified despite the error, to record FAILED rows against. */
          notificationId?: string;
          recipients?: RecipientSpec[];
          campaignId?: string;
          /** The channels list when it was itself valid (a processor not named there stays silent). */
          channels?: Channel[];
          /** More recipients than MAX_RECIPIENTS: only the first ones are in `recipients`. */
          recipientsOverLimit?: number;
      };

/** The pseudo-field of problems about the body as a whole (not JSON, not an object, too large). */
export const WHOLE_BODY_FIELD = "(body)";

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Collects field errors in the order the checks run. */
type Collect = (field: string, problem: string) => void;

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
        return invalid([{ field: WHOLE_BODY_FIELD, problem: "body is not valid JSON" }]);
    }
    if (!isRecord(raw)) return invalid([{ field: WHOLE_BODY_FIELD, problem: "body is not a JSON object" }]);
    const identity = partialIdentity(raw);
    const bytes = Buffer.byteLength(body, "utf8");
    const errors =
        bytes > MAX_BODY_BYTES
            ? [
                  {
                      field: WHOLE_BODY_FIELD,
                      problem: `body is ${bytes} bytes, above the ${MAX_BODY_BYTES} a request may have (one SNS message)`,
                  },
              ]
            : validateNotificationRequest(raw, enqueuedAt);
    if (errors.length > 0) return { ...invalid(errors), ...identity };
    return { ok: true, request: normalize(raw) };
}

function invalid(errors: RequestFieldError[]): Extract<ParsedRequest, { ok: false }> {
    return { ok: false, reason: errors[0].problem, errors };
}

/**
 * Every problem of an already parsed request object, field by field, in a fixed order (id, recipients,
 * channels, content, delivery); empty when it is valid. The first one is the reason a sender records, so
 * that order is part of the contract. The HTTP API answers the whole list (400).
 */
export function validateNotificationRequest(raw: Record<string, unknown>, enqueuedAt: Date): RequestFieldError[] {
    const errors: RequestFieldError[] = [];
    const collect: Collect = (field, problem) => errors.push({ field, problem });
    checkId(raw.notificationId, "notificationId", true, collect);
    checkRecipients(raw, collect);
    checkChannels(raw.channels, collect);
    checkContent(raw, collect);
    checkDelivery(raw, enqueuedAt, collect);
    return errors;
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
    let channelsValid = true;
    checkChannels(raw.channels, () => {
        channelsValid = false;
    });
    const channels = channelsValid ? (raw.channels as Channel[] | undefined) : undefined;
    const recipientsOverLimit =
        Array.isArray(raw.recipients) && raw.recipients.length > MAX_RECIPIENTS ? raw.recipients.length : undefined;
    return { notificationId, recipients, campaignId, channels, recipientsOverLimit };
}

function checkId(value: unknown, field: string, required: boolean, collect: Collect): void {
    if (value === undefined) {
        if (required) collect(field, `${field} is required`);
    } else if (typeof value !== "string") collect(field, `${field} must be a string`);
    else if (!ID_PATTERN.test(value)) collect(field, `${field} must match [A-Za-z0-9_-]{1,128}`);
}

function checkRecipients(raw: Record<string, unknown>, collect: Collect): void {
    const hasUser = raw.userId !== undefined;
    const hasList = raw.recipients !== undefined;
    if (hasUser === hasList) {
        collect(hasUser ? "recipients" : "userId", "exactly one of userId and recipients is required");
        return;
    }
    if (hasUser) {
        checkId(raw.userId, "userId", true, collect);
        return;
    }
    if (!Array.isArray(raw.recipients)) {
        collect("recipients", "recipients must be an array");
        return;
    }
    if (raw.recipients.length === 0) {
        collect("recipients", "recipients must not be empty");
        return;
    }
    if (raw.recipients.length > MAX_RECIPIENTS) {
        collect("recipients", `recipients must hold at most ${MAX_RECIPIENTS} entries`);
    }
    for (const [i, r] of raw.recipients.slice(0, MAX_RECIPIENTS).entries()) {
        const at = `recipients[${i}]`;
        if (!isRecord(r)) {
            collect(at, `${at} must be an object`);
            continue;
        }
        checkId(r.userId, `${at}.userId`, false, collect);
        for (const field of ["email", "phone"] as const) {
            if (r[field] !== undefined && typeof r[field] !== "string")
                collect(`${at}.${field}`, `${at}.${field} must be a string`);
        }
        if (r.userId === undefined && r.email === undefined && r.phone === undefined) {
            collect(at, `${at} needs a userId, an email or a phone`);
        }
    }
}

function checkChannels(value: unknown, collect: Collect): void {
    if (value === undefined) return;
    if (!Array.isArray(value)) {
        collect("channels", "channels must be an array");
        return;
    }
    if (value.length === 0) {
        collect("channels", "channels must not be empty (leave it out for every opted-in channel)");
        return;
    }
    for (const [i, c] of value.entries()) {
        if (typeof c !== "string") collect(`channels[${i}]`, "channels must hold strings");
        else if (!(CHANNELS as readonly string[]).includes(c))
            collect(`channels[${i}]`, `unknown channel '${c}' (expected ${CHANNELS.join(", ")})`);
    }
}

function checkContent(raw: Record<string, unknown>, collect: Collect): void {
    for (const field of ["title", "body", "subject"] as const) {
        const v = raw[field];
        if (v === undefined) continue;
        if (typeof v !== "string") collect(field, `${field} must be a string`);
        else if (v.length > MAX_TEXT_CHARS) collect(field, `${field} is longer than ${MAX_TEXT_CHARS} characters`);
    }
    if (raw.template !== undefined) {
        if (typeof raw.template !== "string") collect("template", "template must be a string");
        else if (!TEMPLATE_PATTERN.test(raw.template)) collect("template", "template must match [A-Za-z0-9_.-]{1,128}");
        if (raw.title !== undefined || raw.body !== undefined || raw.subject !== undefined) {
            collect("template", "give either template or direct title/body/subject, not both");
        }
    } else if (raw.body === undefined || raw.body === "") {
        collect("body", "body is required when no template is given");
    }
    if (raw.locale !== undefined) {
        if (typeof raw.locale !== "string") collect("locale", "locale must be a string");
        else if (!LOCALE_PATTERN.test(raw.locale)) collect("locale", "locale must be a BCP-47 tag such as en or de-AT");
    }
    if (raw.data !== undefined) {
        if (!isRecord(raw.data)) {
            collect("data", "data must be an object");
            return;
        }
        for (const [k, v] of Object.entries(raw.data)) {
            if (typeof v !== "string" && typeof v !== "boolean" && !(typeof v === "number" && Number.isFinite(v))) {
                collect(`data.${k}`, `data.${k} must be a string, a finite number or a boolean`);
            }
        }
    }
}

function checkDelivery(raw: Record<string, unknown>, enqueuedAt: Date, collect: Collect): void {
    if (raw.priority !== undefined && raw.priority !== "high" && raw.priority !== "normal") {
        collect("priority", "priority must be high or normal");
    }
    checkId(raw.campaignId, "campaignId", false, collect);
    if (raw.sendAt !== undefined) {
        if (typeof raw.sendAt !== "string" || !ISO_DATE_TIME.test(raw.sendAt) || Number.isNaN(Date.parse(raw.sendAt))) {
            collect("sendAt", "sendAt must be an ISO-8601 date-time with a zone, e.g. 2030-01-31T09:00:00Z");
        } else if (Date.parse(raw.sendAt) < enqueuedAt.getTime() - SEND_AT_GRACE_MS) {
            collect("sendAt", `sendAt ${raw.sendAt} was in the past when the request was queued`);
        }
    }
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
