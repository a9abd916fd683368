/**
 * Cold-start helpers shared by the adapters: configuration from the environment (names in env.ts),
 * logger and metrics, the SQS / Lambda event shapes, bounded concurrency and the Firehose batch.
 */
import { type FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";
import {
    classifyError,
    DEFAULT_BACKOFF,
    nextRetryDelay,
    type BackoffPolicy,
    type CallTarget,
    type ErrorClass,
} from "../core/retry";
import { ENV, requireEnv } from "./env";
import { createLogger, type LambdaContextLike, type Logger } from "./log";
import { createMetrics, type Metrics } from "./metrics";
import { METRIC_NAMESPACE } from "./telemetry-names";

export interface SqsRecord {
    messageId: string;
    body: string;
    /** SentTimestamp: epoch ms when the message entered the queue (kept across redeliveries). */
    attributes?: { ApproximateReceiveCount?: string; SentTimestamp?: string };
}
export interface SqsEvent {
    Records: SqsRecord[];
}
export interface BatchResponse {
    batchItemFailures: { itemIdentifier: string }[];
}
export type LambdaContext = LambdaContextLike & { getRemainingTimeInMillis(): number };

export interface Telemetry {
    log: Logger;
    metrics: Metrics;
    service: string;
}

export function createTelemetry(): Telemetry {
    const service = process.env[ENV.serviceName] ?? "notify";
    return {
        service,
        log: createLogger({ service, level: process.env[ENV.logLevel] }),
        metrics: createMetrics({ service, namespace: process.env[ENV.metricsNamespace] ?? METRIC_NAMESPACE }),
    };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Remaining time of the invocation; a generous default when called outside Lambda without a context. */
export function remainingMs(context: Partial<LambdaContext> | undefined): number {
    return typeof context?.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : 60_000;
}

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await work(items[i]);
        }
    });
    await Promise.all(lanes);
    return results;
}

const FIREHOSE_MAX_RECORDS = 500;
const FIREHOSE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Sends the invocation's analytics lines with PutRecordBatch: one call for up to 500 records / 4 MiB
 * (more only for larger invocations). Analytics is best effort: a failure is logged, never retried
 * into a duplicate send.
 */
export async function putAnalytics(
    firehose: FirehoseClient,
    stream: string,
    lines: string[],
    log: Logger,
): Promise<void> {
    const batches: string[][] = [];
    let current: string[] = [];
    let size = 0;
    for (const line of lines) {
        const n = Buffer.byteLength(line);
        if (current.length === FIREHOSE_MAX_RECORDS || size + n > FIREHOSE_MAX_BYTES) {
            batches.push(current);
            current = [];
            size = 0;
        }
        current.push(line);
        size += n;
    }
    if (current.length > 0) batches.push(current);
    for (const batch of batches) {
        try {
            const out = await firehose.send(
                new PutRecordBatchCommand({
                    DeliveryStreamName: stream,
                    Records: batch.map((l) => ({ Data: Buffer.from(l) })),
                }),
            );
            if (out.FailedPutCount)
                log.warn("analytics records rejected", { failed: out.FailedPutCount, total: batch.length });
        } catch (error) {
            log.error("analytics batch failed", { error, records: batch.length });
        }
    }
}

/** RATE_LIMITS is JSON {push, email, sms}: sends per user per hour; a missing channel is unlimited. */
export function rateLimitFor(channel: string): number | undefined {
    const raw = process.env[ENV.rateLimits];
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const value = parsed[channel];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
        throw new Error(`${ENV.rateLimits}.${channel} must be a non-negative integer`);
    }
    return value;
}

export function ttlDays(): number {
    const value = Number(process.env[ENV.deliveryLogTtlDays] ?? "90");
    if (!Number.isInteger(value) || value < 1) throw new Error(`${ENV.deliveryLogTtlDays} must be a positive integer`);
    return value;
}

export { ENV, requireEnv };

