import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CHANNELS, type Channel, METRIC_NAMESPACE, METRICS } from "../handlers/lib/telemetry-names";
import type { PlatformConfig } from "./config";

export interface MonitoredFunction {
    /** Short, unique name used in alarm names (letters, digits, - and _). */
    name: string;
    functionName: pulumi.Input<string>;
    /** The channel this function sends for; its metrics then go in that channel's dashboard row. */
    channel?: Channel;
}

export interface MonitoredQueue {
    /** Short, unique name used in alarm names (letters, digits, - and _). */
    name: string;
    queueName: pulumi.Input<string>;
    /** For a DLQ: the channel whose failures it holds; it then goes in that channel's dashboard row. */
    channel?: Channel;
}

/** The HTTPS API (infra/api.ts), when the stack has one: its stage's metrics and its route functions. */
export interface MonitoredApi {
    apiId: pulumi.Input<string>;
    stage: string;
    /** The route functions: errors and throttles alarms, and the API's dashboard row. */
    functions: MonitoredFunction[];
    /** Alarm when more than this share of requests answer 4xx (3 × 5 minutes, at least API_MIN_REQUESTS each). */
    clientErrorPercent: number;
    /** Alarm when the p99 latency stays above this (3 × 5 minutes). */
    latencyP99Ms: number;
}

/** A 5-minute period with fewer requests says nothing about a client error rate (one 404 of two is 50 %). */
export const API_MIN_REQUESTS = 20;
/** 4xx per 100 requests in periods with enough traffic, 0 otherwise (no traffic is no client failing). */
export const API_CLIENT_ERROR_RATE_EXPRESSION = `IF(requests >= ${API_MIN_REQUESTS}, 100 * FILL(clientErrors, 0) / requests, 0)`;

/** What the alarms watch: every processor, the channel queues and every DLQ, and the API if there is one. */
export interface MonitoredResources {
    /** Metric dimension "service" the processors emit, = notify-<stack>. */
    serviceName: string;
    thresholds: PlatformConfig["alarms"];
    /** Every processor. */
    functions: MonitoredFunction[];
    /** The channel work queues (push, email, sms, inapp). */
    channelQueues: Record<Channel, MonitoredQueue>;
    /** Every DLQ (channel DLQs, feedback DLQ, campaign DLQ, stream failures). */
    deadLetterQueues: MonitoredQueue[];
    /** Absent: the stack has no API, and no API alarm or dashboard row exists. */
    api?: MonitoredApi;
}

export interface AlarmsArgs extends MonitoredResources {
    /** Prefix of every alarm name, `notify-<stack>`: the alarm topic's policy admits alarms by it. */
    namePrefix: string;
    /** Where every alarm sends its ALARM and OK transitions. */
    alarmTopicArn: pulumi.Input<string>;
    /** The topic policy that lets CloudWatch publish: alarms are created after it. */
    alarmTopicPolicy: pulumi.Resource;
    /** The account's SMS spend: alarm at `alarmPercent` of the monthly limit. */
    smsSpend: { monthlyLimitUsd: number; alarmPercent: number };
}

/** Delivery counters are summed over this period; the success-rate alarm needs this many bad periods. */
export const SUCCESS_RATE_PERIOD_SECONDS = 300;
export const SUCCESS_RATE_EVALUATION_PERIODS = 3;
/**
 * Delivered + Failed per period, from SUM statistics (never an average of a count): the outcomes that say
 * whether users got their notification. SUPPRESSED (opt-out, rate limit) and DEFERRED (quiet hours) are
 * decisions, not failures, and a PENDING retry has no outcome yet: none of them is in the denominator.
 * A period with one of the two counters missing (the processor emitted only the other) counts it as 0.
 */
export const SUCCESS_RATE_OUTCOMES_EXPRESSION = "FILL(delivered, 0) + FILL(failed, 0)";
/**
 * Delivered / (Delivered + Failed) as a percentage. A period without a delivery outcome is 100%: no
 * traffic, or only suppressed / deferred traffic (a campaign in quiet hours), is not an outage.
 */
export const SUCCESS_RATE_EXPRESSION = "IF(outcomes > 0, 100 * FILL(delivered, 0) / outcomes, 100)";
/** CloudWatch's limits for a composite alarm rule. */
const MAX_ALARM_RULE_LENGTH = 10240;

