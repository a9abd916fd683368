/**
 * The producer routes' pure core (issue 11): `POST /v1/notifications` — the idempotency key, the request
 * as it is published (canonical JSON and its SHA-256), the idempotency decision over the stored claim —
 * and `GET /v1/notifications/{id}` — the delivery-log rows as the status view. No AWS calls: the adapter
 * (handlers/api/producer.ts) reads and writes what these functions decide.
 *
 * Idempotency rows live in the `idempotency` table (key `id`, TTL `expiration`), one per caller and key:
 * `api#<caller principal>#<key>`. A row is claimed with a conditional put BEFORE the publish (state
 * PENDING, an owner token and a lease), so concurrent identical requests publish once; it becomes
 * PUBLISHED with the exact answer after the publish, and a replay answers those bytes again.
 * A publish that fails releases the lease (503): the producer's retry takes the claim over and publishes.
 * A row whose lease ran out while PENDING (its Lambda died between claim and publish) is taken over the
 * same way. Never 202 without a successful Publish; a publish whose answer was lost may reach the topic
 * twice, which the senders' per-recipient claims absorb (the same notificationId never sends twice).
 */
import { createHash } from "node:crypto";
import { keyPart } from "../deliveryLog";
import { ID_PATTERN, MAX_BODY_BYTES, validateNotificationRequest } from "../request";
import type { Channel } from "../types";
import type { FieldError, HttpApiEvent, HttpApiResult } from "./http";
import { json, problem } from "./http";

/** The request body limit: one SNS message (body and attributes) is at most 262,144 bytes. */
export const MAX_REQUEST_BYTES = MAX_BODY_BYTES;
/** The top-level fields of the request contract (README "The contract"); any other is refused (400). */
export const REQUEST_FIELDS = [
    "notificationId",
    "userId",
    "recipients",
    "channels",
    "template",
    "data",
    "locale",
    "title",
    "body",
    "subject",
    "priority",
    "sendAt",
    "campaignId",
] as const;
const RECIPIENT_FIELDS = ["userId", "email", "phone"];
export const IDEMPOTENCY_HEADER = "idempotency-key";
/** How long a key is remembered: a retry within a day answers the first 202 (TTL `expiration`). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/**
 * How long a claim is held before another copy may take it over: longer than the route's function timeout
 * (PRODUCER_TIMEOUT_SECONDS), so a live publisher is never overtaken.
 */
export const CLAIM_LEASE_MS = 30_000;
export const PRODUCER_TIMEOUT_SECONDS = 10;
/** Seconds a producer should wait before retrying a 503 or a request still in progress. */
export const RETRY_AFTER_SECONDS = 1;
/** SNS counts the message attributes (name, type, value) in the 262,144 bytes of a message. */
const CHANNELS_ATTRIBUTE = "channels";
const STRING_ARRAY = "String.Array";

/**
 * The producer an idempotency key belongs to: the signing principal. An assumed role's session name is
 * left out (`arn:aws:sts::<account>:assumed-role/<role>/<session>` → `.../assumed-role/<role>`): the same
 * role with refreshed credentials is the same producer, and its retries must meet its own keys. Bounded
 * for the key like every key part (a hash beyond 256 bytes).
 */
export function callerPrincipal(userArn: string): string {
    const assumed = /^(arn:[^:]+:sts::\d{12}:assumed-role\/[^/]+)\/.+$/.exec(userArn);
    return keyPart(assumed ? assumed[1] : userArn);
}

export const idempotencyRowId = (principal: string, key: string) => `api#${principal}#${key}`;

/** JSON with object keys sorted at every depth and no whitespace: equal requests, equal bytes. */
export function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
    }
    return JSON.stringify(value);
}

export const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** A request accepted for publishing: its key, the message, its hash and the `channels` attribute. */
export interface AcceptedRequest {
    key: string;
    notificationId: string;
    /** The canonical JSON published as the SNS message. */
    message: string;
    requestHash: string;
    /** The `channels` message attribute's value (String.Array, JSON), when the request names channels. */
    channelsAttribute?: string;
}

export type Acceptance =
    | { ok: true; request: AcceptedRequest }
    | {
          ok: false;
          result: HttpApiResult;
          /**
           * Set when the request is invalid only because time passed (a sendAt that was in the future when
           * the key was first used): if that first request was accepted, its 202 is the answer, not a 400.
           */
          replayOf?: AcceptedRequest;
      };

/** The Idempotency-Key header, whatever its case (HTTP API lower-cases them; a local caller may not). */
export function idempotencyHeader(headers: HttpApiEvent["headers"]): string | undefined {
    const name = Object.keys(headers ?? {}).find((h) => h.toLowerCase() === IDEMPOTENCY_HEADER);
    return name === undefined ? undefined : headers[name];
}

