/**
 * Deferral: a one-time EventBridge Scheduler schedule that puts the request, narrowed to this channel
 * and recipient, back onto the channel's queue at `until`. The name carries the deferral's target (the
 * same on a retry of this record), so a clash means "this deferral is already scheduled".
 */
import { CreateScheduleCommand, type SchedulerClient } from "@aws-sdk/client-scheduler";
import type { Channel } from "../../core/channels";
import { atExpression, deferralScheduleName, deferredRequestBody, type RecipientRef } from "../../core/deliveryLog";
import type { NotificationRequest } from "../../core/types";
import { callWithBackoff, SEND_TIME_GUARD_MS } from "../backoff";
import type { Logger } from "../log";

/** Where deferred requests go: the schedule group, the role Scheduler assumes, the channel's queue. */
export interface DeferralTarget {
    group: string;
    roleArn: string;
    queueArn: string;
}

export interface ScheduleDeferralArgs {
    scheduler: SchedulerClient;
    target: DeferralTarget;
    channel: Channel;
    request: NotificationRequest;
    recipient: RecipientRef;
    until: number;
    now: number;
    remaining: () => number;
    log: Logger;
}

/** True when the deferral is scheduled (now or by an earlier attempt); false leaves the record to its queue. */
export async function scheduleDeferral(args: ScheduleDeferralArgs): Promise<boolean> {
    const { scheduler, target, channel, request, recipient, until, now, log } = args;
    const name = deferralScheduleName(request.notificationId, channel, recipient.recipientKey, until);
    // Throttling (CreateSchedule has a per-account rate) backs off within the time budget like a send;
    // past it, or on any other error, the record goes back to the queue (no DEFERRED row).
    const result = await callWithBackoff(
        () =>
            scheduler.send(
                new CreateScheduleCommand({
                    Name: name,
                    GroupName: target.group,
                    ScheduleExpression: atExpression(Math.max(until, now + 60_000)),
                    ScheduleExpressionTimezone: "UTC",
                    FlexibleTimeWindow: { Mode: "OFF" },
                    ActionAfterCompletion: "DELETE",
                    Target: {
                        Arn: target.queueArn,
                        RoleArn: target.roleArn,
                        Input: deferredRequestBody(request, channel, recipient),
                    },
                }),
            ),
        args.remaining,
        { minRemainingMs: SEND_TIME_GUARD_MS },
    );
    if (result.ok || result.error.name === "ConflictException") return true;
    const logged = {
        notificationId: request.notificationId,
        schedule: name,
        errorClass: result.errorClass,
        error: result.error,
    };
    if (result.errorClass === "throttled" || result.errorClass === "transient")
        log.warn("deferral not scheduled yet; the record goes back to the queue", logged);
    else log.error("could not schedule the deferral", logged);
    return false;
}
