import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CHANNELS, serviceName } from "./handlers/lib/telemetry-names";
import { Analytics } from "./infra/analytics";
import { API_ROUTE_TIMEOUT_SECONDS, Api } from "./infra/api";
import { Campaigns } from "./infra/campaigns";
import { loadConfig } from "./infra/config";
import { CursorMacKey } from "./infra/cursorMacKey";
import { Deferral } from "./infra/deferral";
import { Email } from "./infra/email";
import { Encryption } from "./infra/encryption";
import { Messaging } from "./infra/messaging";
import { Monitoring, budgetName } from "./infra/monitoring";
import { Processors, SENDER_TIMEOUT_SECONDS } from "./infra/processors";
import { Push } from "./infra/push";
import { meRoutes } from "./infra/routes/me";
import { producerRoutes } from "./infra/routes/producer";
import { Sms } from "./infra/sms";
import { Storage } from "./infra/storage";

const config = loadConfig();
const stack = config.stack;

// One explicit provider for the whole program: its defaultTags put the four required tags on every
// taggable resource, and no resource can fall back to an untagged default provider.
const region = new pulumi.Config("aws").require("region");
const provider = new aws.Provider("aws", {
    region: region as aws.Region,
    defaultTags: { tags: config.tags },
});
const opts = { providers: [provider] };

const encryption = new Encryption(
    "encryption",
    { stack, aliasName: `notify-${stack}`, budgetName: budgetName(stack) },
    opts,
);
const kmsKeyArn = encryption.keyArn;

const storage = new Storage(
    "storage",
    {
        kmsKeyArn,
        deletionProtection: config.tableDeletionProtection,
        pointInTimeRecovery: config.tablePointInTimeRecovery,
    },
    opts,
);

const sesConfigurationSetName = `notify-${stack}`;
const messaging = new Messaging(
    "messaging",
    { kmsKeyArn, consumerTimeoutSeconds: SENDER_TIMEOUT_SECONDS, sesConfigurationSetName },
    opts,
);

const push = new Push(
    "push",
    {
        stack,
        kmsKeyArn,
        logRetentionDays: config.logRetentionDays,
        feedbackTopicArn: messaging.feedbackTopic.arn,
        push: config.push,
    },
    opts,
);

// SES checks that it may publish to the topic when the event destination is created: after the policy.
const email = new Email(
    "email",
    {
        senderDomain: config.email.senderDomain,
        configurationSetName: sesConfigurationSetName,
        feedbackTopicArn: messaging.feedbackTopic.arn,
    },
    { ...opts, dependsOn: [messaging] },
);

const sms = new Sms(
    "sms",
    {
        kmsKeyArn,
        logRetentionDays: config.logRetentionDays,
        monthlySpendLimitUsd: config.sms.monthlySpendLimitUsd,
        senderId: config.sms.senderId,
        deliveryStatusSamplePercent: config.push.deliveryStatusSamplePercent,
    },
    opts,
);

const analytics = new Analytics("analytics", { stack, kmsKeyArn, logRetentionDays: config.logRetentionDays }, opts);

const deferral = new Deferral(
    "deferral",
    { kmsKeyArn, targetQueueArns: Object.values(messaging.channelQueues).map((q) => q.queue.arn) },
    opts,
);

const processors = new Processors(
    "processors",
    {
        config,
        kmsKeyArn,
        tables: storage.tables,
        messaging,
        apnsApplication: push.apnsApplication,
        fcmApplication: push.fcmApplication,
        sesIdentityArn: email.identity.arn,
        sesConfigurationSetName: email.configurationSet.configurationSetName,
        analyticsStreamArn: analytics.deliveryStream.arn,
        analyticsStreamName: analytics.deliveryStream.name,
        deferralScheduleGroupName: deferral.scheduleGroup.name,
        deferralRoleArn: deferral.role.arn,
    },
    opts,
);

new Campaigns(
    "campaigns",
    {
        kmsKeyArn,
        runnerArn: processors.campaignRunner.function.arn,
        deadLetterQueueArn: processors.campaignFailures.arn,
        scheduleExpression: config.campaigns.schedule,
        timezone: config.campaigns.timezone,
        campaign: {
            campaignId: config.campaigns.campaignId,
            template: config.campaigns.template,
            segment: config.campaigns.segment,
        },
    },
    opts,
);

// The HTTPS API: the producers' routes (SigV4) and the app users' routes (JWT), each its own function.
const cursorMacKey = new CursorMacKey("inbox-cursor-mac", { stack, aliasName: `notify-${stack}-inbox-cursor` }, opts);
const api = new Api(
    "api",
    {
        stack,
        kmsKeyArn,
        routes: [
            ...producerRoutes({
                stack,
                ingressTopicArn: messaging.ingressTopic.arn,
                kmsKeyArn,
                region,
                idempotencyTable: { name: storage.tables.idempotency.name, arn: storage.tables.idempotency.arn },
                deliveryLogTable: { name: storage.tables.deliveryLog.name, arn: storage.tables.deliveryLog.arn },
            }),
            ...meRoutes({ stack, tables: storage.tables, cursorMacKeyArn: cursorMacKey.keyArn }),
        ],
        processor: {
            logRetentionDays: config.logRetentionDays,
            memorySizeMb: config.lambdaMemoryMb,
            timeoutSeconds: API_ROUTE_TIMEOUT_SECONDS,
        },
        throttle: config.api.throttle,
        customDomain: config.api.customDomain,
        jwt: config.api.jwt,
        userPoolDeletionProtection: config.tableDeletionProtection,
    },
    opts,
);