/**
 * Checks a parsed body (top-level fields already limited to REQUEST_FIELDS) and the key, and builds the
 * message: 400 with every field error (the senders' own validation, plus unknown recipient fields and
 * the key), 413 when the message with its attributes would not fit one SNS message.
 */
export function acceptRequest(body: Record<string, unknown>, headerKey: string | undefined, now: Date): Acceptance {
    const errors: FieldError[] = [];
    if (headerKey !== undefined && !ID_PATTERN.test(headerKey)) {
        errors.push({
            field: "Idempotency-Key",
            problem: "the Idempotency-Key header must match [A-Za-z0-9_-]{1,128}",
        });
    }
    const request = { ...body };
    if (request.notificationId === undefined && headerKey !== undefined && errors.length === 0) {
        request.notificationId = headerKey;
    }
    if (request.notificationId === undefined && headerKey === undefined) {
        errors.push({
            field: "notificationId",
            problem: "notificationId is required (in the body, or as the Idempotency-Key header)",
        });
    }
    if (Array.isArray(request.recipients)) {
        for (const [i, r] of request.recipients.entries()) {
            if (r === null || typeof r !== "object" || Array.isArray(r)) continue;
            for (const field of Object.keys(r).filter((f) => !RECIPIENT_FIELDS.includes(f))) {
                errors.push({ field: `recipients[${i}].${field}`, problem: "unknown field" });
            }
        }
    }
    // Without an id after this point, the missing or malformed key was reported above: not twice.
    const validation = validateNotificationRequest(request, now).filter(
        (e) => !(request.notificationId === undefined && e.field === "notificationId"),
    );
    const all = [...errors, ...validation];
    if (all.length > 0) {
        const result = problem(400, "The request is not valid", all);
        // Valid at an earlier instant: the only problems are a sendAt the clock has passed since.
        const onlyTime = errors.length === 0 && validateNotificationRequest(request, new Date(0)).length === 0;
        return onlyTime ? { ok: false, result, replayOf: publishable(request, headerKey) } : { ok: false, result };
    }
    const accepted = publishable(request, headerKey);
    const bytes =
        Buffer.byteLength(accepted.message) +
        (accepted.channelsAttribute
            ? Buffer.byteLength(CHANNELS_ATTRIBUTE + STRING_ARRAY + accepted.channelsAttribute)
            : 0);
    if (bytes > MAX_REQUEST_BYTES) {
        return {
            ok: false,
            result: problem(413, `The request as published is ${bytes} bytes; the limit is ${MAX_REQUEST_BYTES}`),
        };
    }
    return { ok: true, request: accepted };
}

/** The message of a valid request: canonical JSON, its hash, and the `channels` attribute. */
function publishable(request: Record<string, unknown>, headerKey: string | undefined): AcceptedRequest {
    const message = canonicalJson(request);
    const channels = request.channels as Channel[] | undefined;
    const notificationId = request.notificationId as string;
    return {
        key: headerKey ?? notificationId,
        notificationId,
        message,
        requestHash: sha256(message),
        channelsAttribute: channels ? JSON.stringify([...new Set(channels)]) : undefined,
    };
}

/** The SNS message attributes of a request: `channels` (String.Array) exactly as the README shows. */
export function messageAttributes(request: AcceptedRequest) {
    return request.channelsAttribute
        ? { [CHANNELS_ATTRIBUTE]: { DataType: STRING_ARRAY, StringValue: request.channelsAttribute } }
        : undefined;
}

/** An idempotency row of the API, as stored (attribute names are the table's). */
export interface ClaimRow {
    id: string;
    kind: "api-request";
    state: "PENDING" | "PUBLISHED";
    requestHash: string;
    notificationId: string;
    /** Who holds the claim: the invocation's request id. */
    owner: string;
    /** Epoch ms after which a PENDING claim may be taken over (0: released after a failed publish). */
    leaseExpiresAt: number;
    createdAt: string;
    /** The exact answer of the first success (PUBLISHED only): status code, headers and body. */
    answer?: string;
    publishedAt?: string;
    snsMessageId?: string;
    /** TTL, epoch seconds. */
    expiration: number;
}

export function pendingClaim(id: string, request: AcceptedRequest, owner: string, nowMs: number): ClaimRow {
    return {
        id,
        kind: "api-request",
        state: "PENDING",
        requestHash: request.requestHash,
        notificationId: request.notificationId,
        owner,
        leaseExpiresAt: nowMs + CLAIM_LEASE_MS,
        createdAt: new Date(nowMs).toISOString(),
        expiration: Math.floor(nowMs / 1000) + IDEMPOTENCY_TTL_SECONDS,
    };
}

