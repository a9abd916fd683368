/**
 * The crash window, measured: for every notification a provider accepted, the milliseconds between the
 * provider's answer and that outcome being durable in the delivery log (the BatchWriteItem holding its
 * row answered). A crash inside the window repeats that send after the lease; outside it, never. Runs
 * the bench's deterministic workload through the program's serialized senders at the stack's batch
 * size (prod: 50) on the emulators, with an optional simulated round trip before every API call of the
 * functions. Answers are matched to rows by the provider's message id (SNS MessageId, SES MessageId).
 * `npm run bench` reports it (samples and spread); this file only measures and returns numbers.
 */
import type { Channel } from "../../handlers/lib/telemetry-names";
import { startPlatform } from "../local-cloud/platform";
import { runPass } from "../sandbox/run";
import { generateWorkload } from "../sandbox/workload";
import { type Spread, spread } from "./stats";

export interface CrashWindowOptions {
    stack?: string;
    users?: number;
    /** Pause before every API call of the functions (a network round trip), in ms. */
    roundTripMs?: number;
}

export interface WindowStats extends Spread {
    medianMs: number;
    p95Ms: number;
    maxMs: number;
}

export interface CrashWindowResult {
    stack: string;
    batchSize: number;
    roundTripMs: number;
    overall: WindowStats;
    perChannel: Partial<Record<Channel, WindowStats>>;
}

const realSetTimeout = globalThis.setTimeout;
const pause = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
    if (sorted.length === 0) return Number.NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function windowStats(values: number[]): WindowStats {
    const sorted = [...values].sort((a, b) => a - b);
    return {
        ...spread(sorted),
        medianMs: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
        maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    };
}

/** Wraps `send` of an SDK client class: `before` may delay the call, `after` sees command and output. */
function wrapSend(
    cls: { prototype: any },
    skip: WeakSet<object>,
    before: () => Promise<void> | undefined,
    after: (command: any, output: any, at: number) => void,
): () => void {
    const proto = cls.prototype;
    const own = Object.getOwnPropertyDescriptor(proto, "send");
    const inner = proto.send;
    proto.send = async function (this: object, command: any, ...rest: unknown[]) {
        if (skip.has(this)) return inner.call(this, command, ...rest);
        await before();
        const output = await inner.call(this, command, ...rest);
        after(command, output, performance.now());
        return output;
    };
    return () => (own ? Object.defineProperty(proto, "send", own) : delete proto.send);
}

export async function measureCrashWindow(options: CrashWindowOptions = {}): Promise<CrashWindowResult> {
    const stack = options.stack ?? "prod";
    const roundTripMs = options.roundTripMs ?? 0;
    const platform = await startPlatform({ stack });
    const answeredAt = new Map<string, { at: number; channel: Channel }>();
    const windows: Record<string, number[]> = {};
    const undo: (() => void)[] = [];
    try {
        const workload = generateWorkload({ users: options.users ?? 1_000, seed: 7, prefix: "cw" });
        await platform.seedTemplates(workload.templates);
        await platform.seedUsers(workload.users);
        for (const phone of workload.optedOutPhones) platform.standIn.optedOut.add(phone);
        const { plane } = platform;
        const harness = (plane.db as { client?: object }).client;
        const skip = new WeakSet<object>([plane.sqs, plane.sns, ...(harness ? [harness] : [])]);
        const delay = () => (roundTripMs > 0 ? pause(roundTripMs) : undefined);
        const provider = (channel: (command: any) => Channel) => (command: any, output: any, at: number) => {
            if (output?.MessageId) answeredAt.set(output.MessageId, { at, channel: channel(command) });
        };
        const noop = () => undefined;
        undo.push(
            wrapSend(
                require("@aws-sdk/client-sns").SNSClient,
                skip,
                delay,
                provider((c) => (c?.input?.PhoneNumber ? "sms" : "push")),
            ),
            wrapSend(
                require("@aws-sdk/client-sesv2").SESv2Client,
                skip,
                delay,
                provider(() => "email"),
            ),
            wrapSend(require("@aws-sdk/client-dynamodb").DynamoDBClient, skip, delay, (command, output, at) => {
                if (command?.constructor?.name !== "BatchWriteItemCommand") return;
                const unprocessed = new Set(
                    Object.values((output?.UnprocessedItems ?? {}) as Record<string, any[]>)
                        .flat()
                        .map((r) => r.PutRequest?.Item?.providerMessageId?.S),
                );
                for (const requests of Object.values(command.input.RequestItems as Record<string, any[]>)) {
                    for (const r of requests) {
                        const id = r.PutRequest?.Item?.providerMessageId?.S;
                        const answer = id && !unprocessed.has(id) ? answeredAt.get(id) : undefined;
                        if (!answer) continue;
                        answeredAt.delete(id);
                        windows[answer.channel] ??= [];
                        windows[answer.channel].push(at - answer.at);
                    }
                }
            }),
            wrapSend(require("@aws-sdk/client-firehose").FirehoseClient, skip, delay, noop),
        );
        await runPass(platform, workload.requests, { observeRouting: false });
        const perChannel: Partial<Record<Channel, WindowStats>> = {};
        for (const [channel, values] of Object.entries(windows)) perChannel[channel as Channel] = windowStats(values);
        return {
            stack,
            batchSize: platform.channelQueue("push").batchSize,
            roundTripMs,
            overall: windowStats(Object.values(windows).flat()),
            perChannel,
        };
    } finally {
        for (const u of undo.reverse()) u();
        await platform.close();
    }
}

/** `npx ts-node --transpile-only toolkit/bench/crash-window.ts [roundTripMs...]`: prints the windows. */
if (require.main === module) {
    (async () => {
        const trips = process.argv.slice(2).map(Number);
        for (const roundTripMs of trips.length > 0 ? trips : [0, 2]) {
            const r = await measureCrashWindow({ roundTripMs });
            const f = (s: WindowStats) =>
                `median ${s.medianMs.toFixed(1)} ms, p95 ${s.p95Ms.toFixed(1)} ms, max ${s.maxMs.toFixed(1)} ms over ${s.samples} sends`;
            console.log(
                `crash window, stack ${r.stack}, batch size ${r.batchSize}, round trip ${roundTripMs} ms: ${f(r.overall)}`,
            );
            for (const [channel, s] of Object.entries(r.perChannel)) console.log(`    ${channel.padEnd(5)} ${f(s!)}`);
        }
    })().catch((error) => {
        console.error(error);
        process.exit(1);
    });
}
