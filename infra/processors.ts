import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { campaignRunner } from "../handlers/campaignRunner";
import { deviceMaintenance } from "../handlers/deviceMaintenance";
import { emailSender } from "../handlers/emailSender";
import { feedbackProcessor } from "../handlers/feedbackProcessor";
import { inappSender } from "../handlers/inappSender";
import { environmentVariables, PROCESSOR_ENV } from "../handlers/lib/env";
import { CHANNELS, type Channel, METRIC_NAMESPACE, serviceName } from "../handlers/lib/telemetry-names";
import { pushSender } from "../handlers/pushSender";
import { smsSender } from "../handlers/smsSender";
import type { PlatformConfig } from "./config";
import { encryptedQueue, type Messaging } from "./messaging";
import { Processor, type ProcessorArgs } from "./processor";
import { SUMMARY_DEVICE_ID } from "../handlers/core/endpoints";
import type { TableName } from "./tables";

/**
 * A sender's name (and so its resources' names: `<name>-fn`, `-role`, `-logs`, the log group
 * `/notify/<stack>/<name>`) is its channel's: kept as the stack has always had them, since a renamed
 * child is a replaced function, role and log group on the next `pulumi up`.
 */
export const senderName = (channel: Channel) => `${channel}-sender`;

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
 * The seven Lambda processors, each a magic function with exactly the permissions its adapter uses (see
 * the API calls listed in each handlers/<name>.ts) and only the environment it reads.
 */
export class Processors extends pulumi.ComponentResource {
    public readonly pushSender: Processor;
    public readonly emailSender: Processor;
    public readonly smsSender: Processor;
    public readonly inappSender: Processor;
    public readonly feedbackProcessor: Processor;
    public readonly deviceMaintenance: Processor;
    public readonly campaignRunner: Processor;
    public readonly deviceStreamFailures: aws.sqs.Queue;
    public readonly campaignFailures: aws.sqs.Queue;

    constructor(name: string, args: ProcessorsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:processors:Processors", name, {}, opts);
        const shared = sharedSetup(args, this);
        const senders = channelSenders(shared, args);
        this.pushSender = senders.push;
        this.emailSender = senders.email;
        this.smsSender = senders.sms;
        this.inappSender = senders.inapp;
        this.feedbackProcessor = feedbackProcessorOf(shared);
        this.deviceStreamFailures = encryptedQueue("device-stream-failures", args.kmsKeyArn, this);
        this.deviceMaintenance = deviceMaintenanceOf(shared, this.deviceStreamFailures);
        // Where a campaign run ends up after its retries (Scheduler dead letters and Lambda async failures).
        this.campaignFailures = encryptedQueue("campaign-failures", args.kmsKeyArn, this);
        this.campaignRunner = campaignRunnerOf(shared, this.campaignFailures);
        this.registerOutputs({});
    }

    /** Every processor, for monitoring: the senders from the channel list, then the others. */
    public all(): { name: string; channel?: Channel; processor: Processor }[] {
        const senders: Record<Channel, Processor> = {
            push: this.pushSender,
            email: this.emailSender,
            sms: this.smsSender,
            inapp: this.inappSender,
        };
        return [
            ...CHANNELS.map((channel) => ({ name: senderName(channel), channel, processor: senders[channel] })),
            { name: "feedback-processor", processor: this.feedbackProcessor },
            { name: "device-maintenance", processor: this.deviceMaintenance },
            { name: "campaign-runner", processor: this.campaignRunner },
        ];
    }
}