/**
 * The condition of the claim put: no live row for this key, or one this request may take over (expired
 * by TTL but not yet deleted, or PENDING with the same body and a lease that ran out or was released).
 */
export function claimCondition(request: AcceptedRequest, nowMs: number) {
    return {
        ConditionExpression:
            "attribute_not_exists(id) OR expiration < :nowS OR (#state = :pending AND requestHash = :hash AND leaseExpiresAt < :nowMs)",
        ExpressionAttributeNames: { "#state": "state" },
        values: {
            ":nowS": Math.floor(nowMs / 1000),
            ":pending": "PENDING",
            ":hash": request.requestHash,
            ":nowMs": nowMs,
        },
    };
}

/** The answer of an accepted request: 202 with the notification id (stored whole for replays). */
export const acceptedAnswer = (notificationId: string): HttpApiResult => json(202, { notificationId });

export type ClaimDecision =
    | { kind: "replay"; result: HttpApiResult }
    | { kind: "conflict"; result: HttpApiResult }
    | { kind: "in-progress"; result: HttpApiResult };

/**
 * What to answer when the claim put failed because a row exists (read back consistently): the same body
 * answers the stored first answer (or "in progress" while its claim is live), another body is 409.
 * `row` undefined: the row vanished between the put and the read (TTL): in progress, retry.
 */
export function decideOnExisting(row: ClaimRow | undefined, requestHash: string): ClaimDecision {
    if (row && row.requestHash !== requestHash) {
        return {
            kind: "conflict",
            result: problem(409, "This idempotency key was already used with a different request body", [
                { field: "Idempotency-Key", problem: "already used with a different request body" },
            ]),
        };
    }
    if (row?.state === "PUBLISHED" && row.answer) {
        return { kind: "replay", result: JSON.parse(row.answer) as HttpApiResult };
    }
    return {
        kind: "in-progress",
        result: {
            ...problem(409, "A request with this idempotency key is in progress; retry it shortly"),
            headers: { "content-type": "application/json", "retry-after": String(RETRY_AFTER_SECONDS) },
        },
    };
}

/** 503 after a failed publish: the claim was released, so the producer's retry publishes. */
export function publishFailedAnswer(): HttpApiResult {
    return {
        ...problem(503, "The notification could not be queued; retry the same request (same idempotency key)"),
        headers: { "content-type": "application/json", "retry-after": String(RETRY_AFTER_SECONDS) },
    };
}

/** One recipient's line of `GET /v1/notifications/{id}`. */
export interface RecipientStatus {
    recipientKey: string;
    channel: Channel | string;
    userId?: string;
    status: string;
    reason?: string;
    uncertain?: boolean;
    createdAt: string;
    updatedAt: string;
}

/** The delivery-log attributes the status view reads (ProjectionExpression). */
export const STATUS_ATTRIBUTES = [
    "recipientKey",
    "channel",
    "userId",
    "status",
    "reason",
    "uncertain",
    "createdAt",
    "updatedAt",
] as const;

/** A delivery-log row as the status view shows it: no internal fields (claims, provider ids, TTL). */
export function recipientStatus(row: Record<string, unknown>): RecipientStatus {
    const key = String(row.recipientKey);
    // Every row carries its channel; the key names it too (`<channel>#<identity>`, or `request#<channel>`
    // for a request-level row).
    const [first, second] = key.split("#");
    const channel = typeof row.channel === "string" ? row.channel : first === "request" ? second : first;
    const out: RecipientStatus = {
        recipientKey: key,
        channel,
        status: String(row.status),
        createdAt: String(row.createdAt ?? row.updatedAt ?? ""),
        updatedAt: String(row.updatedAt ?? row.createdAt ?? ""),
    };
    if (typeof row.userId === "string") out.userId = row.userId;
    if (typeof row.reason === "string") out.reason = row.reason;
    if (row.uncertain === true) out.uncertain = true;
    return out;
}

/** The answer of the status route: 404 when nothing is recorded (yet), else every recipient's status. */
export function statusAnswer(notificationId: string, rows: Record<string, unknown>[]): HttpApiResult {
    if (rows.length === 0) {
        return problem(404, `Nothing is recorded for notification ${notificationId} (yet)`);
    }
    return json(200, { notificationId, recipients: rows.map(recipientStatus) });
}

/** The `{id}` path parameter: a notification id, or a 400. */
export function notificationIdParameter(
    event: HttpApiEvent,
): { ok: true; id: string } | { ok: false; result: HttpApiResult } {
    const id = event.pathParameters?.id;
    if (typeof id === "string" && ID_PATTERN.test(id)) return { ok: true, id };
    return {
        ok: false,
        result: problem(400, "The notification id in the path is not valid", [
            { field: "id", problem: "must match [A-Za-z0-9_-]{1,128}" },
        ]),
    };
}
