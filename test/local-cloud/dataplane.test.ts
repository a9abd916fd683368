import { expect } from "chai";
import { PublishCommand, SNSClient, CreatePlatformEndpointCommand, PublishBatchCommand } from "@aws-sdk/client-sns";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CHANNELS } from "../../handlers/core/channels";
import { TABLES, type TableSpec } from "../../infra/tables";
import { MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from "../../infra/messaging";
import { type Emulators, startEmulators, useEmulatorEnv } from "../../toolkit/local-cloud/emulators";
import { loadProgram, type LoadedProgram } from "../../toolkit/local-cloud/program";
import { createDataPlane, type DataPlane } from "../../toolkit/local-cloud/resources";
import { drainQueue, peekAll, queueDepth, failedIds } from "../../toolkit/local-cloud/drain";
import { countApiCalls, MobileStandIn } from "../../toolkit/local-cloud/sdk";

describe("harness: the program's data plane in the emulators", function () {
    this.timeout(120_000);
    let program: LoadedProgram;
    let emulators: Emulators;
    let plane: DataPlane;
    let restoreEnv: () => void;

    before(async () => {
        program = await loadProgram({ stack: "dev" });
        emulators = await startEmulators();
        restoreEnv = useEmulatorEnv(emulators.endpoints);
        plane = await createDataPlane(program, emulators.endpoints);
    });
    after(async () => {
        restoreEnv?.();
        await emulators?.close();
    });

    it("creates every table of the data model under the program's physical names", async () => {
        for (const [name, spec] of Object.entries(TABLES) as [string, TableSpec][]) {
            const physical = plane.tables[name as keyof typeof TABLES];
            const { Table } = await plane.db.call("DescribeTable", { TableName: physical });
            expect(
                Table.KeySchema.map((k: any) => k.AttributeName),
                name,
            ).to.deep.equal([spec.hashKey, ...(spec.rangeKey ? [spec.rangeKey] : [])]);
            expect((Table.GlobalSecondaryIndexes ?? []).map((i: any) => i.IndexName).sort(), name).to.deep.equal(
                spec.indexes.map((i) => i.name).sort(),
            );
        }
        expect(program.fn("push-sender").environment.DEVICES_TABLE).to.equal(plane.tables.devices);
    });

    it("gives the tables the model's stream and TTL settings (DynamoDB Local keeps both)", async () => {
        for (const [name, spec] of Object.entries(TABLES) as [string, TableSpec][]) {
            const physical = plane.tables[name as keyof typeof TABLES];
            const { Table } = await plane.db.call("DescribeTable", { TableName: physical });
            expect(Table.StreamSpecification?.StreamViewType, name).to.equal(spec.stream);
            expect(Boolean(Table.LatestStreamArn), name).to.equal(Boolean(spec.stream));
            const { TimeToLiveDescription } = await plane.db.call("DescribeTimeToLive", { TableName: physical });
            expect(TimeToLiveDescription.AttributeName, name).to.equal(spec.ttlAttribute);
        }
        expect(TABLES.devices.stream, "the devices table is the one with a stream").to.equal("NEW_AND_OLD_IMAGES");
    });

    it("gives each channel queue the program's visibility timeout and redrive to its own DLQ", () => {
        for (const channel of CHANNELS) {
            const queue = plane.queue(`-${channel}`);
            const fn = program.fn(`${channel}-sender`);
            expect(queue.visibilityTimeoutSeconds).to.equal(VISIBILITY_TIMEOUT_FACTOR * fn.timeoutSeconds);
            expect(queue.redrive).to.deep.equal({
                deadLetterQueue: `${queue.logicalName}-dlq`,
                maxReceiveCount: MAX_RECEIVE_COUNT,
            });
        }
    });

    it("rewrites the functions' mock ARNs and URLs to the emulator's, and nothing else", () => {
        const env = plane.rewriteEnv(program.fn("campaign-runner").environment);
        expect(env.INGRESS_TOPIC_ARN).to.equal(plane.topic("-ingress"));
        const push = plane.rewriteEnv(program.fn("push-sender").environment);
        expect(push.CHANNEL_QUEUE_ARN).to.equal(plane.queue("-push").arn);
        expect(push.DEVICES_TABLE).to.equal(program.fn("push-sender").environment.DEVICES_TABLE);
    });

    it("routes ingress requests to the channel queues by the program's filter policies", async () => {
        const sns = new SNSClient({});
        const publish = (id: string, channels?: string[]) =>
            sns.send(
                new PublishCommand({
                    TopicArn: plane.topic("-ingress"),
                    Message: JSON.stringify({ notificationId: id }),
                    MessageAttributes: channels
                        ? { channels: { DataType: "String.Array", StringValue: JSON.stringify(channels) } }
                        : undefined,
                }),
            );
        await publish("r-email-sms", ["email", "sms"]);
        await publish("r-push", ["push"]);
        await publish("r-preferences");
        await publish("r-unknown", ["pigeon"]);
        const ids = async (suffix: string) =>
            (await peekAll(plane.sqs, plane.queue(suffix))).map((m) => JSON.parse(m.Body!).notificationId).sort();
        expect(await ids("-push")).to.deep.equal(["r-preferences", "r-push", "r-unknown"]);
        expect(await ids("-email")).to.deep.equal(["r-email-sms", "r-preferences", "r-unknown"]);
        expect(await ids("-sms")).to.deep.equal(["r-email-sms", "r-preferences", "r-unknown"]);
        expect(await ids("-inapp")).to.deep.equal(["r-preferences", "r-unknown"]);
        // Raw delivery: the queue message is the request itself, attributes included.
        const [message] = (await peekAll(plane.sqs, plane.queue("-push"))).filter(
            (m) => JSON.parse(m.Body!).notificationId === "r-push",
        );
        expect(message.MessageAttributes?.channels?.StringValue).to.equal('["push"]');
        for (const suffix of ["-push", "-email", "-sms"])
            await drainQueue({
                sqs: plane.sqs,
                queue: plane.queue(suffix),
                region: "eu-west-1",
                invoke: async () => ({ batchItemFailures: [] }),
            });
    });

    it("drains through a function: acknowledged records leave, a poison record ends in the DLQ after maxReceiveCount", async () => {
        const queue = plane.queue("-feedback");
        const dlq = plane.queue("-feedback-dlq");
        const sqs = new SQSClient({});
        for (const body of ["good-1", "poison", "good-2"])
            await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
        const seen: string[] = [];
        const report = await drainQueue({
            sqs: plane.sqs,
            queue,
            region: "eu-west-1",
            retryFailuresNow: true,
            invoke: async (event) => {
                seen.push(...event.Records.map((r) => r.body));
                expect(event.Records[0]).to.include({
                    eventSource: "aws:sqs",
                    eventSourceARN: queue.arn,
                    awsRegion: "eu-west-1",
                });
                return {
                    batchItemFailures: event.Records.filter((r) => r.body === "poison").map((r) => ({
                        itemIdentifier: r.messageId,
                    })),
                };
            },
        });
        expect(report.acknowledged).to.equal(2);
        expect(report.failedDeliveries).to.equal(MAX_RECEIVE_COUNT);
        expect(seen.filter((b) => b === "poison")).to.have.length(MAX_RECEIVE_COUNT);
        expect(seen.filter((b) => b !== "poison").sort()).to.deep.equal(["good-1", "good-2"]);
        expect((await peekAll(plane.sqs, dlq)).map((m) => m.Body)).to.deep.equal(["poison"]);
        expect(await queueDepth(plane.sqs, queue)).to.equal(0);
    });

    it("reads partial batch responses as Lambda does", () => {
        const ids = new Set(["a", "b"]);
        expect([...failedIds(undefined, ids)]).to.deep.equal([]);
        expect([...failedIds({ batchItemFailures: [] }, ids)]).to.deep.equal([]);
        expect([...failedIds({ batchItemFailures: [{ itemIdentifier: "b" }] }, ids)]).to.deep.equal(["b"]);
        expect([...failedIds({ batchItemFailures: [{ itemIdentifier: "zzz" }] }, ids)].sort()).to.deep.equal([
            "a",
            "b",
        ]);
        expect([...failedIds({ batchItemFailures: [{}] }, ids)].sort()).to.deep.equal(["a", "b"]);
    });

    it("counts the functions' API calls (mocked ones included) and not the harness's", async () => {
        const standIn = new MobileStandIn();
        const counter = countApiCalls({ ignore: [plane.sqs, plane.sns], dynamodbServerCalls: emulators.dynamodbCalls });
        try {
            const sns = new SNSClient({});
            const app = "arn:aws:sns:eu-west-1:000000000000:app/GCM/notify-test-android";
            const { EndpointArn } = await sns.send(
                new CreatePlatformEndpointCommand({ PlatformApplicationArn: app, Token: "t1" }),
            );
            await sns.send(
                new PublishCommand({
                    TargetArn: EndpointArn,
                    MessageStructure: "json",
                    Message: JSON.stringify({ GCM: JSON.stringify({ notification: { title: "hi" } }) }),
                }),
            );
            await sns.send(
                new PublishBatchCommand({
                    TopicArn: plane.topic("-feedback"),
                    PublishBatchRequestEntries: [{ Id: "1", Message: "x" }],
                }),
            );
            await plane.sqs.send(new SendMessageCommand({ QueueUrl: plane.queue("-sms").url, MessageBody: "harness" }));
            await plane.db.getItem(plane.tables.devices, { userId: "harness", deviceId: "x" });
            // A DynamoDB call that is not the harness's, made with a client outside the SDK.
            await fetch(emulators.endpoints.dynamodb, {
                method: "POST",
                headers: {
                    "x-amz-target": "DynamoDB_20120810.ListTables",
                    "content-type": "application/x-amz-json-1.0",
                },
                body: "{}",
            });
            expect(counter.byOperation()).to.deep.equal({
                "SNS.CreatePlatformEndpoint": 1,
                "SNS.Publish": 1,
                "SNS.PublishBatch": 1,
                "DynamoDB.ListTables": 1,
            });
            expect(standIn.pushes.map((p) => p.payload)).to.deep.equal([{ notification: { title: "hi" } }]);
            // The topic batch went through to fauxqs.
            expect((await peekAll(plane.sqs, plane.queue("-feedback"))).map((m) => m.Body)).to.deep.equal(["x"]);
        } finally {
            counter.restore();
            standIn.restore();
        }
        await drainQueue({
            sqs: plane.sqs,
            queue: plane.queue("-feedback"),
            region: "eu-west-1",
            invoke: async () => undefined,
        });
        await drainQueue({
            sqs: plane.sqs,
            queue: plane.queue("-sms"),
            region: "eu-west-1",
            invoke: async () => undefined,
        });
    });

    it("stands in for mobile push with SNS's endpoint semantics", async () => {
        const standIn = new MobileStandIn();
        try {
            const sns = new SNSClient({});
            const app = "arn:aws:sns:eu-west-1:000000000000:app/APNS_SANDBOX/notify-test-ios";
            const first = await sns.send(
                new CreatePlatformEndpointCommand({ PlatformApplicationArn: app, Token: "tok" }),
            );
            const again = await sns.send(
                new CreatePlatformEndpointCommand({ PlatformApplicationArn: app, Token: "tok" }),
            );
            expect(again.EndpointArn).to.equal(first.EndpointArn);
            const conflict = await sns
                .send(
                    new CreatePlatformEndpointCommand({
                        PlatformApplicationArn: app,
                        Token: "tok",
                        Attributes: { CustomUserData: "other" },
                    }),
                )
                .catch((e) => e);
            expect(conflict.name).to.equal("InvalidParameterException");
            expect(conflict.message).to.contain(first.EndpointArn);
            standIn.disable(first.EndpointArn!);
            const disabled = await sns
                .send(new PublishCommand({ TargetArn: first.EndpointArn, Message: "x" }))
                .catch((e) => e);
            expect(disabled.name).to.equal("EndpointDisabledException");
            const tooBig = JSON.stringify({ APNS_SANDBOX: JSON.stringify({ aps: { alert: "x".repeat(5000) } }) });
            standIn.endpoints.get(first.EndpointArn!)!.enabled = true;
            const big = await sns
                .send(new PublishCommand({ TargetArn: first.EndpointArn, MessageStructure: "json", Message: tooBig }))
                .catch((e) => e);
            expect(big.name).to.equal("InvalidParameterException");
            const badSms = await sns
                .send(new PublishCommand({ PhoneNumber: "0049 170", Message: "x" }))
                .catch((e) => e);
            expect(badSms.name).to.equal("InvalidParameterException");
            expect(standIn.pushes).to.have.length(0);
        } finally {
            standIn.restore();
        }
    });
});
