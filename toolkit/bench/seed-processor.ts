/**
 * A port of the seed design's notification processor, for the benchmark only: the Python
 * `lambda_handler` inlined as `NotificationProcessor.Code.ZipFile` in the seed CloudFormation template
 * (../shared/seeds/000_*, TapStack.json), rewritten line by line on the AWS SDK v3 so it runs against
 * the same emulators, in the same process, as our processors. The algorithm is kept as it is:
 *
 *   for each record: parse body -> Query the user's devices (or the PlatformIndex GSI by platform)
 *     for each device, up to MAX_RETRIES attempts:
 *        SNS Publish to the platform *topic* -> CloudWatch PutMetricData -> S3 PutObject   (sequential)
 *        on a ClientError: sleep INITIAL_BACKOFF * 2^attempt seconds, retry all three
 *        after the last attempt: SQS SendMessage to the DLQ, PutMetricData(FailedDelivery), PutObject
 *   any other exception: return {statusCode: 500} at once (the rest of the batch is not processed)
 *
 * Two defects of the seed are NOT ported, so that it delivers at all: its S3 key reads
 * `context.request_id` (Python's LambdaContext has only `aws_request_id`: an AttributeError on the
 * first success that would end every invocation after one device), and it is subscribed to an SNS topic
 * while it reads `record["body"]` (the SQS field): the bench feeds it through SQS, where `body` exists.
 * `sleep` is injected so the benchmark can shorten the backoff by the same factor as ours. The handler is
 * split into the seed's own steps (query, attempt, give up, the retry loop) with the calls, their order
 * and their arguments unchanged.
 */
