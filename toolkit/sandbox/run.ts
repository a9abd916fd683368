/**
 * One pass of requests through the local platform: publish to the ingress topic, see where the filter
 * policies routed them, drain every channel queue through its serialized sender, then account for each
 * request on each channel it reached: a delivery-log row or a message in the channel's DLQ. Anything
 * else (no row, no DLQ message, or still queued) is lost. Also attributes the counted API calls to the
 * channel whose drain made them and counts what each channel really delivered.
 */
import type { ApiCall } from "../local-cloud/sdk";
import type { Channel } from "../../handlers/lib/telemetry-names";
import { CHANNELS, type LocalPlatform, requestOfBody } from "../local-cloud/platform";
import { routedChannels, type WorkloadRequest } from "./workload";
import { OUTCOME_MESSAGE_TYPE } from "../../handlers/core/deliveryLog";

export interface ChannelRun {
    channel: Channel;
    function: string;
    batchSize: number;
    invocations: number;
    acknowledged: number;
    failedDeliveries: number;
    errors: string[];
    /** The API calls the function made during this drain. */
    calls: ApiCall[];
    /**
     * Notifications the provider accepted: push = endpoint publishes, email = SES sends, sms = SMS
     * publishes, inapp = items in the inbox table.
     */
    delivered: number;
    elapsedMs: number;
    output: string[];
}

export interface LostItem {
    notificationId: string;
    channel: Channel | "ingress";
    why: string;
}

export interface Accounting {
    /** (request, channel) pairs that reached a channel queue. */
    routed: number;
    /** Of those, accounted by a delivery-log row. */
    logged: number;
    /** Of those, accounted by a DLQ message. */
    deadLettered: number;
    /**
     * Of those, accounted by an outcome a sender queued for replay (the delivery log would not take it;
     * it waits on the feedback queue or its DLQ for the feedback processor to write it).
     */
    queuedForReplay: number;
    lost: LostItem[];
    /** channel -> delivery-log status -> rows. */
    statuses: Record<string, Record<string, number>>;
    /** Messages left in the channel queues after the drain (should be 0). */
    leftInQueues: number;
}

export interface PassResult {
    /** notificationId -> channels whose queue it reached. */
    routing: Map<string, Channel[]>;
    channels: ChannelRun[];
    accounting: Accounting;
    /** Delivery-log rows of this pass's requests. */
    rows: Record<string, any>[];
    dlq: Record<Channel, string[]>;
}

export interface PassOptions {
    /**
     * true: read each channel queue before draining to learn where the requests really went (the
     * sandbox shows this hop); false: predict routing from the filter policy rule (routedChannels).
     */
    observeRouting: boolean;
    /** Called once the requests are in the channel queues, before any is drained. */
    onRouted?: (routing: Map<string, Channel[]>) => void | Promise<void>;
    /** Called with each channel's run as soon as it is drained (the sandbox prints hops as they happen). */
    onChannel?: (run: ChannelRun) => void | Promise<void>;
}

async function deliveredSoFar(platform: LocalPlatform): Promise<Record<Channel, number>> {
    return {
        push: platform.standIn.pushes.length,
        email: (await platform.emulators.ses.emails()).length,
        sms: platform.standIn.sms.length,
        inapp: (await platform.plane.db.scanAll(platform.plane.tables.inbox)).length,
    };
}

