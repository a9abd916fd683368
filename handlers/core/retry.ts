/**
 * Retry decisions for provider calls (SNS Publish, SES SendEmail, Scheduler): which errors mean "the
 * device is gone", "slow down", "try later", "our own setup is broken" or "this message can never go",
 * and exponential backoff with full jitter bounded by the invocation's remaining time.
 */
import type { Channel } from "./channels";

export type ErrorClass =
    /** The push endpoint is disabled or gone: mark the device disabled, never retry. */
    | "endpoint-gone"
    /** Throttled: back off and retry within the time budget, then leave the record to the queue. */
    | "throttled"
    /** A transient provider or network fault: same treatment as throttling. */
    | "transient"
    /**
     * Our side is broken, not the message: permissions, credentials, a disabled KMS key or platform
     * application, a suspended or paused SES account, a missing configuration set. Not retried within
     * the invocation (it will not heal in milliseconds); the record goes back to its queue, then to its
     * DLQ (alarmed), where it waits to be redriven once the setup is fixed. Never recorded FAILED.
     */
    | "operational"
    /** The request itself is unacceptable: record FAILED, never retry. */
    | "permanent";

/**
 * What the call addressed. Only a push platform endpoint can be "gone" (disabled by APNs/FCM feedback,
 * deleted): for any other target a NotFound is a missing resource of ours (an SES configuration set, a
 * topic, a schedule group), hence operational.
 */
export type CallTarget = "push-endpoint" | "service";

export interface ErrorInfo {
    name?: string;
    message?: string;
    httpStatusCode?: number;
}

// Arrays, not Sets: closure serialization turns a captured Set into a plain object.
const THROTTLING = [
    "Throttled",
    "ThrottledException",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "LimitExceededException",
    "RequestLimitExceeded",
    "KMSThrottlingException",
    "ProvisionedThroughputExceededException",
];
const ENDPOINT_GONE = ["EndpointDisabled", "EndpointDisabledException"];
const NOT_FOUND = ["NotFound", "NotFoundException"];
/** SDK v3 exception names and the query protocol's codes (SNS answers with the latter in some paths). */
const OPERATIONAL = [
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "AuthorizationErrorException",
    "InvalidSecurity",
    "InvalidSecurityException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "PlatformApplicationDisabled",
    "PlatformApplicationDisabledException",
    "AccountSuspendedException",
    "MailFromDomainNotVerifiedException",
    "SendingPausedException",
    "KMSDisabled",
    "KMSDisabledException",
    "KMSInvalidState",
    "KMSInvalidStateException",
    "KMSAccessDenied",
    "KMSAccessDeniedException",
    "KMSNotFound",
    "KMSNotFoundException",
    "KMSOptInRequired",
    // DynamoDB's (in-app inbox table) and Scheduler's missing table or group: ours, whatever the target.
    "ResourceNotFoundException",
];
const TRANSIENT = [
    "InternalError",
    "InternalErrorException",
    "InternalFailure",
    "InternalServiceErrorException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "TimeoutError",
    "RequestTimeout",
    "ECONNRESET",
    "ETIMEDOUT",
    "EPIPE",
];

export function classifyError(err: ErrorInfo, target: CallTarget = "service"): ErrorClass {
    const name = err.name ?? "";
    if (THROTTLING.includes(name) || err.httpStatusCode === 429) return "throttled";
    if (OPERATIONAL.includes(name) || err.httpStatusCode === 403) return "operational";
    if (target === "push-endpoint") {
        if (ENDPOINT_GONE.includes(name) || NOT_FOUND.includes(name)) return "endpoint-gone";
        // SNS reports an endpoint that no longer exists or belongs elsewhere as InvalidParameter on TargetArn.
        if (
            (name === "InvalidParameter" || name === "InvalidParameterException") &&
            /endpoint|targetarn/i.test(err.message ?? "")
        ) {
            return "endpoint-gone";
        }
    } else if (NOT_FOUND.includes(name)) {
        return "operational";
    }
    // A request that never left (DNS, refused connection): transient, and safe to repeat (sendCertainty).
    if (NOT_SENT_CODES.includes(name)) return "transient";
    if (TRANSIENT.includes(name) || (err.httpStatusCode !== undefined && err.httpStatusCode >= 500)) return "transient";
    if (err.httpStatusCode === undefined && !name) return "transient"; // no response at all: a network fault
    return "permanent";
}

