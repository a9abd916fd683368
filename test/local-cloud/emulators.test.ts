import { expect } from "chai";
import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { SNSClient, CreateTopicCommand, PublishCommand, SubscribeCommand } from "@aws-sdk/client-sns";
import { type Emulators, startEmulators, useEmulatorEnv } from "../../toolkit/local-cloud/emulators";
import { DynamoHttpClient } from "../../toolkit/local-cloud/dynamo";

describe("harness: emulators", function () {
    this.timeout(20_000);
    let emulators: Emulators;
    let restoreEnv: () => void;

    before(async () => {
        emulators = await startEmulators();
        restoreEnv = useEmulatorEnv(emulators.endpoints);
    });
    after(async () => {
        restoreEnv?.();
        await emulators?.close();
    });

    it("binds every emulator to 127.0.0.1 on an ephemeral port", () => {
        const { dynamodb, sqs, sns, sesv2 } = emulators.endpoints;
        for (const url of [dynamodb, sns, sesv2]) expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
        // SQS goes by the queue URLs' host name, which the harness resolves to 127.0.0.1.
        expect(sqs).to.match(/^http:\/\/sqs\.eu-west-1\.localhost:\d+$/);
    });

    it("routes SDK clients configured only by the standard env vars to the emulators", async () => {
        // No endpoint in the client config: the adapters rely on AWS_ENDPOINT_URL_<SERVICE> alone.
        const sqs = new SQSClient({});
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "env-probe" }));
        expect(QueueUrl).to.equal(`${emulators.endpoints.sqs}/000000000000/env-probe`);
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "hello" }));
        const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
        expect(got.Messages?.map((m) => m.Body)).to.deep.equal(["hello"]);

        const topic = await new SNSClient({}).send(new CreateTopicCommand({ Name: "env-probe" }));
        expect(topic.TopicArn).to.equal(`arn:aws:sns:${emulators.endpoints.region}:000000000000:env-probe`);

        await emulators.ses.clear();
        const sent = await new SESv2Client({}).send(
            new SendEmailCommand({
                FromEmailAddress: "from@example.com",
                Destination: { ToAddresses: ["to@example.com"] },
                Content: { Simple: { Subject: { Data: "Hi" }, Body: { Text: { Data: "text body" } } } },
            }),
        );
        const emails = await emulators.ses.emails();
        expect(emails).to.have.length(1);
        expect(emails[0]).to.include({ messageId: sent.MessageId, subject: "Hi" });
        expect(emails[0].destination.to).to.deep.equal(["to@example.com"]);
    });

    it("speaks DynamoDB through the harness client, conditional failures included", async () => {
        const db = new DynamoHttpClient({ endpoint: emulators.endpoints.dynamodb, region: emulators.endpoints.region });
        await db.createTable({
            TableName: "probe",
            AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
            KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
            BillingMode: "PAY_PER_REQUEST",
        });
        await db.putItem("probe", { id: "a", n: 1, nested: { list: ["x", true, null] } });
        expect(await db.getItem("probe", { id: "a" })).to.deep.equal({
            id: "a",
            n: 1,
            nested: { list: ["x", true, null] },
        });
        const conditional = db.call("PutItem", {
            TableName: "probe",
            Item: { id: { S: "a" } },
            ConditionExpression: "attribute_not_exists(id)",
        });
        await conditional.then(
            () => expect.fail("the conditional put should fail"),
            (err) => expect(err.code).to.equal("ConditionalCheckFailedException"),
        );
    });

    it("routes SNS -> SQS by filter policies with SNS's array semantics (String.Array and JSON arrays)", async () => {
        const sqs = new SQSClient({});
        const sns = new SNSClient({});
        const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "routing-probe" }));
        const policy = (channel: string) => ({
            $or: [
                { channels: [channel] },
                { channels: [{ exists: false }] },
                { channels: [{ "anything-but": ["push", "email", "sms"] }] },
            ],
        });
        const queues: Record<string, string> = {};
        for (const channel of ["push", "email", "sms"]) {
            for (const scope of ["MessageAttributes", "MessageBody"]) {
                const name = `routing-${channel}-${scope}`;
                const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
                queues[name] = QueueUrl!;
                await sns.send(
                    new SubscribeCommand({
                        TopicArn,
                        Protocol: "sqs",
                        Endpoint: `arn:aws:sqs:${emulators.endpoints.region}:000000000000:${name}`,
                        Attributes: {
                            RawMessageDelivery: "true",
                            FilterPolicyScope: scope,
                            FilterPolicy: JSON.stringify(policy(channel)),
                        },
                    }),
                );
            }
        }
        const publish = (id: string, channels?: string[]) =>
            sns.send(
                new PublishCommand({
                    TopicArn,
                    Message: JSON.stringify(channels ? { id, channels } : { id }),
                    MessageAttributes: channels
                        ? { channels: { DataType: "String.Array", StringValue: JSON.stringify(channels) } }
                        : undefined,
                }),
            );
        await publish("email-and-sms", ["email", "sms"]);
        await publish("push-only", ["push"]);
        await publish("no-channels");
        await publish("unknown-channel", ["fax"]);
        const expected: Record<string, string[]> = {
            push: ["push-only", "no-channels", "unknown-channel"],
            email: ["email-and-sms", "no-channels", "unknown-channel"],
            sms: ["email-and-sms", "no-channels", "unknown-channel"],
        };
        for (const [name, url] of Object.entries(queues)) {
            const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
            const ids = (got.Messages ?? []).map((m) => JSON.parse(m.Body!).id).sort();
            expect(ids, name).to.deep.equal([...expected[name.split("-")[1]]].sort());
        }
    });

    it("restores the previous environment", () => {
        const before = process.env.AWS_ENDPOINT_URL_SQS;
        const restore = useEmulatorEnv({ ...emulators.endpoints, sqs: "http://127.0.0.1:1" });
        expect(process.env.AWS_ENDPOINT_URL_SQS).to.equal("http://127.0.0.1:1");
        restore();
        expect(process.env.AWS_ENDPOINT_URL_SQS).to.equal(before);
    });
});
