/**
 * The platform on this machine: the program's data plane in the in-process emulators (toolkit/local-cloud),
 * the functions as they ship (the serialized `__index.js` of each CallbackFunction), the mobile push /
 * SMS stand-in and the Firehose / Scheduler / KMS (HMAC) stand-ins, API-call counting, and a Lambda-like event
 * source per channel queue with the batch size the program gives it. Shared by `npm run sandbox`,
 * `npm run bench` and test/sandbox.test.ts. Everything listens on 127.0.0.1 and is closed by close().
 */
import { PublishBatchCommand, PublishCommand, SNSClient, ThrottledException } from "@aws-sdk/client-sns";
import type { Channel } from "../../handlers/lib/telemetry-names";
import { drainQueue, type DrainReport, peekAll, queueDepth } from "./drain";
import { type Emulators, startEmulators, useEmulatorEnv } from "./emulators";
import { loadProgram, type LoadedFunction, type LoadedProgram } from "./program";
import { createDataPlane, type DataPlane, type QueueInfo } from "./resources";
import { type ApiCallCounter, countApiCalls, MobileStandIn, ServiceStandIns } from "./sdk";
import { type SeedDevice, userRows } from "./seed";
import { CHANNELS, type WorkloadRequest, type WorkloadUser } from "../sandbox/workload";

export const REGION = "eu-west-1";
/** Upper bound of event-source invocations per drain: a message that never settles is an error. */
const MAX_INVOCATIONS_PER_DRAIN = 2_000;

export interface PlatformOptions {
    stack: string;
    /** Device tokens whose first publish the provider answers with Throttled (the bench's realism). */
    throttledTokens?: Iterable<string>;
}

export interface DrainResult extends DrainReport {
    channel: Channel;
    function: string;
    batchSize: number;
    /** Lines the function wrote (JSON logs and EMF metrics), captured instead of printed. */
    output: string[];
}

export interface LocalPlatform {
    stack: string;
    program: LoadedProgram;
    emulators: Emulators;
    plane: DataPlane;
    standIn: MobileStandIn;
    services: ServiceStandIns;
    counter: ApiCallCounter;
    /** Throttled answers given so far (see PlatformOptions.throttledTokens). */
    throttles: { token: string; design: "endpoint" | "topic" }[];
    /** Adds device tokens whose first publish (per design) is throttled. */
    throttle(tokens: Iterable<string>): void;
    apps: { apns: string; fcm: string };
    /** The channel queue and the batch size of the event source mapping the program gives its sender. */
    channelQueue(channel: Channel): { queue: QueueInfo; dlq: QueueInfo; batchSize: number; functionName: string };
    sender(channel: Channel): LoadedFunction;
    seedTemplates(templates: Record<string, unknown>[]): Promise<void>;
    seedUsers(users: WorkloadUser[]): Promise<void>;
    /** Publishes like a producer: to the ingress topic, with the `channels` attribute the filter policies route on. */
    publish(requests: WorkloadRequest[]): Promise<void>;
    drain(channel: Channel): Promise<DrainResult>;
    /** Bodies of the messages waiting in a queue (left in place). */
    peek(queue: QueueInfo, limit?: number): Promise<string[]>;
    depth(queue: QueueInfo): Promise<number>;
    close(): Promise<void>;
}

/** Runs `work` with process.stdout.write collecting into `lines` (the functions log to stdout). */
export async function captureStdout<T>(lines: string[], work: () => Promise<T>): Promise<T> {
    const original = process.stdout.write;
    let pending = "";
    process.stdout.write = function (chunk: any, ...rest: any[]) {
        pending += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
        const parts = pending.split("\n");
        pending = parts.pop()!;
        lines.push(...parts.filter((p) => p.length > 0));
        const callback = rest.find((r) => typeof r === "function");
        if (callback) callback();
        return true;
    } as typeof process.stdout.write;
    try {
        return await work();
    } finally {
        process.stdout.write = original;
        if (pending) lines.push(pending);
    }
}

/**
 * Answers the first publish to each listed token with SNS's Throttled error, whether it is addressed
 * as a platform endpoint (ours) or carried in a topic message (the seed design). Installed between
 * the stand-in's mock and the call counter, so the refused call is counted like any other.
 */