/** What the processors share: the statement builders, the common settings and the sender factory. */
function sharedSetup(args: ProcessorsArgs, parent: pulumi.Resource) {
    const { config, tables, messaging, kmsKeyArn } = args;
    const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
    const region = aws.getRegionOutput({}, { parent }).region;

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
    const common = {
        stack: config.stack,
        kmsKeyArn,
        logRetentionDays: config.logRetentionDays,
        memorySizeMb: config.lambdaMemoryMb,
    };
    const base = {
        stage: config.stack,
        serviceName: serviceName(config.stack),
        metricsNamespace: METRIC_NAMESPACE,
        logLevel: config.stack === "prod" ? "INFO" : "DEBUG",
    };
    const platformApps = [args.apnsApplication, args.fcmApplication].filter(
        (app): app is aws.sns.PlatformApplication => app !== undefined,
    );
    // Platform endpoint ARNs: arn:aws:sns:<region>:<account>:endpoint/<PLATFORM>/<application>/<id>
    const endpointArns = platformApps.map(
        (app) => pulumi.interpolate`${app.arn.apply((arn) => arn.replace(":app/", ":endpoint/"))}/*`,
    );
    const platform = {
        apnsPlatform: config.push.apnsPlatform,
        apnsApplicationArn: args.apnsApplication?.arn,
        fcmApplicationArn: args.fcmApplication?.arn,
    };

    return {
        config,
        tables,
        messaging,
        kmsKeyArn,
        region,
        account,
        tableArns,
        indexArn,
        dynamo,
        analytics,
        common,
        base,
        platformApps,
        endpointArns,
        platform,
        args,
        parent,
    };
}

type Shared = ReturnType<typeof sharedSetup>;

/** What the channel senders share: the pipeline's statements and environment, the channel queue as source. */
function senderFactory(shared: Shared) {
    const { args, config, tables, messaging, region, account, tableArns, dynamo, analytics, common, base, parent } =
        shared;
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
    const senderStatements = (recipientTables: TableName[]): Statement[] => [
        analytics,
        ...deferral,
        dynamo("SenderBookkeeping", ["BatchGetItem", "BatchWriteItem"], tableArns("deliveryLog", "idempotency")),
        // Claim before send: TransactWriteItems of conditional Updates, authorized as UpdateItem per item.
        dynamo("ClaimBeforeSend", ["UpdateItem"], tableArns("deliveryLog")),
        dynamo("ReadRecipients", ["BatchGetItem"], tableArns("preferences", "templates", ...recipientTables)),
        {
            // Outcomes the delivery log would not take within the time budget, replayed by the feedback
            // processor (SendMessageBatch is authorized as SendMessage; the key is granted by Processor).
            Sid: "QueueUnwrittenOutcomes",
            Effect: "Allow",
            Action: "sqs:SendMessage",
            Resource: messaging.feedbackQueue.queue.arn,
        },
    ];

    /**
     * One channel sender: what they all share (the pipeline's environment and statements, the
     * channel queue as event source, the timeout) plus what only the channel has.
     */
    const sender = (
        channel: Channel,
        own: {
            description: string;
            callbackFactory: ProcessorArgs["callbackFactory"];
            environment: Record<string, pulumi.Input<string>>;
            statements: Statement[];
        },
    ) =>
        new Processor(
            senderName(channel),
            {
                ...common,
                description: own.description,
                callbackFactory: own.callbackFactory,
                timeoutSeconds: SENDER_TIMEOUT_SECONDS,
                environment: own.environment,
                queue: {
                    queueArn: messaging.channelQueues[channel].queue.arn,
                    batchSize: config.queueBatchSize,
                    batchingWindowSeconds: config.queueBatchingWindowSeconds,
                    maxConcurrency: config.senderMaxConcurrency,
                },
                statements: [...senderStatements(channel === "push" ? ["devices"] : []), ...own.statements],
            },
            { parent },
        );
    const senderValues = (channel: Channel) => ({
        ...base,
        preferencesTable: tables.preferences.name,
        templatesTable: tables.templates.name,
        deliveryLogTable: tables.deliveryLog.name,
        idempotencyTable: tables.idempotency.name,
        analyticsStream: args.analyticsStreamName,
        deferralScheduleGroup: args.deferralScheduleGroupName,
        deferralRoleArn: args.deferralRoleArn,
        channelQueueArn: messaging.channelQueues[channel].queue.arn,
        outcomeQueueUrl: messaging.feedbackQueue.queue.url,
        rateLimits: JSON.stringify(config.rateLimitsPerHour),
        deliveryLogTtlDays: String(config.deliveryLogTtlDays),
    });
    return { sender, senderValues };
}

