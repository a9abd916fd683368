/**
 * Provider calls (SNS, SES, Scheduler) with bounded time and backoff: the client configuration that
 * leaves retries to callWithBackoff, the time guard, and the retry loop itself (decisions in core/retry).
 */
import {
    classifyError,
    DEFAULT_BACKOFF,
    nextRetryDelay,
    type BackoffPolicy,
    type CallTarget,
    type ErrorClass,
    sendCertainty,
} from "../core/retry";
import { sleep } from "./concurrency";

/**
 * The outcome of a provider call made with backoff. `uncertainAttempts`: attempts that reached the
 * provider and got no answer (core/retry sendCertainty), present only when there were any: on success
 * the recipient may have it twice; on failure it may have it, and the call must not be made again.
 */
export type CallResult<T> =
    | { ok: true; value: T; uncertainAttempts?: number }
    | { ok: false; error: Error; errorClass: ErrorClass; uncertainAttempts?: number };

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
    /**
     * How many further attempts an uncertain attempt allows (core/retry UNCERTAIN_SEND_POLICY); after
     * that the call stops with the failure. Unset: uncertain attempts are retried like any transient
     * fault (calls that are safe to repeat: reads, conflict-checked creates).
     */
    uncertainResends?: number;
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
    let uncertain = 0;
    const withUncertain = <R extends object>(result: R): R =>
        uncertain > 0 ? { ...result, uncertainAttempts: uncertain } : result;
    for (let attempt = 0; ; attempt++) {
        const left = remaining();
        if (minRemainingMs !== undefined && left < minRemainingMs) {
            const error = Object.assign(
                new Error(`${left} ms left in the invocation, ${minRemainingMs} needed for a call; not called`),
                { name: OUT_OF_TIME },
            );
            return withUncertain({ ok: false as const, error, errorClass: "transient" as const });
        }
        try {
            return withUncertain({ ok: true as const, value: await call() });
        } catch (err) {
            const error = err as Error & ProviderError;
            const errorClass = classifyError(
                {
                    name: error.name === "Error" && error.code ? error.code : error.name,
                    message: error.message,
                    httpStatusCode: error.$metadata?.httpStatusCode,
                },
                target,
            );
            if (errorClass !== "throttled" && errorClass !== "transient")
                return withUncertain({ ok: false as const, error, errorClass });
            if (options.uncertainResends !== undefined && sendCertainty(transportInfo(error)) === "uncertain") {
                uncertain++;
                if (uncertain > options.uncertainResends)
                    return withUncertain({ ok: false as const, error, errorClass });
            }
            const delay = nextRetryDelay(attempt, remaining(), policy, random);
            if (delay === undefined) return withUncertain({ ok: false as const, error, errorClass });
            await sleep(delay);
        }
    }
}

/** The fields of an SDK or Node error that say how far a request got. */
type ProviderError = { $metadata?: { httpStatusCode?: number }; $fault?: string; code?: string; syscall?: string };

export function transportInfo(error: Error & ProviderError) {
    return {
        name: error.name,
        message: error.message,
        code: error.code,
        syscall: error.syscall,
        httpStatusCode: error.$metadata?.httpStatusCode,
        $fault: error.$fault,
    };
}

/** Error classes after which the record goes back to its queue (and, if it persists, to its DLQ). */
export const isRetryable = (errorClass: ErrorClass) =>
    errorClass === "throttled" || errorClass === "transient" || errorClass === "operational";
