/**
 * The sandbox run behind `npm run sandbox` (and test/sandbox.test.ts): the program's data plane in the
 * local emulators, a demo user, one sample request (or the user's, or N generated ones), every hop
 * printed — request -> channel queues -> per-channel sends -> delivery log -> analytics records — and
 * a summary whose `lost` must be empty.
 */
import type { Channel } from "../../handlers/lib/telemetry-names";
import type { ApiCall } from "../local-cloud/sdk";
import { checkAnalytics } from "./analytics";
import { CHANNELS, type LocalPlatform, startPlatform } from "../local-cloud/platform";
import { byOperation, type ChannelRun, type LostItem, type PassResult, perDelivered, runPass } from "./run";
import { DEMO_USER, generateWorkload, sampleRequest, TEMPLATES, type WorkloadRequest } from "./workload";

/** `--requests N` is capped so a load run stays within two minutes on two cores. */
export const MAX_SANDBOX_REQUESTS = 2_000;
/** Per delivered notification, per channel (issue 5's target). */
export const CALLS_PER_DELIVERED_TARGET = 1.15;

export interface SandboxOptions {
    stack: string;
    /** A request given by the user (already parsed and checked); otherwise the sample or generated ones. */
    request?: WorkloadRequest;
    /** Generated requests (with their users) instead of the single sample. */
    requests?: number;
    verbose?: boolean;
    print?: (line: string) => void;
}

export interface SandboxSummary {
    stack: string;
    requests: number;
    routed: number;
    logged: number;
    deadLettered: number;
    /** Outcomes queued for replay into the delivery log (its write kept failing after the sends). */
    queuedForReplay: number;
    lost: LostItem[];
    leftInQueues: number;
    delivered: Record<Channel, number>;
    calls: Record<Channel, number>;
    callsPerDelivered: Record<Channel | "overall", number>;
    operations: Record<string, number>;
    analyticsRecords: number;
    analyticsProblems: string[];
    throttles: number;
    ok: boolean;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : "n/a");

/** Checks a request file's content the way a producer's client should, before anything starts. */
export function parseRequestFile(text: string, file: string): WorkloadRequest {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (err) {
        throw new Error(`${file} is not JSON: ${(err as Error).message}`);
    }
    if (!value || typeof value !== "object" || Array.isArray(value))
        throw new Error(`${file} must hold one JSON object (a NotificationRequest)`);
    const request = value as Record<string, unknown>;
    if (typeof request.notificationId !== "string" || !/^[A-Za-z0-9_-]{1,128}$/.test(request.notificationId)) {
        throw new Error(
            `${file}: notificationId must be 1-128 characters of A-Z, a-z, 0-9, _ or - (it is the idempotency key)`,
        );
    }
    return request as WorkloadRequest;
}

export async function runSandbox(options: SandboxOptions): Promise<SandboxSummary> {
    const print = options.print ?? ((line: string) => console.log(line));
    if (
        options.requests !== undefined &&
        (!Number.isInteger(options.requests) || options.requests < 1 || options.requests > MAX_SANDBOX_REQUESTS)
    ) {
        throw new Error(`--requests must be an integer from 1 to ${MAX_SANDBOX_REQUESTS}`);
    }
    const workload = options.requests ? generateWorkload({ users: options.requests, prefix: "sandbox" }) : undefined;
    const requests = workload?.requests ?? [options.request ?? sampleRequest()];
    const single = requests.length === 1;

    print(
        `notify sandbox — stack ${options.stack}, everything local: the program under the mock runtime, emulators on 127.0.0.1 (Node ${process.version})`,
    );
    const started = Date.now();
    const platform = await startPlatform({ stack: options.stack });
    try {
        printDataPlane(platform, print);
        await platform.seedTemplates(TEMPLATES);
        await platform.seedUsers([DEMO_USER, ...(workload?.users ?? [])]);
        for (const phone of workload?.optedOutPhones ?? []) platform.standIn.optedOut.add(phone);
        printSeeded(workload, print);
        platform.counter.reset();

        print(`\n[1] request -> ingress topic ${platform.plane.topic("-ingress")}`);
        if (single) print(`    ${JSON.stringify(requests[0])}`);
        else print(`    ${requests.length} generated requests (first: ${JSON.stringify(requests[0])})`);

        const pass = await runPass(platform, requests, {
            observeRouting: true,
            onRouted: (routing) => printRouting(routing, single ? requests[0].notificationId : undefined, print),
            onChannel: (run) => printChannel(platform, run, single, options.verbose ?? false, print),
        });
        printDeliveryLog(platform, pass, single || (options.verbose ?? false), print);
        const allCalls = pass.channels.flatMap((c) => c.calls);
        const analytics = printAnalytics(platform, allCalls, single, print);

        const { delivered, calls, callsPerDelivered } = callProfile(pass.channels);
        const { accounting } = pass;
        const ok = accounting.lost.length === 0 && accounting.leftInQueues === 0 && analytics.problems.length === 0;
        print(`\nSummary (${((Date.now() - started) / 1000).toFixed(1)}s)`);
        print(
            `    requests ${requests.length}; routed to channel queues ${accounting.routed}; accounted: delivery log ${accounting.logged}, DLQ ${accounting.deadLettered}, queued for replay ${accounting.queuedForReplay}; left in queues ${accounting.leftInQueues}; LOST ${accounting.lost.length}`,
        );
        print(
            `    delivered: push ${delivered.push} (device endpoints), email ${delivered.email}, sms ${delivered.sms}, inapp ${delivered.inapp} (inbox items)`,
        );
        print(`    API calls by the functions: ${JSON.stringify(byOperation(allCalls))}`);
        const ratio = (c: Channel) => (calls[c] === 0 && delivered[c] === 0 ? "-" : fmt(callsPerDelivered[c]));
        print(
            `    API calls per delivered notification (target <= ${CALLS_PER_DELIVERED_TARGET}): ${CHANNELS.map((c) => `${c} ${ratio(c)}`).join(", ")}, overall ${fmt(callsPerDelivered.overall)}`,
        );
        if (single)
            print(
                `    (one request pays a whole batch's reads and bookkeeping writes alone; at the prod batch size see npm run bench)`,
            );
        for (const item of accounting.lost.slice(0, 20))
            print(`    LOST ${item.notificationId} on ${item.channel}: ${item.why}`);
        print(ok ? "    nothing lost" : "    FAILED: see above");
        return {
            stack: options.stack,
            requests: requests.length,
            routed: accounting.routed,
            logged: accounting.logged,
            deadLettered: accounting.deadLettered,
            queuedForReplay: accounting.queuedForReplay,
            lost: accounting.lost,
            leftInQueues: accounting.leftInQueues,
            delivered,
            calls,
            callsPerDelivered,
            operations: byOperation(allCalls),
            analyticsRecords: analytics.records.length,
            analyticsProblems: analytics.problems,
            throttles: platform.throttles.length,
            ok,
        };
    } finally {
        await platform.close();
    }
}