/** The channel senders: the shared pipeline plus each channel's own environment and statements. */
function channelSenders(shared: Shared, args: ProcessorsArgs): Record<Channel, Processor> {
    const { config, tables, dynamo, tableArns, endpointArns, platform, region, account } = shared;
    const { sender, senderValues } = senderFactory(shared);
    const push = sender("push", {
        description: "Delivers push notifications to each enabled device's SNS platform endpoint",
        callbackFactory: pushSender,
        environment: environmentVariables(PROCESSOR_ENV.pushSender, {
            ...senderValues("push"),
            ...platform,
            devicesTable: tables.devices.name,
        }),
        statements: [
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
    });

    const sesConfigurationSetArn = pulumi.interpolate`arn:aws:ses:${region}:${account}:configuration-set/${args.sesConfigurationSetName}`;
    const email = sender("email", {
        description: "Sends e-mail notifications through SES v2 with the platform's configuration set",
        callbackFactory: emailSender,
        environment: environmentVariables(PROCESSOR_ENV.emailSender, {
            ...senderValues("email"),
            sesConfigurationSet: args.sesConfigurationSetName,
            sesFromAddress: config.email.fromAddress,
        }),
        statements: [
            {
                Sid: "SendThroughConfigurationSet",
                Effect: "Allow",
                Action: "ses:SendEmail",
                Resource: [args.sesIdentityArn, sesConfigurationSetArn],
                Condition: { StringEquals: { "ses:FromAddress": config.email.fromAddress } },
            },
        ],
    });

    const sms = sender("sms", {
        description: "Sends transactional SMS notifications through SNS",
        callbackFactory: smsSender,
        environment: environmentVariables(PROCESSOR_ENV.smsSender, {
            ...senderValues("sms"),
            smsSenderId: config.sms.senderId || undefined,
        }),
        statements: [
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
    });
    const inapp = inappSenderOf(shared, sender, senderValues);
    return { push, email, sms, inapp };
}

/** The in-app sender: its "provider" is the inbox table, so putting items there is all it adds. */
function inappSenderOf(
    shared: Shared,
    sender: ReturnType<typeof senderFactory>["sender"],
    senderValues: ReturnType<typeof senderFactory>["senderValues"],
): Processor {
    const { config, tables, dynamo, tableArns } = shared;
    return sender("inapp", {
        description:
            "Writes in-app notifications to each recipient's inbox (conditional PutItem, one item per request)",
        callbackFactory: inappSender,
        environment: environmentVariables(PROCESSOR_ENV.inappSender, {
            ...senderValues("inapp"),
            inboxTable: tables.inbox.name,
            inboxTtlDays: String(config.inboxTtlDays),
        }),
        // The table's key is granted by Processor, like every store's.
        statements: [dynamo("WriteInboxItems", ["PutItem"], tableArns("inbox"))],
    });
}

function feedbackProcessorOf(shared: Shared): Processor {
    const {
        args,
        config,
        tables,
        messaging,
        dynamo,
        tableArns,
        indexArn,
        analytics,
        common,
        base,
        endpointArns,
        parent,
    } = shared;
    return new Processor(
        "feedback-processor",
        {
            ...common,
            description: "Applies SES events and SNS endpoint events to the delivery log, suppressions and devices",
            callbackFactory: feedbackProcessor,
            timeoutSeconds: SENDER_TIMEOUT_SECONDS,
            environment: environmentVariables(PROCESSOR_ENV.feedbackProcessor, {
                ...base,
                deliveryLogTable: tables.deliveryLog.name,
                preferencesTable: tables.preferences.name,
                devicesTable: tables.devices.name,
                analyticsStream: args.analyticsStreamName,
            }),
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
                // Replays the outcomes a sender queued when its delivery-log write kept failing.
                dynamo("ReplayUnwrittenOutcomes", ["PutItem"], tableArns("deliveryLog")),
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
        { parent },
    );
}

function deviceMaintenanceOf(shared: Shared, failures: aws.sqs.Queue): Processor {
    const { tables, dynamo, tableArns, indexArn, common, base, platform, platformApps, endpointArns, parent } = shared;
    const applicationArns = platformApps.map((app) => app.arn);
    return new Processor(
        "device-maintenance",
        {
            ...common,
            description: "Keeps each device's SNS platform endpoint in step with the devices table",
            callbackFactory: deviceMaintenance,
            timeoutSeconds: DEVICE_MAINTENANCE_TIMEOUT_SECONDS,
            environment: environmentVariables(PROCESSOR_ENV.deviceMaintenance, {
                ...base,
                ...platform,
                devicesTable: tables.devices.name,
            }),
            stream: {
                streamArn: tables.devices.streamArn,
                onFailureQueueArn: failures.arn,
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
                              Action: ["sns:GetEndpointAttributes", "sns:SetEndpointAttributes", "sns:DeleteEndpoint"],
                              Resource: endpointArns,
                          },
                      ]
                    : []),
            ],
        },
        { parent },
    );
}

