/**
 * Campaign runner decisions: validate the Scheduler input, derive deterministic notification ids (a
 * retried run re-publishes the same ids, which downstream idempotency turns into no-ops) and pack the
 * requests into PublishBatch calls (10 entries, 256 KB per call).
 */
import { createHash } from "node:crypto";
import { CHANNELS } from "./channels";
import { ID_PATTERN } from "./request";
import type { Channel, DataValue, NotificationRequest } from "./types";

export const PUBLISH_BATCH_MAX_ENTRIES = 10;
export const PUBLISH_BATCH_MAX_BYTES = 256 * 1024;
/** The notificationId contract's length limit ([A-Za-z0-9_-]{1,128}). */
export const NOTIFICATION_ID_MAX = 128;
/** Hex characters of the userId hash that ends an id too long for the whole userId (64 bits). */
export const USER_HASH_CHARS = 16;
/** `-yyyymmdd-` between the campaign id and the user part. */
const DAY_PART = 10;
/** The longest campaignId that leaves room for the day and `_<hash>`: 128 - 10 - 17 = 101. */
export const CAMPAIGN_ID_MAX = NOTIFICATION_ID_MAX - DAY_PART - 1 - USER_HASH_CHARS;

export interface CampaignInput {
    campaignId: string;
    template: string;
    segment: string;
    channels?: Channel[];
    data?: Record<string, DataValue>;
    /** Scheduler's <aws.scheduler.scheduled-time>, ISO-8601. */
    scheduledTime: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Validates the Scheduler input; throws an Error naming the problem (the invocation then dead-letters). */
export function parseCampaignInput(event: unknown): CampaignInput {
    const raw = typeof event === "string" ? safeJson(event) : event;
    if (!isRecord(raw)) throw new Error("campaign input must be a JSON object");
    const str = (field: string, pattern?: RegExp): string => {
        const v = raw[field];
        if (typeof v !== "string" || v === "") throw new Error(`campaign input: ${field} must be a non-empty string`);
        if (pattern && !pattern.test(v)) throw new Error(`campaign input: ${field} must match ${pattern.source}`);
        return v;
    };
    const input: CampaignInput = {
        campaignId: str("campaignId", ID_PATTERN),
        template: str("template", /^[A-Za-z0-9_.-]{1,128}$/),
        segment: str("segment"),
        scheduledTime: str("scheduledTime"),
    };
    if (Number.isNaN(Date.parse(input.scheduledTime))) throw new Error("campaign input: scheduledTime is not a date");
    if (raw.channels !== undefined) {
        if (!Array.isArray(raw.channels) || raw.channels.some((c) => !(CHANNELS as readonly unknown[]).includes(c))) {
            throw new Error(`campaign input: channels must be a list of ${CHANNELS.join(", ")}`);
        }
        input.channels = raw.channels as Channel[];
    }
    if (raw.data !== undefined) {
        if (!isRecord(raw.data)) throw new Error("campaign input: data must be an object");
        input.data = raw.data as Record<string, DataValue>;
    }
    // Every user's id must fit the contract's 128 characters: a long userId gives way to its hash, but
    // the campaign id and the day cannot.
    if (input.campaignId.length > CAMPAIGN_ID_MAX) {
        throw new Error(
            `campaign input: campaignId must be at most ${CAMPAIGN_ID_MAX} characters (notification ids are at most ${NOTIFICATION_ID_MAX})`,
        );
    }
    return input;
}

function safeJson(s: string): unknown {
    try {
        return JSON.parse(s);
    } catch {
        return undefined;
    }
}

/** UTC day of the run: "20260329". */
export function runDay(scheduledTime: string): string {
    return new Date(Date.parse(scheduledTime)).toISOString().slice(0, 10).replace(/-/g, "");
}

/**
 * `${campaignId}-${yyyymmdd}-${userId}`, or, when that is longer than 128 characters,
 * `${campaignId}-${yyyymmdd}-${start of userId}_${16 hex of sha256(userId)}`, exactly 128 long: still a
 * function of the inputs alone, so a retried run derives the same id. Throws when the userId itself
 * breaks the contract (the request would be rejected downstream) or the id cannot be made to fit.
 */
export function campaignNotificationId(campaignId: string, scheduledTime: string, userId: string): string {
    if (!ID_PATTERN.test(userId)) throw new Error(`userId ${userId.slice(0, 40)} breaks [A-Za-z0-9_-]{1,128}`);
    const prefix = `${campaignId}-${runDay(scheduledTime)}-`;
    let id = prefix + userId;
    if (id.length > NOTIFICATION_ID_MAX) {
        const keep = NOTIFICATION_ID_MAX - prefix.length - 1 - USER_HASH_CHARS;
        if (keep < 0) throw new Error(`notification id ${prefix.slice(0, 40)}… leaves no room for the user part`);
        const hash = createHash("sha256").update(userId).digest("hex").slice(0, USER_HASH_CHARS);
        id = `${prefix}${userId.slice(0, keep)}_${hash}`;
    }
    if (!ID_PATTERN.test(id)) throw new Error(`notification id ${id.slice(0, 40)}… breaks [A-Za-z0-9_-]{1,128}`);
    return id;
}

/** Idempotency-table id of a run's checkpoint (one run per campaign and day, like the ids). */
export function checkpointId(campaignId: string, scheduledTime: string): string {
    return `campaign#${campaignId}#${runDay(scheduledTime)}`;
}

export function campaignRequest(input: CampaignInput, userId: string): NotificationRequest {
    const request: NotificationRequest = {
        notificationId: campaignNotificationId(input.campaignId, input.scheduledTime, userId),
        userId,
        template: input.template,
        priority: "normal",
        campaignId: input.campaignId,
    };
    if (input.channels) request.channels = input.channels;
    if (input.data) request.data = input.data;
    return request;
}

export interface BatchEntry {
    Id: string;
    Message: string;
}

const bytes = (s: string) => new TextEncoder().encode(s).length;

/**
 * Packs messages into PublishBatch calls: at most 10 entries and 256 KB (sum of message sizes) per
 * call. A single message above 256 KB cannot be published at all and is returned in `oversize`.
 */
export function packPublishBatches(messages: { id: string; message: string }[]): {
    batches: BatchEntry[][];
    oversize: string[];
} {
    const batches: BatchEntry[][] = [];
    const oversize: string[] = [];
    let current: BatchEntry[] = [];
    let size = 0;
    for (const [i, m] of messages.entries()) {
        const n = bytes(m.message);
        if (n > PUBLISH_BATCH_MAX_BYTES) {
            oversize.push(m.id);
            continue;
        }
        if (current.length === PUBLISH_BATCH_MAX_ENTRIES || size + n > PUBLISH_BATCH_MAX_BYTES) {
            batches.push(current);
            current = [];
            size = 0;
        }
        // Entry ids only need to be unique within one call: [A-Za-z0-9_-]{1,80}.
        current.push({ Id: `m${i}`, Message: m.message });
        size += n;
    }
    if (current.length > 0) batches.push(current);
    return { batches, oversize };
}

export interface Checkpoint {
    id: string;
    /** The bySegment LastEvaluatedKey to resume from (JSON of the DynamoDB key), absent at the start. */
    cursor?: string;
    published: number;
    status: "RUNNING" | "DONE";
    expiration: number;
}

export function nextCheckpoint(
    previous: Checkpoint | undefined,
    id: string,
    cursor: string | undefined,
    publishedNow: number,
    now: number,
): Checkpoint {
    const checkpoint: Checkpoint = {
        id,
        published: (previous?.published ?? 0) + publishedNow,
        status: cursor ? "RUNNING" : "DONE",
        // Kept two days: long enough for Scheduler's retries, short enough to let tomorrow's run be new.
        expiration: Math.floor(now / 1000) + 2 * 86_400,
    };
    if (cursor) checkpoint.cursor = cursor;
    return checkpoint;
}
