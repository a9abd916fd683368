/**
 * The typed seam between the shared sender pipeline and one channel. A channel is an adapter: its
 * composer (pure core), optional extra reads and an enrich step for what only it needs to plan, and
 * its `deliver` for one recipient's delivery of its own type. The pipeline never asks which channel
 * it runs.
 */
import type { AttributeMap } from "../../core/attributes";
import type { Composer } from "../../core/compose/composer";
import type { ErrorClass } from "../../core/retry";
import type { NotificationRequest, Profile } from "../../core/types";
import { type CallResult, isRetryable } from "../backoff";
import type { TableKeys } from "../dynamo";

/**
 * What a channel's delivery produced for one recipient. `uncertain`: an attempt reached the provider
 * without an answer, so the recipient may have it (twice, when a resend then succeeded);
 * `uncertainAttempts` counts those attempts (the UncertainSends metric).
 */
export type DeliveryResult = (
    | { status: "SENT"; providerMessageId?: string; sentDevices?: string[]; uncertain?: boolean }
    | { status: "FAILED"; reason: string; sentDevices?: string[] }
    /** The provider refused for a reason that is the recipient's choice (e.g. SMS opt-out). */
    | { status: "SUPPRESSED"; reason: string }
    /**
     * Retryable (throttled or transient past the time budget, or operational: our setup is broken): the
     * record goes back to the queue; devices already done are kept.
     */
    | { status: "RETRY"; reason: string; errorClass?: ErrorClass; sentDevices?: string[]; uncertain?: boolean }
    /** Final: the provider may have it and the channel's policy allows no further attempt. */
    | { status: "UNCERTAIN"; reason: string; sentDevices?: string[] }
) & { uncertainAttempts?: number };

export interface DeliverArgs<D> {
    delivery: D;
    request: NotificationRequest;
    userId?: string;
    /** Milliseconds left in the invocation, read fresh at each call. */
    remaining: () => number;
    /** Further attempts after one that got no answer (core/retry UNCERTAIN_SEND_POLICY of the channel). */
    uncertainResends: number;
}

/** One request recipient of the batch, with the profile the first read returned for it. */
export interface EnrichRecipient {
    userId?: string;
    /** The address given in the request itself on this channel. */
    address?: string;
    profile?: Profile;
}

export interface EnrichArgs {
    recipients: EnrichRecipient[];
    /** The items the first read round returned for a table (including this channel's own `reads`). */
    items: (table: string) => AttributeMap[];
    remaining: () => number;
}

export interface ChannelAdapter<D, E> {
    composer: Composer<D, E>;
    /**
     * Whether planning needs each recipient's previous delivery-log row (push: the devices already
     * reached). false: the batch read leaves those rows out (fewer keys, often one BatchGetItem less)
     * and a row already sent is found by its claim. Default true.
     */
    readsPreviousRows?: boolean;
    /** Keys this channel reads in the batch's first BatchGetItem round (push: the users' device summaries). */
    reads?: (userIds: string[]) => TableKeys[];
    /**
     * What only this channel needs to plan, once the first round is in: from its reads (push) or its own
     * calls (SMS: opt-out status). Without it the composer gets `undefined`.
     */
    enrich?: (args: EnrichArgs) => Promise<E>;
    deliver: (args: DeliverArgs<D>) => Promise<DeliveryResult>;
}

/**
 * The delivery result of a failed provider call: UNCERTAIN when an attempt may have reached the
 * recipient (never resent past the policy), RETRY when its class goes back to the queue, else FAILED.
 */
export function failedDelivery(
    failure: { error: Error; errorClass: ErrorClass; uncertainAttempts?: number },
    extra: { sentDevices?: string[] } = {},
): DeliveryResult {
    const reason = `${failure.error.name}: ${failure.error.message}`;
    const counted = failure.uncertainAttempts ? { uncertainAttempts: failure.uncertainAttempts } : {};
    if (failure.uncertainAttempts)
        return {
            status: "UNCERTAIN",
            reason: uncertainReason(failure.uncertainAttempts, reason),
            ...extra,
            ...counted,
        };
    if (isRetryable(failure.errorClass)) return { status: "RETRY", reason, errorClass: failure.errorClass, ...extra };
    return { status: "FAILED", reason, ...extra };
}

/** The row's reason for an uncertain send: what happened, and that the policy stopped there. */
export function uncertainReason(attempts: number, last: string): string {
    return `no answer from the provider after the request was sent (${attempts} attempt${attempts > 1 ? "s" : ""}; last: ${last}); not sent again (uncertain-send policy)`;
}

/** The delivery result of one provider call made with backoff (SENT with the provider's message id). */
export function deliveryResultOf(result: CallResult<{ MessageId?: string }>): DeliveryResult {
    if (!result.ok) return failedDelivery(result);
    if (!result.uncertainAttempts) return { status: "SENT", providerMessageId: result.value.MessageId };
    return {
        status: "SENT",
        providerMessageId: result.value.MessageId,
        uncertain: true,
        uncertainAttempts: result.uncertainAttempts,
    };
}
