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
 * `sleep` is injected so the benchmark can shorten the backoff by the same factor as ours.
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

export function createSeedProcessor(
    env: SeedEnvironment,
    clients: SeedClients,
    sleep: (seconds: number) => Promise<void>,
) {
    const { dynamodb, sns, s3, sqs, cloudwatch } = clients;
    return async (event: any, context: SeedContext) => {
        const tableName = env.DEVICE_TOKENS_TABLE;
        const analyticsBucket = env.ANALYTICS_BUCKET;
        const dlqUrl = env.DLQ_URL;
        const maxRetries = parseInt(env.MAX_RETRIES ?? "3", 10);
        const initialBackoff = parseInt(env.INITIAL_BACKOFF ?? "1", 10);
        const topicOf: Record<string, string | undefined> = { IOS: env.IOS_TOPIC_ARN, ANDROID: env.ANDROID_TOPIC_ARN };

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
                const devices = response.Items ?? [];

                for (const device of devices) {
                    const deviceToken = device.deviceToken?.S;
                    const devicePlatform = device.platform?.S ?? "";

                    for (let attempt = 0; attempt < maxRetries; attempt++) {
                        try {
                            const platformArn = topicOf[devicePlatform.toUpperCase()];
                            if (platformArn) {
                                await sns.send(
                                    new PublishCommand({
                                        TopicArn: platformArn,
                                        Message: JSON.stringify({ deviceToken, notification: notificationContent }),
                                    }),
                                );
                            }
                            await cloudwatch.putMetricData({
                                Namespace: "PushNotifications",
                                MetricData: [{ MetricName: "SuccessfulDelivery", Value: 1, Unit: "Count" }],
                            });
                            await s3.send(
                                new PutObjectCommand({
                                    Bucket: analyticsBucket,
                                    Key: `success/${userId}/${context.awsRequestId}.json`,
                                    Body: JSON.stringify({
                                        userId,
                                        deviceToken,
                                        platform: devicePlatform,
                                        timestamp: context.awsRequestId,
                                        status: "success",
                                    }),
                                }),
                            );
                            break; // Success, exit retry loop
                        } catch (error) {
                            if (!isClientError(error)) throw error;
                            if (attempt < maxRetries - 1) {
                                const waitTime = initialBackoff * 2 ** attempt;
                                console.log(`Attempt ${attempt + 1} failed, waiting ${waitTime} seconds`);
                                await sleep(waitTime);
                            } else {
                                console.log(`Failed to deliver after ${maxRetries} attempts`);
                                await sqs.send(
                                    new SendMessageCommand({
                                        QueueUrl: dlqUrl,
                                        MessageBody: JSON.stringify({
                                            userId,
                                            deviceToken,
                                            platform: devicePlatform,
                                            error: String(error),
                                            content: notificationContent,
                                        }),
                                    }),
                                );
                                await cloudwatch.putMetricData({
                                    Namespace: "PushNotifications",
                                    MetricData: [{ MetricName: "FailedDelivery", Value: 1, Unit: "Count" }],
                                });
                                await s3.send(
                                    new PutObjectCommand({
                                        Bucket: analyticsBucket,
                                        Key: `failures/${userId}/${context.awsRequestId}.json`,
                                        Body: JSON.stringify({
                                            userId,
                                            deviceToken,
                                            platform: devicePlatform,
                                            timestamp: context.awsRequestId,
                                            status: "failed",
                                            error: String(error),
                                        }),
                                    }),
                                );
                            }
                        }
                    }
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