export interface SuccessRateQuery {
    id: string;
    metricName?: string;
    expression?: string;
    label?: string;
    /** The one query whose value the alarm compares and the graph shows. */
    returnData: boolean;
}
/** The queries of the success-rate alarm (and of its dashboard graph), in evaluation order. */
export function successRateQueries(service: string, channel: Channel): SuccessRateQuery[] {
    return [
        { id: "delivered", metricName: METRICS.delivered, returnData: false },
        { id: "failed", metricName: METRICS.failed, returnData: false },
        {
            id: "outcomes",
            expression: SUCCESS_RATE_OUTCOMES_EXPRESSION,
            label: "delivered + failed",
            returnData: false,
        },
        {
            id: "successRate",
            expression: SUCCESS_RATE_EXPRESSION,
            label: `${service} ${channel} success rate (%)`,
            returnData: true,
        },
    ];
}

/**
 * Every metric alarm of the platform and one composite "platform unhealthy" alarm over all of them: dead
 * letters, function errors and throttles, queue backlog age, per-channel delivery success rate (metric
 * math), push platform failures, SES reputation and the account's SMS spend.
 */
export class Alarms extends pulumi.ComponentResource {
    /** Every metric alarm, in creation order; the composite alarm is an OR of all of them. */
    public readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
    public readonly compositeAlarm: aws.cloudwatch.CompositeAlarm;

    constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:monitoring:Alarms", name, {}, opts);
        // These alarms were children of Monitoring before it was split: the alias keeps their URNs, so
        // an update of an existing stack re-parents them instead of replacing them.
        const childOpts = { parent: this, aliases: opts?.parent ? [{ parent: opts.parent }] : [] };
        const actions = [args.alarmTopicArn];
        const alarmNames: string[] = [];
        const alarm = (resourceName: string, alarmArgs: aws.cloudwatch.MetricAlarmArgs & { name: string }) => {
            this.alarms.push(
                new aws.cloudwatch.MetricAlarm(
                    `${name}-${resourceName}`,
                    { ...alarmArgs, alarmActions: actions, okActions: actions },
                    { ...childOpts, dependsOn: [args.alarmTopicPolicy] },
                ),
            );
            alarmNames.push(alarmArgs.name);
        };
        for (const [resourceName, alarmArgs] of alarmDefinitions(args)) alarm(resourceName, alarmArgs);

        this.compositeAlarm = new aws.cloudwatch.CompositeAlarm(
            `${name}-platform-unhealthy`,
            {
                alarmName: `${args.namePrefix}-platform-unhealthy`,
                alarmDescription: "At least one platform alarm is in ALARM: see the dashboard.",
                alarmRule: compositeRule(alarmNames),
                alarmActions: actions,
                okActions: actions,
            },
            // The rule names its alarms by name: they must exist first.
            { ...childOpts, dependsOn: [...this.alarms, args.alarmTopicPolicy] },
        );
        this.registerOutputs({ compositeAlarmName: this.compositeAlarm.alarmName });
    }
}

type AlarmDefinition = [resourceName: string, args: aws.cloudwatch.MetricAlarmArgs & { name: string }];

/** Every metric alarm as (resource name, arguments), grouped by what it watches. */
function alarmDefinitions(args: AlarmsArgs): AlarmDefinition[] {
    return [
        ...deadLetterAlarms(args),
        ...functionAlarms(args),
        ...apiAlarms(args),
        ...queueAgeAlarms(args),
        pushPlatformAlarm(args),
        ...successRateAlarms(args),
        ...reputationAlarms(args),
        // A limit of 0 lets SNS send no SMS at all: there is no spend to watch (and ">= 0" would always fire).
        ...(args.smsSpend.monthlyLimitUsd > 0 ? [smsSpendAlarm(args)] : []),
    ];
}

/** Any message in a DLQ is a message we failed to handle. */
function deadLetterAlarms({ namePrefix, deadLetterQueues }: AlarmsArgs): AlarmDefinition[] {
    return deadLetterQueues.map((dlq) => [
        `dlq-${dlq.name}`,
        {
            name: `${namePrefix}-dlq-${dlq.name}-messages-visible`,
            alarmDescription: `Messages are waiting in the ${dlq.name} dead-letter queue: inspect and redrive them.`,
            namespace: "AWS/SQS",
            metricName: "ApproximateNumberOfMessagesVisible",
            dimensions: { QueueName: dlq.queueName },
            statistic: "Maximum",
            period: 60,
            evaluationPeriods: 1,
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
            // SQS stops publishing for an *empty* idle queue; a queue holding messages counts as
            // active and keeps publishing, so missing data means empty.
            treatMissingData: "notBreaching",
        },
    ]);
}

