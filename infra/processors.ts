import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { campaignRunner } from "../handlers/campaignRunner";
import { deviceMaintenance } from "../handlers/deviceMaintenance";
import { emailSender } from "../handlers/emailSender";
import { feedbackProcessor } from "../handlers/feedbackProcessor";
import { ENV } from "../handlers/lib/env";
import { type Channel, METRIC_NAMESPACE, serviceName } from "../handlers/lib/telemetry-names";
import { pushSender } from "../handlers/pushSender";
import { smsSender } from "../handlers/smsSender";
import type { PlatformConfig } from "./config";
import { encryptedQueue, type Messaging } from "./messaging";
import { Processor } from "./processor";
import { SUMMARY_DEVICE_ID } from "../handlers/core/endpoints";
import type { TableName } from "./tables";

/** Timeout of the channel senders and the feedback processor; their queues' visibility is 6× this. */
export const SENDER_TIMEOUT_SECONDS = 30;
const DEVICE_MAINTENANCE_TIMEOUT_SECONDS = 60;
/** A campaign run pages through its audience and checkpoints, so a run cut at 15 minutes resumes. */
const CAMPAIGN_RUNNER_TIMEOUT_SECONDS = 900;

export interface ProcessorsArgs {
    config: PlatformConfig;
    kmsKeyArn: pulumi.Input<string>;
    tables: Record<TableName, aws.dynamodb.Table>;
    messaging: Messaging;
    apnsApplication?: aws.sns.PlatformApplication;
    fcmApplication?: aws.sns.PlatformApplication;
    sesIdentityArn: pulumi.Input<string>;
    sesConfigurationSetName: pulumi.Input<string>;
    analyticsStreamArn: pulumi.Input<string>;
    analyticsStreamName: pulumi.Input<string>;
    deferralScheduleGroupName: pulumi.Input<string>;
    deferralRoleArn: pulumi.Input<string>;
}

type Statement = pulumi.Input<aws.iam.PolicyStatement>;

/**
 * The six Lambda processors, each a magic function with exactly the permissions its adapter uses (see
 * the API calls listed in each handlers/<name>.ts) and only the environment it reads.
 */
export class Processors extends pulumi.ComponentResource {
    public readonly pushSender: Processor;
    public readonly emailSender: Processor;
    public readonly smsSender: Processor;
    public readonly feedbackProcessor: Processor;
    public readonly deviceMaintenance: Processor;
    public readonly campaignRunner: Processor;
    public readonly deviceStreamFailures: aws.sqs.Queue;
    public readonly campaignFailures: aws.sqs.Queue;

