/**
 * The shared setting of the emulator tests: the dev stack's program (its serialized closures), the
 * emulators with the program's data plane, the mobile push / SMS stand-in, API-call counting, and
 * helpers to seed users and publish requests the way a producer does.
 */
import { PublishCommand } from "@aws-sdk/client-sns";
import type { Channel } from "../../../handlers/lib/telemetry-names";
import { type Emulators, startEmulators, useEmulatorEnv } from "../../../toolkit/local-cloud/emulators";
import {
    type LambdaContext,
    loadProgram,
    type LoadedFunction,
    type LoadedProgram,
} from "../../../toolkit/local-cloud/program";
import { createDataPlane, type DataPlane } from "../../../toolkit/local-cloud/resources";
import { drainQueue, type DrainReport, peekAll } from "../../../toolkit/local-cloud/drain";
import { type ApiCallCounter, countApiCalls, MobileStandIn, ServiceStandIns } from "../../../toolkit/local-cloud/sdk";
import { userRows, type SeedUser } from "../../../toolkit/local-cloud/seed";

export const REGION = "eu-west-1";
export const APNS_APP = `arn:aws:sns:${REGION}:000000000000:app/APNS_SANDBOX/notify-dev-ios`;
export const FCM_APP = `arn:aws:sns:${REGION}:000000000000:app/GCM/notify-dev-android`;

export interface World {
    program: LoadedProgram;
    emulators: Emulators;
    plane: DataPlane;
    standIn: MobileStandIn;
    /** Firehose (analytics) and Scheduler (deferrals), which no emulator here serves. */
    services: ServiceStandIns;
    counter: ApiCallCounter;
    /** Cold-starts a function with the program's env rewritten to the emulators (plus overrides). */
    load(fnName: string, overrides?: Record<string, string>): LoadedFunction;
    /** The sender of a channel, loaded once per world. */
    sender(channel: Channel): LoadedFunction;
    publishRequest(request: Record<string, unknown>, opts?: { raw?: string }): Promise<void>;
    drain(
        channel: Channel | "feedback",
        opts?: { retryFailuresNow?: boolean; context?: Partial<LambdaContext> },
    ): Promise<DrainReport>;
    /** Publishes one message to the feedback topic, as SES's event destination or a platform application does. */
    publishFeedback(message: unknown): Promise<void>;
    dlqBodies(channel: Channel | "feedback"): Promise<string[]>;
    seedUser(user: SeedUser): Promise<void>;
    logRows(notificationId: string): Promise<Record<string, any>[]>;
    /** A user's in-app inbox items (the inbox table), oldest first. */
    inboxItems(userId: string): Promise<Record<string, any>[]>;
    close(): Promise<void>;
}

export type { SeedUser } from "../../../toolkit/local-cloud/seed";

export async function createWorld(): Promise<World> {
    const program = await loadProgram({ stack: "dev" });
    const emulators = await startEmulators({ region: REGION });
    const restoreEnv = useEmulatorEnv(emulators.endpoints);
    const plane = await createDataPlane(program, emulators.endpoints);
    // Mocks first, then the counter on top of them (see countApiCalls).
    const standIn = new MobileStandIn();
    const services = new ServiceStandIns();
    const counter = countApiCalls({ ignore: [plane.sqs, plane.sns], dynamodbServerCalls: emulators.dynamodbCalls });
    const loaded = new Map<string, LoadedFunction>();

    const load = (fnName: string, overrides: Record<string, string> = {}) => {
        const fn = program.fn(fnName);
        return fn.load({
            ...plane.rewriteEnv(fn.environment),
            // The dev stack has no platform credentials, so it has no platform applications: give the
            // functions the stand-in's applications.
            APNS_APPLICATION_ARN: APNS_APP,
            FCM_APPLICATION_ARN: FCM_APP,
            // The dev stack logs at DEBUG; a test run shows only errors (NOTIFY_TEST_LOG_LEVEL=DEBUG for all).
            LOG_LEVEL: process.env.NOTIFY_TEST_LOG_LEVEL ?? "ERROR",
            ...overrides,
        });
    };
    const queueFor = (channel: string) => plane.queue(`messaging-${channel}`);

    const world: World = {
        program,
        emulators,
        plane,
        standIn,
        services,
        counter,
        load,
        sender(channel) {
            const name = `${channel}-sender`;
            if (!loaded.has(name)) loaded.set(name, load(name));
            return loaded.get(name)!;
        },
        async publishRequest(request, opts = {}) {
            const channels = request.channels as string[] | undefined;
            await plane.sns.send(
                new PublishCommand({
                    TopicArn: plane.topic("-ingress"),
                    Message: opts.raw ?? JSON.stringify(request),
                    MessageAttributes: Array.isArray(channels)
                        ? { channels: { DataType: "String.Array", StringValue: JSON.stringify(channels) } }
                        : undefined,
                }),
            );
        },
        async drain(channel, opts = {}) {
            if (channel === "feedback" && !loaded.has("feedback-processor"))
                loaded.set("feedback-processor", load("feedback-processor"));
            const fn = channel === "feedback" ? loaded.get("feedback-processor")! : world.sender(channel);
            return drainQueue({
                sqs: plane.sqs,
                queue: queueFor(channel),
                region: REGION,
                batchSize: 10,
                retryFailuresNow: opts.retryFailuresNow,
                invoke: (event) => fn.invoke(event, opts.context),
            });
        },
        async publishFeedback(message) {
            await plane.sns.send(
                new PublishCommand({
                    TopicArn: plane.topic("-feedback"),
                    Message: typeof message === "string" ? message : JSON.stringify(message),
                }),
            );
        },
        async dlqBodies(channel) {
            return (await peekAll(plane.sqs, plane.queue(`messaging-${channel}-dlq`))).map((m) => m.Body!);
        },
        async seedUser(user) {
            const rows = userRows(
                user,
                (device) =>
                    standIn.addEndpoint({
                        applicationArn: device.platform === "ios" ? APNS_APP : FCM_APP,
                        token: device.token,
                        enabled: device.enabled ?? true,
                    }).arn,
            );
            await plane.db.putItems(plane.tables.preferences, rows.preferences);
            await plane.db.putItems(plane.tables.devices, rows.devices);
        },
        logRows: (notificationId) => plane.db.queryAll(plane.tables.deliveryLog, "notificationId", notificationId),
        inboxItems: (userId) => plane.db.queryAll(plane.tables.inbox, "userId", userId),
        async close() {
            counter.restore();
            standIn.restore();
            services.restore();
            restoreEnv();
            await emulators.close();
        },
    };
    return world;
}