function functionAlarms({ namePrefix, functions, api, thresholds: t }: AlarmsArgs): AlarmDefinition[] {
    return [...functions, ...(api?.functions ?? [])].flatMap((fn) =>
        (["Errors", "Throttles"] as const).map((metric): AlarmDefinition => {
            const key = `fn-${fn.name}-${metric.toLowerCase()}`;
            return [
                key,
                {
                    name: `${namePrefix}-${key}`,
                    alarmDescription: `${fn.name}: ${metric} >= ${t.errorThreshold} in 5 minutes.`,
                    namespace: "AWS/Lambda",
                    metricName: metric,
                    dimensions: { FunctionName: fn.functionName },
                    statistic: "Sum",
                    period: 300,
                    evaluationPeriods: 1,
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    threshold: t.errorThreshold,
                    // Lambda publishes these only for periods with invocations: none means no errors.
                    treatMissingData: "notBreaching",
                },
            ];
        }),
    );
}

/**
 * The API as its callers see it (AWS/ApiGateway, dimensions ApiId + Stage): any 5xx at the error
 * threshold (our fault: a function failed or timed out), a high share of 4xx (a broken client release,
 * expired tokens, someone probing), and a p99 latency above the configured bound.
 */
function apiAlarms({ namePrefix, api, thresholds: t }: AlarmsArgs): AlarmDefinition[] {
    if (!api) return [];
    const dimensions = { ApiId: api.apiId, Stage: api.stage };
    const metric = (metricName: string) => ({
        namespace: "AWS/ApiGateway",
        metricName,
        dimensions,
        stat: "Sum",
        period: 300,
    });
    return [
        [
            "api-5xx",
            {
                name: `${namePrefix}-api-5xx`,
                alarmDescription: `API answered 5xx at least ${t.errorThreshold} times in 5 minutes: see the route functions' errors.`,
                namespace: "AWS/ApiGateway",
                metricName: "5xx",
                dimensions,
                statistic: "Sum",
                period: 300,
                evaluationPeriods: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: t.errorThreshold,
                treatMissingData: "notBreaching",
            },
        ],
        [
            "api-4xx-rate",
            {
                name: `${namePrefix}-api-4xx-rate`,
                alarmDescription: `More than ${api.clientErrorPercent}% of API requests answered 4xx for 3 x 5 minutes (periods with at least ${API_MIN_REQUESTS} requests).`,
                metricQueries: [
                    { id: "requests", metric: metric("Count"), returnData: false },
                    { id: "clientErrors", metric: metric("4xx"), returnData: false },
                    {
                        id: "clientErrorRate",
                        expression: API_CLIENT_ERROR_RATE_EXPRESSION,
                        label: "4xx %",
                        returnData: true,
                    },
                ],
                evaluationPeriods: 3,
                datapointsToAlarm: 3,
                comparisonOperator: "GreaterThanThreshold",
                threshold: api.clientErrorPercent,
                treatMissingData: "notBreaching",
            },
        ],
        [
            "api-latency-p99",
            {
                name: `${namePrefix}-api-latency-p99`,
                alarmDescription: `API p99 latency above ${api.latencyP99Ms} ms for 3 x 5 minutes.`,
                namespace: "AWS/ApiGateway",
                metricName: "Latency",
                dimensions,
                extendedStatistic: "p99",
                period: 300,
                evaluationPeriods: 3,
                comparisonOperator: "GreaterThanThreshold",
                threshold: api.latencyP99Ms,
                treatMissingData: "notBreaching",
            },
        ],
    ];
}

/** The oldest message's age is the delivery delay users see. */
function queueAgeAlarms({ namePrefix, channelQueues, thresholds: t }: AlarmsArgs): AlarmDefinition[] {
    return CHANNELS.map((channel) => [
        `queue-${channel}-age`,
        {
            name: `${namePrefix}-queue-${channel}-oldest-message-age`,
            alarmDescription: `${channel} work queue: oldest message older than ${t.queueAgeSeconds}s for 3 minutes (consumer stalled or too slow).`,
            namespace: "AWS/SQS",
            metricName: "ApproximateAgeOfOldestMessage",
            dimensions: { QueueName: channelQueues[channel].queueName },
            statistic: "Maximum",
            period: 60,
            evaluationPeriods: 3,
            comparisonOperator: "GreaterThanThreshold",
            threshold: t.queueAgeSeconds,
            // An idle, empty queue stops publishing: nothing is waiting.
            treatMissingData: "notBreaching",
        },
    ]);
}

/**
 * A failing push platform application (expired APNs key, revoked FCM account) fails every device alike
 * and disables none, so it is alarmed on directly.
 */
function pushPlatformAlarm({ namePrefix, serviceName }: AlarmsArgs): AlarmDefinition {
    return [
        "push-platform-failures",
        {
            name: `${namePrefix}-push-platform-failures`,
            alarmDescription:
                "A push platform application is failing deliveries (credentials or application disabled): renew the APNs key / FCM service account.",
            namespace: METRIC_NAMESPACE,
            metricName: METRICS.platformFailure,
            dimensions: { service: serviceName, channel: "push" },
            statistic: "Sum",
            period: 300,
            evaluationPeriods: 1,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            // The feedback processor emits the metric only when it sees such an event.
            treatMissingData: "notBreaching",
        },
    ];
}