const monitoring = new Monitoring(
    "monitoring",
    {
        stack,
        kmsKeyArn,
        alarmEmail: config.alarms.email,
        serviceName: serviceName(stack),
        thresholds: config.alarms,
        functions: processors
            .all()
            .map(({ name, channel, processor }) => ({ name, channel, functionName: processor.function.name })),
        channelQueues: {
            push: { name: "push", queueName: messaging.channelQueues.push.queue.name },
            email: { name: "email", queueName: messaging.channelQueues.email.queue.name },
            sms: { name: "sms", queueName: messaging.channelQueues.sms.queue.name },
            inapp: { name: "inapp", queueName: messaging.channelQueues.inapp.queue.name },
        },
        deadLetterQueues: [
            ...CHANNELS.map((channel) => ({
                name: `${channel}-dlq`,
                channel,
                queueName: messaging.channelQueues[channel].deadLetterQueue.name,
            })),
            { name: "feedback-dlq", queueName: messaging.feedbackQueue.deadLetterQueue.name },
            { name: "campaign-failures", queueName: processors.campaignFailures.name },
            { name: "device-stream-failures", queueName: processors.deviceStreamFailures.name },
        ],
        api: {
            apiId: api.api.id,
            stage: api.stageName,
            functions: api.processors.map(({ spec, processor }) => ({
                name: spec.name,
                functionName: processor.function.name,
            })),
            clientErrorPercent: config.api.alarm4xxPercent,
            latencyP99Ms: config.api.alarmLatencyP99Ms,
        },
        smsSpend: { monthlyLimitUsd: config.sms.monthlySpendLimitUsd, alarmPercent: config.cost.smsSpendAlarmPercent },
        budget: {
            monthlyLimitUsd: config.cost.budgetMonthlyUsd,
            forecastPercent: config.cost.budgetForecastPercent,
            actualPercent: config.cost.budgetActualPercent,
            // The tags that tell this stack's costs from every other stack's in the account.
            costAllocationTags: { Environment: config.tags.Environment, Application: config.tags.Application },
        },
    },
    opts,
);

// What a producer and an operator need.
export const ingressTopicArn = messaging.ingressTopic.arn;
export const producerPolicyArn = messaging.producerPolicy.arn;
export const queueUrls = {
    push: messaging.channelQueues.push.queue.url,
    email: messaging.channelQueues.email.queue.url,
    sms: messaging.channelQueues.sms.queue.url,
    inapp: messaging.channelQueues.inapp.queue.url,
};
export const deadLetterQueueUrls = {
    push: messaging.channelQueues.push.deadLetterQueue.url,
    email: messaging.channelQueues.email.deadLetterQueue.url,
    sms: messaging.channelQueues.sms.deadLetterQueue.url,
    inapp: messaging.channelQueues.inapp.deadLetterQueue.url,
    feedback: messaging.feedbackQueue.deadLetterQueue.url,
    campaigns: processors.campaignFailures.url,
    deviceStream: processors.deviceStreamFailures.url,
};
export const tableNames = Object.fromEntries(Object.entries(storage.tables).map(([key, table]) => [key, table.name]));
export const kmsKeyAlias = encryption.alias.name;
export const pushPlatforms = {
    apns: push.apnsApplication ? push.apnsApplication.arn : "disabled: no APNs credentials in this stack",
    fcm: push.fcmApplication ? push.fcmApplication.arn : "disabled: no FCM credentials in this stack",
};
export const sesConfigurationSet = email.configurationSet.configurationSetName;
export const sesDkimRecords = email.dkimRecords;
export const sesMailFromRecords = email.mailFromRecords;
export const sesDmarcRecord = email.dmarcRecord;
export const smsDeliveryStatusRole = sms.preferences.deliveryStatusIamRoleArn;
export const analyticsBucket = analytics.bucket.bucket;
export const alarmTopicArn = monitoring.alarmTopic.arn;
export const dashboardUrl = monitoring.dashboardUrl;
// The HTTPS API: its base URL (routes under /v1), the producers' invoke policy, the JWT issuer it trusts.
export const apiEndpoint = api.endpoint;
export const producerApiPolicyArn = api.producerPolicy.arn;
export const apiJwtIssuer = api.jwtIssuer;
export const apiJwtAudience = api.jwtAudience;
export const apiUserPoolId = api.userPool ? api.userPool.pool.id : "none: apiJwtIssuer names an external issuer";
export const apiDomainTarget = api.domainName
    ? api.domainName.domainNameConfiguration.targetDomainName
    : "none: no apiDomainName in this stack";