    constructor(name: string, args: ProcessorsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:processors:Processors", name, {}, opts);
        const { config, tables, messaging, kmsKeyArn } = args;
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const region = aws.getRegionOutput({}, { parent: this }).region;

        const tableArns = (...names: TableName[]) => names.map((n) => tables[n].arn);
        const indexArn = (table: TableName, index: string) => pulumi.interpolate`${tables[table].arn}/index/${index}`;
        const dynamo = (sid: string, actions: string[], resources: pulumi.Input<string>[]): Statement => ({
            Sid: sid,
            Effect: "Allow",
            Action: actions.map((a) => `dynamodb:${a}`),
            Resource: resources,
        });
        const analytics: Statement = {
            Sid: "DeliveryEventsToAnalytics",
            Effect: "Allow",
            Action: "firehose:PutRecordBatch",
            Resource: args.analyticsStreamArn,
        };
        const deferral: Statement[] = [
            {
                Sid: "DeferDelivery",
                Effect: "Allow",
                Action: "scheduler:CreateSchedule",
                Resource: pulumi.interpolate`arn:aws:scheduler:${region}:${account}:schedule/${args.deferralScheduleGroupName}/*`,
            },
            {
                Sid: "PassDeferralRole",
                Effect: "Allow",
                Action: "iam:PassRole",
                Resource: args.deferralRoleArn,
                Condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
            },
        ];
        /** What the shared sender pipeline does for every channel, plus reading the given tables. */
        const senderStatements = (...recipientTables: TableName[]): Statement[] => [
            analytics,
            ...deferral,
            dynamo("SenderBookkeeping", ["BatchGetItem", "BatchWriteItem"], tableArns("deliveryLog", "idempotency")),
            dynamo("ReadRecipients", ["BatchGetItem"], tableArns("preferences", "templates", ...recipientTables)),
        ];

        const common = {
            kmsKeyArn,
            logRetentionDays: config.logRetentionDays,
            memorySizeMb: config.lambdaMemoryMb,
        };
        const baseEnv = {
            [ENV.stage]: config.stack,
            [ENV.serviceName]: serviceName(config.stack),
            [ENV.metricsNamespace]: METRIC_NAMESPACE,
            [ENV.logLevel]: config.stack === "prod" ? "INFO" : "DEBUG",
        };
        const senderEnv = (channel: "push" | "email" | "sms") => ({
            ...baseEnv,
            [ENV.preferencesTable]: tables.preferences.name,
            [ENV.templatesTable]: tables.templates.name,
            [ENV.deliveryLogTable]: tables.deliveryLog.name,
            [ENV.idempotencyTable]: tables.idempotency.name,
            [ENV.analyticsStream]: args.analyticsStreamName,
            [ENV.deferralScheduleGroup]: args.deferralScheduleGroupName,
            [ENV.deferralRoleArn]: args.deferralRoleArn,
            [ENV.channelQueueArn]: messaging.channelQueues[channel].queue.arn,
            [ENV.rateLimits]: JSON.stringify(config.rateLimitsPerHour),
            [ENV.deliveryLogTtlDays]: String(config.deliveryLogTtlDays),
        });
        const queueSource = (channel: "push" | "email" | "sms") => ({
            queueArn: messaging.channelQueues[channel].queue.arn,
            batchSize: config.queueBatchSize,
            batchingWindowSeconds: config.queueBatchingWindowSeconds,
            maxConcurrency: config.senderMaxConcurrency,
        });
        const platformApps = [args.apnsApplication, args.fcmApplication].filter(
            (app): app is aws.sns.PlatformApplication => app !== undefined,
        );
        // Platform endpoint ARNs: arn:aws:sns:<region>:<account>:endpoint/<PLATFORM>/<application>/<id>
        const endpointArns = platformApps.map(
            (app) => pulumi.interpolate`${app.arn.apply((arn) => arn.replace(":app/", ":endpoint/"))}/*`,
        );
        const platformEnv = {
            [ENV.apnsPlatform]: config.push.apnsPlatform,
            ...(args.apnsApplication ? { [ENV.apnsApplicationArn]: args.apnsApplication.arn } : {}),
            ...(args.fcmApplication ? { [ENV.fcmApplicationArn]: args.fcmApplication.arn } : {}),
        };

        this.pushSender = new Processor(
            "push-sender",
            {
                ...common,
                description: "Delivers push notifications to each enabled device's SNS platform endpoint",
                callbackFactory: pushSender,
                timeoutSeconds: SENDER_TIMEOUT_SECONDS,
                environment: { ...senderEnv("push"), ...platformEnv, [ENV.devicesTable]: tables.devices.name },
                queue: queueSource("push"),
                statements: [
                    ...senderStatements("devices"),
                    dynamo("DisableDeadDevices", ["UpdateItem"], tableArns("devices")),
                    ...(endpointArns.length > 0
                        ? [
                              {
                                  Sid: "PublishToEndpoints",
                                  Effect: "Allow" as const,
                                  Action: "sns:Publish",
                                  Resource: endpointArns,
                              },
                          ]
                        : []),
                ],
            },
            { parent: this },
        );

        const sesConfigurationSetArn = pulumi.interpolate`arn:aws:ses:${region}:${account}:configuration-set/${args.sesConfigurationSetName}`;
        this.emailSender = new Processor(
            "email-sender",
            {
                ...common,
                description: "Sends e-mail notifications through SES v2 with the platform's configuration set",
                callbackFactory: emailSender,
                timeoutSeconds: SENDER_TIMEOUT_SECONDS,
                environment: {
                    ...senderEnv("email"),
                    [ENV.sesConfigurationSet]: args.sesConfigurationSetName,
                    [ENV.sesFromAddress]: config.email.fromAddress,
                },
                queue: queueSource("email"),
                statements: [
                    ...senderStatements(),
                    {
                        Sid: "SendThroughConfigurationSet",
                        Effect: "Allow",
                        Action: "ses:SendEmail",
                        Resource: [args.sesIdentityArn, sesConfigurationSetArn],
                        Condition: { StringEquals: { "ses:FromAddress": config.email.fromAddress } },
                    },
                ],
            },
            { parent: this },
        );

        this.smsSender = new Processor(
            "sms-sender",
            {
                ...common,
                description: "Sends transactional SMS notifications through SNS",
                callbackFactory: smsSender,
                timeoutSeconds: SENDER_TIMEOUT_SECONDS,
                environment: {
                    ...senderEnv("sms"),
                    ...(config.sms.senderId ? { [ENV.smsSenderId]: config.sms.senderId } : {}),
                },
                queue: queueSource("sms"),
                statements: [
                    ...senderStatements(),
                    {
                        // Opt-out look-ups and publishing to a phone number have no resource ARN: "*" is
                        // the only form IAM accepts for them.
                        Sid: "SmsWithoutResource",
                        Effect: "Allow",
                        Action: ["sns:Publish", "sns:ListPhoneNumbersOptedOut", "sns:CheckIfPhoneNumberIsOptedOut"],
                        Resource: "*",
                    },
                    {
                        // ...and this Deny narrows that "*" Publish to phone numbers: no topic or endpoint.
                        Sid: "PublishOnlyToPhoneNumbers",
                        Effect: "Deny",
                        Action: "sns:Publish",
                        Resource: "arn:aws:sns:*:*:*",
                    },
                ],
            },
            { parent: this },
        );

        this.feedbackProcessor = new Processor(
            "feedback-processor",
            {
                ...common,
                description: "Applies SES events and SNS endpoint events to the delivery log, suppressions and devices",
                callbackFactory: feedbackProcessor,
                timeoutSeconds: SENDER_TIMEOUT_SECONDS,
                environment: {
                    ...baseEnv,
                    [ENV.deliveryLogTable]: tables.deliveryLog.name,
                    [ENV.preferencesTable]: tables.preferences.name,
                    [ENV.devicesTable]: tables.devices.name,
                    [ENV.analyticsStream]: args.analyticsStreamName,
                },
                queue: {
                    queueArn: messaging.feedbackQueue.queue.arn,
                    batchSize: config.queueBatchSize,
                    batchingWindowSeconds: config.queueBatchingWindowSeconds,
                    maxConcurrency: config.senderMaxConcurrency,
                },
                statements: [
                    analytics,
                    dynamo("UpdateOutcomes", ["UpdateItem"], tableArns("deliveryLog", "preferences", "devices")),
                    dynamo("ReadDeliveryRow", ["GetItem"], tableArns("deliveryLog")),
                    dynamo("FindDeviceByEndpoint", ["Query"], [indexArn("devices", "byEndpointArn")]),
                    // An EndpointUpdated event without attributes is checked with SNS: the platform
                    // applications' endpoints only (none without an application: no events then either).
                    ...(endpointArns.length > 0
                        ? [
                              {
                                  Sid: "CheckUpdatedEndpoints",
                                  Effect: "Allow" as const,
                                  Action: "sns:GetEndpointAttributes",
                                  Resource: endpointArns,
                              },
                          ]
                        : []),
                ],
            },
            { parent: this },
        );

        this.deviceStreamFailures = encryptedQueue("device-stream-failures", kmsKeyArn, this);
        const applicationArns = platformApps.map((app) => app.arn);
        this.deviceMaintenance = new Processor(
            "device-maintenance",
            {
                ...common,
                description: "Keeps each device's SNS platform endpoint in step with the devices table",
                callbackFactory: deviceMaintenance,
                timeoutSeconds: DEVICE_MAINTENANCE_TIMEOUT_SECONDS,
                environment: { ...baseEnv, ...platformEnv, [ENV.devicesTable]: tables.devices.name },
                stream: {
                    streamArn: tables.devices.streamArn,
                    onFailureQueueArn: this.deviceStreamFailures.arn,
                    // The per-user #summary rows are this function's own output: never invoke it for them.
                    filterPatterns: [
                        JSON.stringify({
                            dynamodb: { Keys: { deviceId: { S: [{ "anything-but": [SUMMARY_DEVICE_ID] }] } } },
                        }),
                    ],
                },
                statements: [
                    dynamo("MaintainDevices", ["UpdateItem"], tableArns("devices")),
                    dynamo("FindDeviceByEndpoint", ["Query"], [indexArn("devices", "byEndpointArn")]),
                    ...(platformApps.length > 0
                        ? [
                              {
                                  Sid: "CreateEndpoints",
                                  Effect: "Allow" as const,
                                  Action: "sns:CreatePlatformEndpoint",
                                  Resource: applicationArns,
                              },
                              {
                                  Sid: "MaintainEndpoints",
                                  Effect: "Allow" as const,
                                  Action: [
                                      "sns:GetEndpointAttributes",
                                      "sns:SetEndpointAttributes",
                                      "sns:DeleteEndpoint",
                                  ],
                                  Resource: endpointArns,
                              },
                          ]
                        : []),
                ],
            },
            { parent: this },
        );

        // Where a campaign run ends up after its retries (Scheduler dead letters and Lambda async failures).
        this.campaignFailures = encryptedQueue("campaign-failures", kmsKeyArn, this);
        this.campaignRunner = new Processor(
            "campaign-runner",
            {
                ...common,
                description: "Publishes a campaign's notification requests to the ingress topic, in resumable pages",
                callbackFactory: campaignRunner,
                timeoutSeconds: CAMPAIGN_RUNNER_TIMEOUT_SECONDS,
                reservedConcurrency: config.campaignRunnerReservedConcurrency,
                environment: {
                    ...baseEnv,
                    [ENV.preferencesTable]: tables.preferences.name,
                    [ENV.idempotencyTable]: tables.idempotency.name,
                    [ENV.ingressTopicArn]: messaging.ingressTopic.arn,
                },
                statements: [
                    dynamo("SelectAudience", ["Query"], [indexArn("preferences", "bySegment")]),
                    dynamo("Checkpoint", ["GetItem", "PutItem"], tableArns("idempotency")),
                    {
                        Sid: "ReportFailedRuns",
                        Effect: "Allow",
                        Action: "sqs:SendMessage",
                        Resource: this.campaignFailures.arn,
                    },
                    {
                        Sid: "PublishRequests",
                        Effect: "Allow",
                        Action: "sns:Publish",
                        Resource: messaging.ingressTopic.arn,
                    },
                ],
            },
            { parent: this },
        );

        // A run that reaches its time budget saves its checkpoint and invokes itself again (asynchronously,
        // same input) to continue. Granted on the function's own ARN, after the function exists.
        new aws.iam.RolePolicy(
            "campaign-runner-continue",
            {
                role: this.campaignRunner.role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "ContinueRun",
                            Effect: "Allow",
                            Action: "lambda:InvokeFunction",
                            Resource: this.campaignRunner.function.arn,
                        },
                    ],
                }),
            },
            { parent: this },
        );

        // Scheduler invokes the runner asynchronously: a run that fails is retried by Lambda (resuming from
        // its checkpoint); after the retries the event goes to the failures queue.
        new aws.lambda.FunctionEventInvokeConfig(
            "campaign-runner-async",
            {
                functionName: this.campaignRunner.function.name,
                maximumRetryAttempts: 2,
                maximumEventAgeInSeconds: 6 * 3600,
                destinationConfig: { onFailure: { destination: this.campaignFailures.arn } },
            },
            { parent: this },
        );

        this.registerOutputs({});
    }

    /** Every processor, for monitoring. */
    public all(): { name: string; channel?: Channel; processor: Processor }[] {
        return [
            { name: "push-sender", channel: "push", processor: this.pushSender },
            { name: "email-sender", channel: "email", processor: this.emailSender },
            { name: "sms-sender", channel: "sms", processor: this.smsSender },
            { name: "feedback-processor", processor: this.feedbackProcessor },
            { name: "device-maintenance", processor: this.deviceMaintenance },
            { name: "campaign-runner", processor: this.campaignRunner },
        ];
    }
}