import { type DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";

export interface SeedEnvironment {
    DEVICE_TOKENS_TABLE: string;
    ANALYTICS_BUCKET: string;
    DLQ_URL: string;
    IOS_TOPIC_ARN: string;
    ANDROID_TOPIC_ARN: string;
    MAX_RETRIES?: string;
    INITIAL_BACKOFF?: string;
}

/** boto3's `cloudwatch.put_metric_data`: the bench passes a counting stand-in (no emulator serves it). */
export interface MetricsApi {
    putMetricData(input: {
        Namespace: string;
        MetricData: { MetricName: string; Value: number; Unit: string }[];
    }): Promise<void>;
}

export interface SeedClients {
    dynamodb: DynamoDBClient;
    sns: SNSClient;
    s3: S3Client;
    sqs: SQSClient;
    cloudwatch: MetricsApi;
}

export interface SeedContext {
    awsRequestId: string;
}

/** botocore's ClientError: an error the service answered with (SDK v3 service exceptions carry $fault). */
function isClientError(error: unknown): error is Error {
    return typeof error === "object" && error !== null && "$fault" in error && "$metadata" in error;
}

/** The handler's settings, read from its environment on every invocation as the Python reads os.environ. */
function seedConfig(env: SeedEnvironment) {
    return {
        tableName: env.DEVICE_TOKENS_TABLE,
        analyticsBucket: env.ANALYTICS_BUCKET,
        dlqUrl: env.DLQ_URL,
        maxRetries: parseInt(env.MAX_RETRIES ?? "3", 10),
        initialBackoff: parseInt(env.INITIAL_BACKOFF ?? "1", 10),
        topicOf: { IOS: env.IOS_TOPIC_ARN, ANDROID: env.ANDROID_TOPIC_ARN } as Record<string, string | undefined>,
    };
}

type SeedConfig = ReturnType<typeof seedConfig>;

/** The user's devices (platform "all"), or every device of a platform through the PlatformIndex GSI. */
async function queryDevices(dynamodb: DynamoDBClient, tableName: string, userId: string, platform: string) {
    const response =
        platform === "all"
            ? await dynamodb.send(
                  new QueryCommand({
                      TableName: tableName,
                      KeyConditionExpression: "userId = :uid",
                      ExpressionAttributeValues: { ":uid": { S: userId } },
                  }),
              )
            : await dynamodb.send(
                  new QueryCommand({
                      TableName: tableName,
                      IndexName: "PlatformIndex",
                      KeyConditionExpression: "platform = :platform",
                      ExpressionAttributeValues: { ":platform": { S: platform } },
                  }),
              );
    return response.Items ?? [];
}

interface Delivery {
    userId: string;
    deviceToken: string | undefined;
    devicePlatform: string;
    notificationContent: unknown;
    context: SeedContext;
}

/** One attempt, in the seed's order: topic Publish, PutMetricData(SuccessfulDelivery), S3 success object. */
async function attempt(clients: SeedClients, config: SeedConfig, d: Delivery): Promise<void> {
    const platformArn = config.topicOf[d.devicePlatform.toUpperCase()];
    if (platformArn) {
        await clients.sns.send(
            new PublishCommand({
                TopicArn: platformArn,
                Message: JSON.stringify({ deviceToken: d.deviceToken, notification: d.notificationContent }),
            }),
        );
    }
    await clients.cloudwatch.putMetricData({
        Namespace: "PushNotifications",
        MetricData: [{ MetricName: "SuccessfulDelivery", Value: 1, Unit: "Count" }],
    });
    await clients.s3.send(
        new PutObjectCommand({
            Bucket: config.analyticsBucket,
            Key: `success/${d.userId}/${d.context.awsRequestId}.json`,
            Body: JSON.stringify({
                userId: d.userId,
                deviceToken: d.deviceToken,
                platform: d.devicePlatform,
                timestamp: d.context.awsRequestId,
                status: "success",
            }),
        }),
    );
}

/** After the last attempt: the DLQ message, PutMetricData(FailedDelivery), the S3 failure object. */
async function giveUp(clients: SeedClients, config: SeedConfig, d: Delivery, error: unknown): Promise<void> {
    console.log(`Failed to deliver after ${config.maxRetries} attempts`);
    await clients.sqs.send(
        new SendMessageCommand({
            QueueUrl: config.dlqUrl,
            MessageBody: JSON.stringify({
                userId: d.userId,
                deviceToken: d.deviceToken,
                platform: d.devicePlatform,
                error: String(error),
                content: d.notificationContent,
            }),
        }),
    );
    await clients.cloudwatch.putMetricData({
        Namespace: "PushNotifications",
        MetricData: [{ MetricName: "FailedDelivery", Value: 1, Unit: "Count" }],
    });
    await clients.s3.send(
        new PutObjectCommand({
            Bucket: config.analyticsBucket,
            Key: `failures/${d.userId}/${d.context.awsRequestId}.json`,
            Body: JSON.stringify({
                userId: d.userId,
                deviceToken: d.deviceToken,
                platform: d.devicePlatform,
                timestamp: d.context.awsRequestId,
                status: "failed",
                error: String(error),
            }),
        }),
    );
}

/** The retry loop: a ClientError sleeps INITIAL_BACKOFF * 2^attempt and retries all three calls. */
async function deliver(
    clients: SeedClients,
    config: SeedConfig,
    d: Delivery,
    sleep: (seconds: number) => Promise<void>,
): Promise<void> {
    for (let n = 0; n < config.maxRetries; n++) {
        try {
            await attempt(clients, config, d);
            break; // Success, exit retry loop
        } catch (error) {
            if (!isClientError(error)) throw error;
            if (n < config.maxRetries - 1) {
                const waitTime = config.initialBackoff * 2 ** n;
                console.log(`Attempt ${n + 1} failed, waiting ${waitTime} seconds`);
                await sleep(waitTime);
            } else {
                await giveUp(clients, config, d, error);
            }
        }
    }
}

export function createSeedProcessor(
    env: SeedEnvironment,
    clients: SeedClients,
    sleep: (seconds: number) => Promise<void>,
) {
    return async (event: any, context: SeedContext) => {
        const config = seedConfig(env);
        for (const record of event.Records ?? [event]) {
            const message = JSON.parse(record.body ?? JSON.stringify(record));
            const userId = message.userId;
            const notificationContent = message.content;
            const platform = message.platform ?? "all";

            if (!userId || !notificationContent) {
                console.log("Missing userId or content");
                continue;
            }

            try {
                const devices = await queryDevices(clients.dynamodb, config.tableName, userId, platform);
                for (const device of devices) {
                    const delivery = {
                        userId,
                        deviceToken: device.deviceToken?.S,
                        devicePlatform: device.platform?.S ?? "",
                        notificationContent,
                        context,
                    };
                    await deliver(clients, config, delivery, sleep);
                }
            } catch (error) {
                console.log(`Error processing notification: ${String(error)}`);
                return { statusCode: 500, body: JSON.stringify({ error: String(error) }) };
            }
        }
        return { statusCode: 200, body: JSON.stringify("Notifications processed") };
    };
}

/**
 * CloudWatch PutMetricData as a counting stand-in (no local emulator serves CloudWatch): checks the
 * input against the API's rules (namespace, 1-1000 data, metric name, finite value, a known unit) and
 * keeps every call.
 */
export class MetricsStandIn implements MetricsApi {
    readonly calls: { Namespace: string; MetricData: { MetricName: string; Value: number; Unit: string }[] }[] = [];
    private static readonly UNITS = new Set(["Count", "Seconds", "Milliseconds", "Bytes", "Percent", "None"]);

    async putMetricData(input: {
        Namespace: string;
        MetricData: { MetricName: string; Value: number; Unit: string }[];
    }): Promise<void> {
        if (!input.Namespace || input.Namespace.startsWith("AWS/"))
            throw new Error(`InvalidParameterValue: Namespace ${input.Namespace}`);
        if (!Array.isArray(input.MetricData) || input.MetricData.length < 1 || input.MetricData.length > 1000) {
            throw new Error("InvalidParameterValue: MetricData must hold 1-1000 entries");
        }
        for (const datum of input.MetricData) {
            if (!datum.MetricName) throw new Error("MissingParameter: MetricName");
            if (!Number.isFinite(datum.Value)) throw new Error(`InvalidParameterValue: Value ${datum.Value}`);
            if (!MetricsStandIn.UNITS.has(datum.Unit)) throw new Error(`InvalidParameterValue: Unit ${datum.Unit}`);
        }
        this.calls.push(input);
    }
}