/** Delivered notifications and API calls per channel, and their ratio (overall too). */
function callProfile(channels: ChannelRun[]) {
    const delivered = Object.fromEntries(channels.map((c) => [c.channel, c.delivered])) as Record<Channel, number>;
    const calls = Object.fromEntries(channels.map((c) => [c.channel, c.calls.length])) as Record<Channel, number>;
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const callsPerDelivered = {
        ...(Object.fromEntries(CHANNELS.map((c) => [c, perDelivered(calls[c], delivered[c])])) as Record<
            Channel,
            number
        >),
        overall: perDelivered(sum(Object.values(calls)), sum(Object.values(delivered))),
    };
    return { delivered, calls, callsPerDelivered };
}

function printSeeded(workload: ReturnType<typeof generateWorkload> | undefined, print: (line: string) => void) {
    const templates = [...new Set(TEMPLATES.map((t) => `${t.templateId}/${t.locale}`))].join(", ");
    const devices = Object.entries(DEMO_USER.devices!)
        .map(([id, d]) => `${id} (${d.platform})`)
        .join(", ");
    const generated = workload
        ? `; ${workload.users.length} generated users (${workload.users.reduce((n, u) => n + Object.keys(u.devices ?? {}).length, 0)} devices)`
        : "";
    print(
        `\nSeeded: templates ${templates}; demo user ${DEMO_USER.userId} (${DEMO_USER.email}, ${DEMO_USER.phone}, opted in to push/email/sms/inapp, devices ${devices})${generated}`,
    );
}

function printRouting(routing: Map<string, Channel[]>, single: string | undefined, print: (line: string) => void) {
    const perQueue = Object.fromEntries(CHANNELS.map((c) => [c, 0]));
    for (const reached of routing.values()) for (const c of reached) perQueue[c]++;
    print(
        `\n[2] channel queues (ingress filter policies on the 'channels' attribute): ${CHANNELS.map((c) => `${c} ${perQueue[c]}`).join(", ")}`,
    );
    if (single) print(`    ${single} reached: ${routing.get(single)!.join(", ") || "no queue"}`);
}

function printDeliveryLog(platform: LocalPlatform, pass: PassResult, rows: boolean, print: (line: string) => void) {
    print(`\n[4] delivery log (${platform.plane.tables.deliveryLog}): ${pass.rows.length} rows`);
    if (rows) {
        for (const row of pass.rows.slice(0, 20)) {
            print(
                `    ${row.notificationId}  ${String(row.recipientKey).padEnd(22)} ${String(row.status).padEnd(10)} ${row.reason ?? row.providerMessageId ?? ""}${row.sentDevices ? `  devices: ${row.sentDevices.join(", ")}` : ""}`,
            );
        }
    }
    for (const [channel, statuses] of Object.entries(pass.accounting.statuses))
        print(`    ${channel.padEnd(6)} ${JSON.stringify(statuses)}`);
}

