/**
 * Keys and rows of the bookkeeping the senders do for a whole batch at once: delivery-log rows
 * (idempotency + history), per-user hourly rate counters, deferral schedules, analytics events.
 */
import { createHash } from "node:crypto";
import { STATUS_INDEX_ATTRIBUTE, statusIndexKey } from "./statusIndex";
import type { Channel, DeliveryLogRow, DeliveryStatus, NotificationRequest, RecipientSpec } from "./types";

/**
 * Statuses meaning "something already went out" (or may have: UNCERTAIN): a redelivered request must
 * not send again. (Arrays, not Sets, in module scope: closure serialization turns a captured Set into a
 * plain object.)
 */
export const SENT_STATUSES: readonly DeliveryStatus[] = ["SENT", "DELIVERED", "BOUNCED", "COMPLAINT", "UNCERTAIN"];
export const isSentStatus = (status: DeliveryStatus | undefined) =>
    status !== undefined && SENT_STATUSES.includes(status);

/** A recipient of a request on one channel: a user, or an explicit address with no user. */
export interface RecipientRef {
    userId?: string;
    /** The e-mail address or phone number given in the request itself (overrides the profile). */
    address?: string;
    /**
     * userId, or the explicit address: whom idempotency, rate limiting and the log row are about. Bounded
     * for keys (see keyPart): an address too long or malformed to be a key part is its hash.
     */
    identity: string;
    /** Delivery-log sort key: `<channel>#<identity>` (always under DynamoDB's 1,024-byte limit). */
    recipientKey: string;
    spec: RecipientSpec;
    /** Why this recipient can never be sent to, found before any key was built (e.g. a 3 KB address). */
    problem?: string;
}

/** RFC 5321: a forward-path holds at most 256 octets, so an address at most 254 characters. */
export const MAX_EMAIL_CHARS = 254;
/** E.164: "+" and at most 15 digits. */
export const MAX_PHONE_CHARS = 16;
/**
 * Longest identity used as is in a key. The keys built from it (`<channel>#<identity>` in the delivery
 * log, `rate#<channel>#<identity>#<hour>` in the idempotency table) stay far below DynamoDB's 1,024-byte
 * sort-key and 2,048-byte partition-key limits; every valid address and id fits.
 */
export const MAX_KEY_PART_BYTES = 256;

/**
 * An identity as a key part: itself when short and well-formed UTF-16 (DynamoDB rejects a lone
 * surrogate), else `sha256:<hex>` of it — so whatever a producer sends, no key exceeds its limit and
 * the same input always maps to the same key (idempotency holds for it too).
 */
export function keyPart(identity: string): string {
    const wellFormed = !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(identity);
    if (wellFormed && Buffer.byteLength(identity, "utf8") <= MAX_KEY_PART_BYTES) return identity;
    return `sha256:${createHash("sha256").update(identity, "utf8").digest("hex")}`;
}

/** Bounds an explicit address must meet before it is even looked at (its format is the composer's). */
function addressProblem(channel: Channel, address: string): string | undefined {
    if (channel === "email" && address.length > MAX_EMAIL_CHARS)
        return `e-mail address is ${address.length} characters, above the ${MAX_EMAIL_CHARS} RFC 5321 allows`;
    if (channel === "sms" && address.length > MAX_PHONE_CHARS)
        return `phone number is ${address.length} characters; E.164 allows "+" and at most 15 digits`;
    return undefined;
}

/** The recipients a request has on `channel` (push needs a user: it goes to that user's devices). */
export function recipientsFor(
    request: Pick<NotificationRequest, "userId" | "recipients">,
    channel: Channel,
): RecipientRef[] {
    const specs: RecipientSpec[] = request.userId ? [{ userId: request.userId }] : (request.recipients ?? []);
    const out = new Map<string, RecipientRef>();
    for (const spec of specs) {
        const address = channel === "email" ? spec.email : channel === "sms" ? spec.phone : undefined;
        const raw = spec.userId ?? address;
        if (raw === undefined) continue; // e.g. a phone-only recipient on the e-mail queue
        const identity = keyPart(raw);
        const recipientKey = `${channel}#${identity}`;
        if (out.has(recipientKey)) continue;
        const ref: RecipientRef = { userId: spec.userId, address, identity, recipientKey, spec };
        const problem =
            address !== undefined && spec.userId === undefined ? addressProblem(channel, address) : undefined;
        if (problem) ref.problem = problem;
        out.set(recipientKey, ref);
    }
    return [...out.values()];
}

/**
 * The pseudo-recipient of a request-level row: what a bad request that names nobody usable (or too
 * many) is recorded against. Its key cannot be a recipient's: those all start with `<channel>#`.
 */
export function requestRecipient(channel: Channel): RecipientRef {
    return { identity: "request", recipientKey: `request#${channel}`, spec: {} };
}

export const logKey = (notificationId: string, recipientKey: string) => `${notificationId}|${recipientKey}`;

/** UTC hour window of a fixed-window rate limit, e.g. "2026032901". */
export function hourWindow(now: number): string {
    return new Date(now).toISOString().slice(0, 13).replace(/[-T]/g, "");
}

/** Idempotency-table id of one user's (or address's) counter for one channel and hour. */
export function rateCounterId(channel: Channel, identity: string, window: string): string {
    return `rate#${channel}#${identity}#${window}`;
}