function injectThrottles(standIn: MobileStandIn, tokens: Set<string>, log: LocalPlatform["throttles"]): () => void {
    const proto = SNSClient.prototype as any;
    const inner = proto.send;
    const done = new Set<string>();
    proto.send = function (this: SNSClient, command: any, ...rest: unknown[]) {
        if (command instanceof PublishCommand) {
            const input = command.input as any;
            let token: string | undefined;
            let design: "endpoint" | "topic" = "endpoint";
            if (input.TargetArn) token = standIn.endpoints.get(input.TargetArn)?.token;
            else if (input.TopicArn && typeof input.Message === "string" && input.Message.includes("deviceToken")) {
                try {
                    token = JSON.parse(input.Message).deviceToken;
                    design = "topic";
                } catch {
                    token = undefined;
                }
            }
            const key = `${design}:${token}`;
            if (token && tokens.has(token) && !done.has(key)) {
                done.add(key);
                log.push({ token, design });
                return Promise.reject(
                    new ThrottledException({ message: "Rate exceeded", $metadata: { httpStatusCode: 400 } }),
                );
            }
        }
        return inner.call(this, command, ...rest);
    };
    return () => {
        proto.send = inner;
    };
}

export async function startPlatform(options: PlatformOptions): Promise<LocalPlatform> {
    const program = await loadProgram({ stack: options.stack });
    const emulators = await startEmulators({ region: REGION });
    const undo: (() => void | Promise<void>)[] = [() => emulators.close()];
    const closeAll = async () => {
        for (const step of undo.splice(0).reverse()) await step();
    };
    try {
        undo.push(useEmulatorEnv(emulators.endpoints));
        const plane = await createDataPlane(program, emulators.endpoints);
        undo.push(() => (plane.db as { destroy?: () => void }).destroy?.());
        const { standIn, services, counter, throttles, throttledTokens } = installStandIns(plane, options, undo);
        const apps = platformApplications(program, options.stack);
        const channelQueue = channelQueueOf(program, plane);
        const sender = senderLoader(program, plane, apps);
        return {
            stack: options.stack,
            program,
            emulators,
            plane,
            standIn,
            services,
            counter,
            throttles,
            throttle: (tokens) => {
                for (const t of tokens) throttledTokens.add(t);
            },
            apps,
            channelQueue,
            sender,
            async seedTemplates(templates) {
                await plane.db.putItems(plane.tables.templates, templates);
            },
            seedUsers: (users) => seedUsers(plane, standIn, apps, users),
            publish: (requests) => publishRequests(plane, requests),
            async drain(channel) {
                const { queue, batchSize, functionName } = channelQueue(channel);
                const fn = sender(channel);
                const output: string[] = [];
                const report = await drainQueue({
                    sqs: plane.sqs,
                    queue,
                    region: REGION,
                    batchSize,
                    // Failed records come back at once (not after the visibility timeout), so a drain
                    // ends with every message either acknowledged or moved to the DLQ by the redrive.
                    retryFailuresNow: true,
                    maxInvocations: MAX_INVOCATIONS_PER_DRAIN,
                    invoke: (event) => captureStdout(output, () => fn.invoke(event)),
                });
                return { ...report, channel, function: functionName, batchSize, output };
            },
            async peek(queue, limit = 5_000) {
                return (await peekAll(plane.sqs, queue, limit)).map((m) => m.Body ?? "");
            },
            depth: (queue) => queueDepth(plane.sqs, queue),
            close: closeAll,
        };
    } catch (err) {
        await closeAll().catch(() => undefined);
        throw err;
    }
}

/** Mocks first, then the throttle injector, then the call counter on top (see countApiCalls). */
function installStandIns(plane: DataPlane, options: PlatformOptions, undo: (() => void | Promise<void>)[]) {
    const standIn = new MobileStandIn();
    undo.push(() => standIn.restore());
    const services = new ServiceStandIns();
    undo.push(() => services.restore());
    const throttles: LocalPlatform["throttles"] = [];
    const throttledTokens = new Set(options.throttledTokens ?? []);
    undo.push(injectThrottles(standIn, throttledTokens, throttles));
    const harnessDynamo = (plane.db as { client?: object }).client;
    const counter = countApiCalls({ ignore: [plane.sqs, plane.sns, ...(harnessDynamo ? [harnessDynamo] : [])] });
    undo.push(() => counter.restore());
    return { standIn, services, counter, throttles, throttledTokens };
}

/**
 * Platform applications exist only once a stack has platform credentials (secrets the offline run
 * does not have): the functions get the stand-in's applications, of the stack's APNs flavour.
 */