function campaignRunnerOf(shared: Shared, failures: aws.sqs.Queue): Processor {
    const { config, tables, messaging, dynamo, tableArns, indexArn, common, base, parent } = shared;
    const runner = new Processor(
        "campaign-runner",
        {
            ...common,
            description: "Publishes a campaign's notification requests to the ingress topic, in resumable pages",
            callbackFactory: campaignRunner,
            timeoutSeconds: CAMPAIGN_RUNNER_TIMEOUT_SECONDS,
            reservedConcurrency: config.campaignRunnerReservedConcurrency,
            environment: environmentVariables(PROCESSOR_ENV.campaignRunner, {
                ...base,
                preferencesTable: tables.preferences.name,
                idempotencyTable: tables.idempotency.name,
                ingressTopicArn: messaging.ingressTopic.arn,
            }),
            statements: [
                dynamo("SelectAudience", ["Query"], [indexArn("preferences", "bySegment")]),
                dynamo("Checkpoint", ["GetItem", "PutItem"], tableArns("idempotency")),
                {
                    Sid: "ReportFailedRuns",
                    Effect: "Allow",
                    Action: "sqs:SendMessage",
                    Resource: failures.arn,
                },
                {
                    Sid: "PublishRequests",
                    Effect: "Allow",
                    Action: "sns:Publish",
                    Resource: messaging.ingressTopic.arn,
                },
            ],
        },
        { parent },
    );

    // A run that reaches its time budget saves its checkpoint and invokes itself again (asynchronously,
    // same input) to continue. Granted on the function's own ARN, after the function exists.
    new aws.iam.RolePolicy(
        "campaign-runner-continue",
        {
            role: runner.role.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "ContinueRun",
                        Effect: "Allow",
                        Action: "lambda:InvokeFunction",
                        Resource: runner.function.arn,
                    },
                ],
            }),
        },
        { parent },
    );

    // Scheduler invokes the runner asynchronously: a run that fails is retried by Lambda (resuming from
    // its checkpoint); after the retries the event goes to the failures queue.
    new aws.lambda.FunctionEventInvokeConfig(
        "campaign-runner-async",
        {
            functionName: runner.function.name,
            maximumRetryAttempts: 2,
            maximumEventAgeInSeconds: 6 * 3600,
            destinationConfig: { onFailure: { destination: failures.arn } },
        },
        { parent },
    );
    return runner;
}