function printAnalytics(platform: LocalPlatform, allCalls: ApiCall[], single: boolean, print: (line: string) => void) {
    const streams = new Set(CHANNELS.map((c) => platform.sender(c).env.ANALYTICS_STREAM));
    const analytics = checkAnalytics(allCalls, streams);
    print(
        `\n[5] analytics (Firehose PutRecordBatch, stand-in that validates and keeps the records): ${analytics.records.length} records in ${analytics.calls} calls to ${[...streams].join(", ")}`,
    );
    for (const record of analytics.records.slice(0, single ? 10 : 3)) print(`    ${JSON.stringify(record)}`);
    for (const problem of analytics.problems.slice(0, 10)) print(`    INVALID: ${problem}`);
    return analytics;
}

function printDataPlane(platform: LocalPlatform, print: (line: string) => void) {
    const { plane, emulators } = platform;
    const e = emulators.endpoints;
    print(
        `    DynamoDB + Streams (AWS DynamoDB Local, Java, 127.0.0.1) ${e.dynamodb}, SNS/SQS (fauxqs) ${e.sns}, SES v2 (aws-ses-v2-local) ${e.sesv2}; mobile push + SMS, Firehose, Scheduler: in-process stand-ins`,
    );
    print(`\nData plane, created from the program's definitions (stack ${platform.stack}):`);
    print(
        `    tables: ${Object.entries(plane.tables)
            .map(([k, v]) => `${k}=${v}`)
            .join(", ")}`,
    );
    for (const q of Object.values(plane.queues)) {
        print(
            `    queue ${q.logicalName.padEnd(24)} visibility ${q.visibilityTimeoutSeconds}s${q.redrive ? `, redrive to ${q.redrive.deadLetterQueue} after ${q.redrive.maxReceiveCount} receives` : ""}`,
        );
    }
    for (const s of plane.subscriptions) {
        print(
            `    ${s.topic} -> ${s.queue}${s.rawMessageDelivery ? " (raw)" : ""}${s.filterPolicy ? ` filter ${JSON.stringify(s.filterPolicy)}` : ""}`,
        );
    }
    for (const channel of CHANNELS) {
        const { batchSize, functionName } = platform.channelQueue(channel);
        print(`    event source ${channel} queue -> ${functionName} (serialized __index.js), batch size ${batchSize}`);
    }
    if (plane.skipped.length > 0) print(`    not in the emulators: ${plane.skipped.join("; ")}`);
}

function printChannel(
    platform: LocalPlatform,
    run: ChannelRun,
    single: boolean,
    verbose: boolean,
    print: (line: string) => void,
) {
    print(
        `\n[3] ${run.channel}: ${run.function} — ${run.invocations} invocation(s) of up to ${run.batchSize} records, ${run.acknowledged} acknowledged, ${run.failedDeliveries} reported for retry; ${run.delivered} delivered; ${run.calls.length} API calls ${JSON.stringify(byOperation(run.calls))}`,
    );
    for (const error of run.errors) print(`    invocation error: ${error}`);
    const show = single ? 10 : 3;
    if (run.channel === "push") {
        for (const p of platform.standIn.pushes.slice(-run.delivered).slice(0, show)) {
            const alert = p.payload?.aps?.alert ?? p.payload?.notification ?? p.payload?.data ?? p.payload;
            print(`    SNS Publish TargetArn ${p.targetArn} (${p.platform}): ${JSON.stringify(alert)}`);
        }
    } else if (run.channel === "sms") {
        for (const s of platform.standIn.sms.slice(-run.delivered).slice(0, show)) {
            print(
                `    SNS Publish PhoneNumber ${s.phoneNumber} (${s.attributes["AWS.SNS.SMS.SMSType"]}): ${JSON.stringify(s.message)}`,
            );
        }
    } else if (run.channel === "inapp") {
        for (const call of run.calls.filter((c) => c.operation === "PutItem").slice(0, show)) {
            const item = call.input?.Item ?? {};
            print(
                `    DynamoDB PutItem inbox ${item.userId?.S}/${item.itemId?.S} (if absent): ${JSON.stringify(item.title?.S)}`,
            );
        }
    } else {
        for (const call of run.calls.filter((c) => c.operation === "SendEmail").slice(0, show)) {
            print(
                `    SES SendEmail to ${call.input.Destination?.ToAddresses?.join(", ")}: ${JSON.stringify(call.input.Content?.Simple?.Subject?.Data)} (tags ${call.input.EmailTags?.map((t: any) => `${t.Name}=${t.Value}`).join(", ")})`,
            );
        }
    }
    const deferrals = run.calls.filter((c) => c.service === "Scheduler" && c.operation === "CreateSchedule");
    if (deferrals.length > 0)
        print(
            `    deferred: ${deferrals.length} Scheduler CreateSchedule (${deferrals[0].input.ScheduleExpression}, first)`,
        );
    const metrics = run.output.filter((l) => l.includes('"_aws"')).length;
    print(
        `    function output: ${run.output.length} lines (${metrics} EMF metric lines)${verbose ? "" : "; --verbose prints them"}`,
    );
    if (verbose) for (const line of run.output) print(`      ${line}`);
}