export interface RecipientOutcome {
    notificationId: string;
    recipientKey: string;
    channel: Channel;
    status: DeliveryStatus;
    userId?: string;
    campaignId?: string;
    reason?: string;
    providerMessageId?: string;
    sentDevices?: string[];
    /** The rate counter this outcome counts against (set only for outcomes that sent something new). */
    rateCounterId?: string;
    /** An attempt reached the provider without an answer (core/retry sendCertainty). */
    uncertain?: boolean;
}

/** The delivery-log row for an outcome; createdAt survives from an earlier row of the same key. */
export function deliveryLogRow(
    outcome: RecipientOutcome,
    now: number,
    ttlDays: number,
    previous?: Pick<DeliveryLogRow, "createdAt">,
): DeliveryLogRow {
    const stamp = new Date(now).toISOString();
    const row: DeliveryLogRow & { [STATUS_INDEX_ATTRIBUTE]?: string } = {
        notificationId: outcome.notificationId,
        recipientKey: outcome.recipientKey,
        channel: outcome.channel,
        status: outcome.status,
        createdAt: previous?.createdAt ?? stamp,
        updatedAt: stamp,
        expiresAt: Math.floor(now / 1000) + ttlDays * 86_400,
    };
    if (outcome.userId) row.userId = outcome.userId;
    if (outcome.campaignId) row.campaignId = outcome.campaignId;
    if (outcome.reason) row.reason = outcome.reason;
    if (outcome.providerMessageId) row.providerMessageId = outcome.providerMessageId;
    if (outcome.sentDevices && outcome.sentDevices.length > 0) row.sentDevices = outcome.sentDevices;
    if (outcome.uncertain) row.uncertain = true;
    // Only the statuses an operator investigates carry the status index's key (see core/statusIndex).
    const indexKey = statusIndexKey(row);
    if (indexKey) row[STATUS_INDEX_ATTRIBUTE] = indexKey;
    return row;
}

/** One analytics line (Firehose record) per recipient outcome. */
export function analyticsEvent(outcome: RecipientOutcome, now: number): string {
    const event: Record<string, unknown> = {
        type: "notification.outcome",
        timestamp: new Date(now).toISOString(),
        notificationId: outcome.notificationId,
        recipientKey: outcome.recipientKey,
        channel: outcome.channel,
        status: outcome.status,
    };
    for (const k of ["userId", "campaignId", "reason", "providerMessageId"] as const)
        if (outcome[k]) event[k] = outcome[k];
    if (outcome.sentDevices) event.devices = outcome.sentDevices.length;
    if (outcome.uncertain) event.uncertain = true;
    return `${JSON.stringify(event)}\n`;
}

/**
 * EventBridge Scheduler name for one deferral: derived from notificationId, channel, recipient *and the
 * instant it defers to*. A retried record recreates the same deferral, hence the same name
 * (ConflictException = already scheduled); a different deferral of the same recipient (a sendAt that
 * fires into quiet hours) gets a name of its own instead of being taken for the first one and lost.
 * `fireAt` counts to the second, as the at-expression does. Names allow [0-9A-Za-z-_.], at most 64
 * characters.
 */
export function deferralScheduleName(
    notificationId: string,
    channel: Channel,
    recipientKey: string,
    fireAt: number,
): string {
    const hash = createHash("sha256")
        .update(`${notificationId}|${recipientKey}|${atExpression(fireAt)}`)
        .digest("hex")
        .slice(0, 16);
    return `${channel}-${notificationId.slice(0, 40)}-${hash}`;
}

/** One-time schedule expression `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the second. */
export function atExpression(instant: number): string {
    return `at(${new Date(Math.ceil(instant / 1000) * 1000).toISOString().slice(0, 19)})`;
}

/**
 * The body the deferral schedule puts back on this channel's queue: the same request narrowed to this
 * channel and recipient, without sendAt (it would be "in the past" when it arrives).
 */
export function deferredRequestBody(request: NotificationRequest, channel: Channel, recipient: RecipientRef): string {
    const { sendAt: _sendAt, ...rest } = request;
    const narrowed: NotificationRequest = { ...rest, channels: [channel] };
    if (request.recipients) narrowed.recipients = [recipient.spec];
    return JSON.stringify(narrowed);
}

/**
 * Outcomes the delivery log would not take after their sends (the write kept failing past the time
 * budget) travel as messages of this type on the feedback queue, whose processor replays them into the
 * log (handlers/feedbackProcessor): durable (the queue has a DLQ), never only a log line.
 */
export const OUTCOME_MESSAGE_TYPE = "notify.outcomes";
/** Below SQS's 256 KiB message limit, with room for the attributes SQS adds. */
export const OUTCOME_MESSAGE_MAX_BYTES = 200_000;

/** The rows as message bodies of at most `maxBytes` each (a row alone is always far below it). */
export function outcomeMessageBodies(rows: DeliveryLogRow[], maxBytes = OUTCOME_MESSAGE_MAX_BYTES): string[] {
    const bodies: string[] = [];
    let chunk: DeliveryLogRow[] = [];
    const body = (part: DeliveryLogRow[]) => JSON.stringify({ type: OUTCOME_MESSAGE_TYPE, version: 1, rows: part });
    for (const row of rows) {
        if (chunk.length > 0 && Buffer.byteLength(body([...chunk, row])) > maxBytes) {
            bodies.push(body(chunk));
            chunk = [];
        }
        chunk.push(row);
    }
    if (chunk.length > 0) bodies.push(body(chunk));
    return bodies;
}
