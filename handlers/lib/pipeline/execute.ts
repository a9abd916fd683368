/**
 * Carrying out one record's plan: each recipient's action (skip, fail, suppress, retry, defer, send)
 * becomes at most one outcome to record, and one signal: whether the record must go back to its queue.
 */
import type { Channel } from "../../core/channels";
import type { RecipientOutcome } from "../../core/deliveryLog";
import type { RecipientPlan, RecordPlan } from "../../core/plan";
import type { NotificationRequest } from "../../core/types";
import type { Logger } from "../log";
import type { MetricName, Metrics } from "../metrics";
import { UNCERTAIN_SEND_POLICY } from "../../core/retry";
import { METRICS } from "../telemetry-names";
import type { ChannelAdapter } from "./channel";
import { type DeferralTarget, scheduleDeferral } from "./deferral";
import type { SchedulerClient } from "@aws-sdk/client-scheduler";

/** What the executor needs from the sender (its channel's deliver, the deferral target, the clock). */
export interface ExecuteContext<D> {
    channel: Channel;
    deliver: ChannelAdapter<D, unknown>["deliver"];
    scheduler: SchedulerClient;
    deferral: DeferralTarget;
    log: Logger;
    metrics: Metrics;
    /** The batch's start (plans were made against it). */
    now: number;
    remaining: () => number;
}

/** The one retry signal: `retry` set means the record goes back to its queue (a PENDING row may say why). */
export interface RecordResult {
    outcomes: RecipientOutcome[];
    retry: boolean;
}
interface RecipientResult {
    outcome?: RecipientOutcome;
    retry: boolean;
}

export async function executeRecord<D>(ctx: ExecuteContext<D>, plan: RecordPlan<D>): Promise<RecordResult> {
    const { log } = ctx;
    if (plan.kind === "ignore") return { outcomes: [], retry: false };
    if (plan.kind === "invalid") {
        const { notificationId, campaignId, messageId, reason } = plan;
        if (!notificationId) {
            // Nothing to key a row by: the trace is this line and a metric, both with the SQS message id.
            log.error("request rejected: no usable notificationId to record it under", { messageId, reason });
            ctx.metrics.single(ctx.channel, METRICS.rejected, { messageId, reason: reason.slice(0, 500) });
            return { outcomes: [], retry: false };
        }
        log.warn("invalid request", { messageId, notificationId, reason });
        const outcomes = plan.recipients
            .filter((r) => r.action.kind === "fail")
            .map((r) =>
                outcomeOf({
                    ids: { notificationId, campaignId },
                    plan: r,
                    channel: ctx.channel,
                    status: "FAILED",
                    reason: plan.reason,
                }),
            );
        return { outcomes, retry: false };
    }
    const request = plan.request;
    let retry = false;
    const outcomes: RecipientOutcome[] = [];
    for (const recipient of plan.recipients) {
        try {
            const result = await executeRecipient(ctx, request, recipient);
            if (result.retry) retry = true;
            if (result.outcome) outcomes.push(result.outcome);
        } catch (error) {
            // Unexpected (a bug or an unclassified outage): leave the record to the queue's redrive.
            log.error("recipient failed unexpectedly", {
                notificationId: request.notificationId,
                recipientKey: recipient.recipient.recipientKey,
                error,
            });
            retry = true;
        }
    }
    return { outcomes, retry };
}

async function executeRecipient<D>(
    ctx: ExecuteContext<D>,
    request: NotificationRequest,
    plan: RecipientPlan<D>,
): Promise<RecipientResult> {
    const { log, channel } = ctx;
    const { action, recipient } = plan;
    const ids = { notificationId: request.notificationId, recipientKey: recipient.recipientKey };
    const outcome = (status: RecipientOutcome["status"], extra: OutcomeExtra = {}) =>
        outcomeOf({ ids: request, plan, channel, status, ...extra });
    switch (action.kind) {
        case "skip":
            log.info("already handled, skipped", { ...ids, reason: action.reason });
            return { retry: false };
        case "fail":
            log.warn("recipient failed validation", { ...ids, reason: action.reason });
            return { outcome: outcome("FAILED", { reason: action.reason }), retry: false };
        case "suppress":
            return { outcome: outcome("SUPPRESSED", { reason: action.reason }), retry: false };
        case "retry":
            log.warn("recipient left for a retry", { ...ids, reason: action.reason });
            return { retry: true };
        case "defer": {
            const scheduled = await scheduleDeferral({
                scheduler: ctx.scheduler,
                target: ctx.deferral,
                channel,
                request,
                recipient,
                until: action.until,
                now: ctx.now,
                remaining: ctx.remaining,
                log,
            });
            if (!scheduled) return { retry: true };
            const reason = `${action.reason}: until ${new Date(action.until).toISOString()}`;
            return { outcome: outcome("DEFERRED", { reason }), retry: false };
        }
        case "send":
            return sendRecipient(ctx, request, plan, action);
    }
}