/** The outcome of a provider call made with backoff. */
export type CallResult<T> = { ok: true; value: T } | { ok: false; error: Error; errorClass: ErrorClass };

/**
 * Provider calls (SNS, SES, Scheduler) are bounded in time: without a timeout one hung connection can
 * outlast the invocation, and a timed-out invocation loses the delivery-log rows of everything it had
 * already sent, so the whole batch is sent again. (`throwOnRequestTimeout`: without it, smithy's
 * requestTimeout only logs a warning.)
 */
export const PROVIDER_REQUEST_TIMEOUT_MS = 5_000;
export const PROVIDER_CONNECTION_TIMEOUT_MS = 2_000;

/**
 * A provider call starts only with this much of the invocation left: its own worst case (the request
 * timeout, which runs from the start of the request, connection included) plus the reserve the
 * delivery-log and analytics writes need after the last send.
 */
export const SEND_TIME_GUARD_MS = PROVIDER_REQUEST_TIMEOUT_MS + DEFAULT_BACKOFF.reserveMs;

/**
 * Client configuration for provider clients: one attempt per send (callWithBackoff owns the retries,
 * within the time budget; the SDK's own 3 attempts would multiply them unseen) and bounded requests.
 */
export function providerClientConfig(timeouts: { requestTimeout?: number; connectionTimeout?: number } = {}) {
    return {
        maxAttempts: 1,
        requestHandler: {
            requestTimeout: timeouts.requestTimeout ?? PROVIDER_REQUEST_TIMEOUT_MS,
            connectionTimeout: timeouts.connectionTimeout ?? PROVIDER_CONNECTION_TIMEOUT_MS,
            throwOnRequestTimeout: true,
        },
    };
}

/** Thrown in place of a provider call that was not made because the invocation is nearly out of time. */
export const OUT_OF_TIME = "InvocationTimeBudgetExhausted";

export interface BackoffOptions {
    /** What the call addresses: only a push endpoint can be "gone" (see core/retry). */
    target?: CallTarget;
    /**
     * Make no attempt (the first included) with less than this left: the result is then a transient
     * OUT_OF_TIME error without any call, which senders turn into RETRY.
     */
    minRemainingMs?: number;
    random?: () => number;
    policy?: BackoffPolicy;
}

/**
 * Calls a provider API; on throttling or a transient fault retries with exponential backoff and full
 * jitter as long as attempts and the invocation's time budget allow (core/retry decides). Operational
 * and permanent errors return at once.
 */
export async function callWithBackoff<T>(
    call: () => Promise<T>,
    remaining: () => number,
    options: BackoffOptions = {},
): Promise<CallResult<T>> {
    const { target = "service", random = Math.random, policy = DEFAULT_BACKOFF, minRemainingMs } = options;
    for (let attempt = 0; ; attempt++) {
        const left = remaining();
        if (minRemainingMs !== undefined && left < minRemainingMs) {
            const error = Object.assign(
                new Error(`${left} ms left in the invocation, ${minRemainingMs} needed for a call; not called`),
                { name: OUT_OF_TIME },
            );
            return { ok: false, error, errorClass: "transient" };
        }
        try {
            return { ok: true, value: await call() };
        } catch (err) {
            const error = err as Error & { $metadata?: { httpStatusCode?: number }; code?: string };
            const errorClass = classifyError(
                {
                    name: error.name === "Error" && error.code ? error.code : error.name,
                    message: error.message,
                    httpStatusCode: error.$metadata?.httpStatusCode,
                },
                target,
            );
            if (errorClass !== "throttled" && errorClass !== "transient") return { ok: false, error, errorClass };
            const delay = nextRetryDelay(attempt, remaining(), policy, random);
            if (delay === undefined) return { ok: false, error, errorClass };
            await sleep(delay);
        }
    }
}

/** Error classes after which the record goes back to its queue (and, if it persists, to its DLQ). */
export const isRetryable = (errorClass: ErrorClass) =>
    errorClass === "throttled" || errorClass === "transient" || errorClass === "operational";