/** Per channel, "we failed users": delivered / (delivered + failed) below the configured percentage. */
function successRateAlarms({ namePrefix, serviceName, thresholds: t }: AlarmsArgs): AlarmDefinition[] {
    return CHANNELS.map((channel) => [
        `${channel}-success-rate`,
        {
            name: `${namePrefix}-${channel}-delivery-success-rate`,
            alarmDescription: `${channel}: delivered / (delivered + failed) below ${t.minSuccessRatePercent}% for ${SUCCESS_RATE_EVALUATION_PERIODS} x 5 minutes (suppressed and deferred are not failures).`,
            metricQueries: successRateQueries(serviceName, channel).map((q) =>
                q.expression
                    ? { id: q.id, expression: q.expression, label: q.label, returnData: q.returnData }
                    : {
                          id: q.id,
                          returnData: q.returnData,
                          metric: {
                              namespace: METRIC_NAMESPACE,
                              metricName: q.metricName!,
                              dimensions: { service: serviceName, channel },
                              stat: "Sum",
                              period: SUCCESS_RATE_PERIOD_SECONDS,
                          },
                      },
            ),
            evaluationPeriods: SUCCESS_RATE_EVALUATION_PERIODS,
            datapointsToAlarm: SUCCESS_RATE_EVALUATION_PERIODS,
            comparisonOperator: "LessThanThreshold",
            threshold: t.minSuccessRatePercent,
            // The processors emit nothing without traffic, so the expression has no datapoint:
            // no traffic is not an outage.
            treatMissingData: "notBreaching",
        },
    ]);
}

/** SES account reputation: bounces and complaints are e-mail's own alarms (values are fractions 0..1). */
function reputationAlarms({ namePrefix, thresholds: t }: AlarmsArgs): AlarmDefinition[] {
    const reputation = [
        { key: "bounce-rate", metricName: "Reputation.BounceRate", percent: t.bounceRatePercent },
        { key: "complaint-rate", metricName: "Reputation.ComplaintRate", percent: t.complaintRatePercent },
    ];
    return reputation.map((r) => [
        `ses-${r.key}`,
        {
            name: `${namePrefix}-ses-${r.key}`,
            alarmDescription: `SES ${r.metricName} above ${r.percent}% (AWS reviews accounts at 5% bounces / 0.1% complaints).`,
            namespace: "AWS/SES",
            metricName: r.metricName,
            statistic: "Maximum",
            period: 900,
            evaluationPeriods: 1,
            comparisonOperator: "GreaterThanThreshold",
            threshold: r.percent / 100,
            // SES publishes reputation only once the account has bounces/complaints to rate.
            treatMissingData: "notBreaching",
        },
    ]);
}

/**
 * SNS's month-to-date SMS spend (account and region wide, like the spend limit itself) past a share of
 * the monthly limit: at the limit SNS stops sending SMS until the month ends.
 */
function smsSpendAlarm({ namePrefix, smsSpend }: AlarmsArgs): AlarmDefinition {
    const threshold = (smsSpend.monthlyLimitUsd * smsSpend.alarmPercent) / 100;
    return [
        "sms-spend",
        {
            name: `${namePrefix}-sms-month-to-date-spend`,
            alarmDescription: `SMS spend this month reached ${smsSpend.alarmPercent}% of the ${smsSpend.monthlyLimitUsd} USD limit (USD ${threshold}): SNS stops sending SMS at the limit. Raise it (AWS support case) or find the sender.`,
            namespace: "AWS/SNS",
            metricName: "SMSMonthToDateSpentUSD",
            statistic: "Maximum",
            period: 300,
            evaluationPeriods: 1,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold,
            // A period without a datapoint (SNS publishes the metric while SMS are sent) is no new spend.
            treatMissingData: "notBreaching",
        },
    ];
}

/** `ALARM("a") OR ALARM("b") ...`, within CloudWatch's rule length. */
export function compositeRule(alarmNames: string[]): string {
    const rule = alarmNames.map((n) => `ALARM("${n}")`).join(" OR ");
    if (rule.length > MAX_ALARM_RULE_LENGTH) {
        throw new Error(
            `Monitoring: the composite alarm rule is ${rule.length} characters, over CloudWatch's ${MAX_ALARM_RULE_LENGTH}: use shorter names or fewer alarms`,
        );
    }
    return rule;
}