function platformApplications(program: LoadedProgram, stack: string): LocalPlatform["apps"] {
    const pushFn = program.fn("push-sender");
    const apnsPlatform = pushFn.environment.APNS_PLATFORM === "APNS_SANDBOX" ? "APNS_SANDBOX" : "APNS";
    return {
        apns: `arn:aws:sns:${REGION}:000000000000:app/${apnsPlatform}/notify-${stack}-ios`,
        fcm: `arn:aws:sns:${REGION}:000000000000:app/GCM/notify-${stack}-android`,
    };
}

/** A channel's queue, dead-letter queue and the batch size of the program's mapping to its sender. */
function channelQueueOf(program: LoadedProgram, plane: DataPlane): LocalPlatform["channelQueue"] {
    const mappings = program.ofType("aws:lambda/eventSourceMapping:EventSourceMapping");
    return (channel: Channel) => {
        const queue = plane.queue(`messaging-${channel}`);
        const dlq = plane.queue(`messaging-${channel}-dlq`);
        const functionName = `${channel}-sender-fn`;
        const fn = program.fn(`${channel}-sender`);
        const mapping = mappings.find(
            (m) => plane.mapping.get(m.inputs.eventSourceArn) === queue.arn && fn.parent && m.parent === fn.parent,
        );
        if (!mapping)
            throw new Error(`no event source mapping from ${queue.logicalName} to ${functionName} in the program`);
        return { queue, dlq, batchSize: Number(mapping.inputs.batchSize ?? 10), functionName };
    };
}

/** Each sender loaded once, with the emulators' names in its environment. */
function senderLoader(program: LoadedProgram, plane: DataPlane, apps: LocalPlatform["apps"]) {
    const loaded = new Map<string, LoadedFunction>();
    return (channel: Channel): LoadedFunction => {
        const name = `${channel}-sender`;
        if (!loaded.has(name)) {
            const fn = program.fn(name);
            const env = {
                ...plane.rewriteEnv(fn.environment),
                APNS_APPLICATION_ARN: apps.apns,
                FCM_APPLICATION_ARN: apps.fcm,
            };
            // The module's top level runs the factory (the cold start), which may log.
            loaded.set(name, fn.load(env));
        }
        return loaded.get(name)!;
    };
}

async function seedUsers(
    plane: DataPlane,
    standIn: MobileStandIn,
    apps: LocalPlatform["apps"],
    users: Parameters<LocalPlatform["seedUsers"]>[0],
): Promise<void> {
    const endpointFor = (device: SeedDevice) =>
        standIn.addEndpoint({
            applicationArn: device.platform === "ios" ? apps.apns : apps.fcm,
            token: device.token,
            enabled: device.enabled ?? true,
        }).arn;
    const rows = users.map((user) => userRows(user, endpointFor));
    await plane.db.putItems(
        plane.tables.preferences,
        rows.flatMap((r) => r.preferences),
    );
    await plane.db.putItems(
        plane.tables.devices,
        rows.flatMap((r) => r.devices),
    );
}

/** Publishes requests on the ingress topic as a producer would: the `channels` attribute beside the body. */
async function publishRequests(plane: DataPlane, requests: Parameters<LocalPlatform["publish"]>[0]): Promise<void> {
    const topic = plane.topic("-ingress");
    for (let i = 0; i < requests.length; i += 10) {
        const chunk = requests.slice(i, i + 10);
        const out = await plane.sns.send(
            new PublishBatchCommand({
                TopicArn: topic,
                PublishBatchRequestEntries: chunk.map((request, j) => ({
                    Id: String(j),
                    Message: JSON.stringify(request),
                    MessageAttributes: Array.isArray(request.channels)
                        ? { channels: { DataType: "String.Array", StringValue: JSON.stringify(request.channels) } }
                        : undefined,
                })),
            }),
        );
        if (out.Failed?.length) throw new Error(`ingress publish failed: ${JSON.stringify(out.Failed)}`);
    }
}

/** The request inside a channel-queue body (raw delivery, or an SNS envelope when raw delivery is off). */
export function requestOfBody(body: string): Record<string, unknown> | undefined {
    try {
        const parsed = JSON.parse(body);
        if (parsed && parsed.Type === "Notification" && typeof parsed.Message === "string")
            return JSON.parse(parsed.Message);
        return parsed && typeof parsed === "object" ? parsed : undefined;
    } catch {
        return undefined;
    }
}

export { CHANNELS };