export async function runPass(
    platform: LocalPlatform,
    requests: WorkloadRequest[],
    options: PassOptions,
): Promise<PassResult> {
    const ids = new Set(requests.map((r) => r.notificationId));
    await platform.publish(requests);

    const routing = new Map<string, Channel[]>([...ids].map((id) => [id, [] as Channel[]]));
    if (options.observeRouting) {
        for (const channel of CHANNELS) {
            const bodies = await platform.peek(platform.channelQueue(channel).queue, requests.length * 2 + 10);
            for (const body of bodies) {
                const id = requestOfBody(body)?.notificationId;
                if (typeof id === "string" && routing.has(id)) routing.get(id)!.push(channel);
            }
        }
    } else {
        for (const r of requests) routing.set(r.notificationId, routedChannels(r));
    }

    await options.onRouted?.(routing);

    const channels: ChannelRun[] = [];
    for (const channel of CHANNELS) {
        const before = await deliveredSoFar(platform);
        const callsBefore = platform.counter.calls.length;
        const started = process.hrtime.bigint();
        const report = await platform.drain(channel);
        const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
        const calls = platform.counter.calls.slice(callsBefore);
        const after = await deliveredSoFar(platform);
        const run: ChannelRun = {
            channel,
            function: report.function,
            batchSize: report.batchSize,
            invocations: report.invocations,
            acknowledged: report.acknowledged,
            failedDeliveries: report.failedDeliveries,
            errors: report.errors.map((e) => e.message),
            calls,
            delivered: after[channel] - before[channel],
            elapsedMs,
            output: report.output,
        };
        channels.push(run);
        await options.onChannel?.(run);
    }

    const rows = (await platform.plane.db.scanAll(platform.plane.tables.deliveryLog)).filter((r) =>
        ids.has(r.notificationId as string),
    );
    const dlq = {} as Record<Channel, string[]>;
    const outcomeBodies = [
        ...(await platform.peek(platform.plane.queue("messaging-feedback"))),
        ...(await platform.peek(platform.plane.queue("messaging-feedback-dlq"))),
    ];
    let leftInQueues = 0;
    for (const channel of CHANNELS) {
        const { queue, dlq: dlqQueue } = platform.channelQueue(channel);
        dlq[channel] = await platform.peek(dlqQueue);
        leftInQueues += await platform.depth(queue);
    }
    const accounting = account(requests, routing, rows, dlq, leftInQueues, queuedOutcomes(outcomeBodies));
    return { routing, channels, accounting, rows, dlq };
}

/** The rows of the outcome messages (core/deliveryLog OUTCOME_MESSAGE_TYPE) among feedback-queue bodies. */
export function queuedOutcomes(bodies: string[]): Record<string, any>[] {
    const rows: Record<string, any>[] = [];
    for (const body of bodies) {
        try {
            const message = JSON.parse(body);
            if (message?.type === OUTCOME_MESSAGE_TYPE && Array.isArray(message.rows)) rows.push(...message.rows);
        } catch {
            // not an outcome message
        }
    }
    return rows;
}

/** Every routed (request, channel) pair needs a delivery-log row of that channel or a DLQ message. */
export function account(
    requests: WorkloadRequest[],
    routing: Map<string, Channel[]>,
    rows: Record<string, any>[],
    dlq: Record<Channel, string[]>,
    leftInQueues: number,
    queued: Record<string, any>[] = [],
): Accounting {
    // A row that holds only a claim (no status) is no outcome: its result is queued or lost.
    const logged = new Set(rows.filter((r) => r.status).map((r) => `${r.notificationId}|${r.channel}`));
    const replayable = new Set(queued.map((r) => `${r.notificationId}|${r.channel}`));
    const dead = new Set<string>();
    for (const channel of CHANNELS) {
        for (const body of dlq[channel] ?? []) {
            const id = requestOfBody(body)?.notificationId;
            if (typeof id === "string") dead.add(`${id}|${channel}`);
        }
    }
    const statuses: Record<string, Record<string, number>> = {};
    for (const r of rows) {
        statuses[r.channel] ??= {};
        statuses[r.channel][r.status] = (statuses[r.channel][r.status] ?? 0) + 1;
    }
    const result: Accounting = {
        routed: 0,
        logged: 0,
        deadLettered: 0,
        queuedForReplay: 0,
        lost: [],
        statuses,
        leftInQueues,
    };
    for (const request of requests) {
        const reached = routing.get(request.notificationId) ?? [];
        if (reached.length === 0) {
            result.lost.push({
                notificationId: request.notificationId,
                channel: "ingress",
                why: "reached no channel queue",
            });
            continue;
        }
        for (const channel of reached) {
            result.routed++;
            const key = `${request.notificationId}|${channel}`;
            if (logged.has(key)) result.logged++;
            else if (dead.has(key)) result.deadLettered++;
            else if (replayable.has(key)) result.queuedForReplay++;
            else
                result.lost.push({
                    notificationId: request.notificationId,
                    channel,
                    why: "no delivery-log row and not in the DLQ",
                });
        }
    }
    return result;
}

/** API calls per delivered notification; Infinity when calls were made and nothing was delivered. */
export function perDelivered(calls: number, delivered: number): number {
    if (delivered === 0) return calls === 0 ? 0 : Infinity;
    return calls / delivered;
}

/** "Service.Operation" -> count. */
export function byOperation(calls: ApiCall[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of calls) out[`${c.service}.${c.operation}`] = (out[`${c.service}.${c.operation}`] ?? 0) + 1;
    return out;
}