export interface BackoffPolicy {
    baseMs: number;
    capMs: number;
    maxAttempts: number;
    /** Time kept back for the bookkeeping writes after the last send. */
    reserveMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 50, capMs: 2_000, maxAttempts: 6, reserveMs: 3_000 };

/** Full jitter: a uniform delay in [0, min(cap, base * 2^attempt)); `random` returns [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
    const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
    return Math.floor(random() * ceiling);
}

/**
 * After failed attempt number `attempt` (0-based), how long to wait before the next one, or undefined
 * to give up (attempts used up, or the wait would eat into the time reserved for bookkeeping).
 */
export function nextRetryDelay(
    attempt: number,
    remainingMs: number,
    policy: BackoffPolicy,
    random: () => number,
): number | undefined {
    if (attempt + 1 >= policy.maxAttempts) return undefined;
    const delay = backoffDelay(attempt, policy, random);
    return remainingMs - delay > policy.reserveMs ? delay : undefined;
}

/**
 * Whether a failed provider call can have reached the provider. "answered": the provider replied (any
 * HTTP status, a modelled service error). "not-sent": the request never left — DNS (ENOTFOUND,
 * EAI_AGAIN), a refused or unreachable connection, smithy's connection timeout, our own time guard —
 * so it may be retried freely. "uncertain": the request was written and no answer came — smithy's
 * requestTimeout (TimeoutError, code ETIMEDOUT) or socket-inactivity timeout, a reset or hang-up after
 * the connection was up (smithy renames ECONNRESET/EPIPE/ETIMEDOUT request errors TimeoutError, code
 * kept) — the provider may have accepted it: a resend may deliver twice. An unknown shape without an
 * answer counts as uncertain: no proof it did not leave.
 */
export type SendCertainty = "answered" | "not-sent" | "uncertain";

export interface TransportErrorInfo {
    name?: string;
    message?: string;
    /** Node's system error code (ENOTFOUND, ECONNREFUSED, ECONNRESET, ...), kept by smithy. */
    code?: string;
    /** Node's failing system call: getaddrinfo / connect happen before any byte of the request is sent. */
    syscall?: string;
    httpStatusCode?: number;
    /** Set on every modelled service exception (client | server): the provider answered. */
    $fault?: string;
}

const NOT_SENT_CODES = [
    "ENOTFOUND",
    "EAI_AGAIN",
    "EAI_FAIL",
    "EAI_NONAME",
    "ECONNREFUSED",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EHOSTDOWN",
    "ENETDOWN",
    "EADDRNOTAVAIL",
];
/** Our own refusals to call (lib/backoff OUT_OF_TIME): nothing was sent. */
const NOT_CALLED = ["InvocationTimeBudgetExhausted"];

export function sendCertainty(err: TransportErrorInfo): SendCertainty {
    if (err.httpStatusCode !== undefined || err.$fault !== undefined) return "answered";
    if (NOT_CALLED.includes(err.name ?? "")) return "not-sent";
    if (err.code && NOT_SENT_CODES.includes(err.code)) return "not-sent";
    if (err.syscall === "getaddrinfo" || err.syscall === "connect") return "not-sent";
    // smithy's connectionTimeout: "... did not establish a connection with the server within ..."
    if (err.name === "TimeoutError" && /did not establish a connection/.test(err.message ?? "")) return "not-sent";
    return "uncertain";
}

/**
 * What a channel does after an uncertain send (the one place this policy is held; README "Sender
 * runtime and delivery guarantees"): `resends` further attempts within the invocation, then the
 * recipient's row is final with status UNCERTAIN (no copy or redelivery sends it again). Push and
 * e-mail resend once (a duplicate notification or e-mail is a nuisance; a lost one is worse); SMS never
 * (a duplicate text is paid for and intrusive, and SNS SMS has no idempotency token); in-app resends once
 * (its write is conditional on the item id: a resend can only find the item, never duplicate it).
 */
export const UNCERTAIN_SEND_POLICY: Record<Channel, { resends: number }> = {
    push: { resends: 1 },
    email: { resends: 1 },
    sms: { resends: 0 },
    // A conditional PutItem of a deterministic item id: a resend either writes the item the uncertain
    // attempt did not, or meets it (ConditionalCheckFailed = already delivered). Never twice either way.
    inapp: { resends: 1 },
};