/** The provider call of one recipient and the outcome it leaves (uncertain attempts counted and named). */
async function sendRecipient<D>(
    ctx: ExecuteContext<D>,
    request: NotificationRequest,
    plan: RecipientPlan<D>,
    action: Extract<RecipientPlan<D>["action"], { kind: "send" }>,
): Promise<RecipientResult> {
    const { log, channel } = ctx;
    const ids = { notificationId: request.notificationId, recipientKey: plan.recipient.recipientKey };
    const outcome = (status: RecipientOutcome["status"], extra: OutcomeExtra = {}) =>
        outcomeOf({ ids: request, plan, channel, status, ...extra });
    const result = await ctx.deliver({
        delivery: action.delivery,
        request,
        userId: plan.recipient.userId,
        remaining: ctx.remaining,
        uncertainResends: UNCERTAIN_SEND_POLICY[channel].resends,
    });
    const sentDevices = "sentDevices" in result ? result.sentDevices : undefined;
    const uncertain = result.uncertainAttempts ? true : undefined;
    if (result.uncertainAttempts) {
        ctx.metrics.add(channel, UNCERTAIN_SENDS_METRIC, result.uncertainAttempts);
        log.warn("provider call got no answer after the request was sent", {
            ...ids,
            status: result.status,
            attempts: result.uncertainAttempts,
        });
    }
    if (result.status === "SENT") {
        const { providerMessageId } = result;
        // The channel says whether the recipient may have it twice (in-app: an uncertain attempt
        // whose resend met the item is one delivery, certain; counted above all the same).
        const extra = {
            providerMessageId,
            sentDevices,
            rateCounterId: action.rateCounterId,
            uncertain: result.uncertain ? true : undefined,
        };
        return { outcome: outcome("SENT", extra), retry: false };
    }
    if (result.status === "UNCERTAIN") {
        // Counted against the rate limit: the recipient may have it.
        const extra = { reason: result.reason, sentDevices, rateCounterId: action.rateCounterId, uncertain };
        return { outcome: outcome("UNCERTAIN", extra), retry: false };
    }
    if (result.status === "RETRY" && result.errorClass === "operational") {
        // Not the message's fault and it will not heal by itself: loud, for the operator.
        log.error("provider refused: setup or account needs fixing; the record goes back to the queue", {
            ...ids,
            reason: result.reason,
        });
    } else {
        log.warn("delivery did not complete", { ...ids, status: result.status, reason: result.reason });
    }
    // A RETRY is recorded PENDING (with the devices already reached) and sends the record back.
    const status = result.status === "RETRY" ? "PENDING" : result.status;
    return {
        outcome: outcome(status, { reason: result.reason, sentDevices, uncertain }),
        retry: result.status === "RETRY",
    };
}

interface OutcomeExtra {
    reason?: string;
    providerMessageId?: string;
    sentDevices?: string[];
    rateCounterId?: string;
    uncertain?: boolean;
}

/**
 * Attempts that reached the provider without an answer, per channel. Not in lib/telemetry-names (owned
 * elsewhere); the EMF writer takes any name.
 */
export const UNCERTAIN_SENDS_METRIC = "UncertainSends" as MetricName;

/** One recipient's outcome; fields left undefined are left out of the row. */
export function outcomeOf(
    args: {
        ids: { notificationId: string; campaignId?: string };
        plan: RecipientPlan<unknown>;
        channel: Channel;
        status: RecipientOutcome["status"];
    } & OutcomeExtra,
): RecipientOutcome {
    const { ids, plan, channel, status } = args;
    const outcome: RecipientOutcome = {
        notificationId: ids.notificationId,
        recipientKey: plan.recipient.recipientKey,
        channel,
        status,
    };
    if (plan.recipient.userId) outcome.userId = plan.recipient.userId;
    if (ids.campaignId) outcome.campaignId = ids.campaignId;
    if (args.reason !== undefined) outcome.reason = args.reason;
    if (args.providerMessageId !== undefined) outcome.providerMessageId = args.providerMessageId;
    if (args.sentDevices !== undefined) outcome.sentDevices = args.sentDevices;
    if (args.rateCounterId !== undefined) outcome.rateCounterId = args.rateCounterId;
    if (args.uncertain) outcome.uncertain = true;
    return outcome;
}
