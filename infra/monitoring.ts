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

export interface MonitoringArgs {
    /** The stack key: the alarm topic is encrypted with it (its policy lets CloudWatch use it). */
    kmsKeyArn: pulumi.Input<string>;
    alarmEmail: string;
    /** Metric dimension "service" the processors emit, = notify-<stack>. */
    serviceName: string;
    thresholds: PlatformConfig["alarms"];
    /** Every processor. */
    functions: MonitoredFunction[];
    /** The push/email/sms work queues. */
    channelQueues: Record<Channel, MonitoredQueue>;
    /** Every DLQ (channel DLQs, feedback DLQ, campaign DLQ, stream failures). */
    deadLetterQueues: MonitoredQueue[];
}

/** Delivery counters are summed over this period; the success-rate alarm needs this many bad periods. */
export const SUCCESS_RATE_PERIOD_SECONDS = 300;
export const SUCCESS_RATE_EVALUATION_PERIODS = 3;
/**
 * Delivered / Attempted as a percentage, from SUM statistics (never an average of a count). A period
 * without attempts is 100% (no traffic is not an outage); a period with attempts but no Delivered
 * datapoint (everything failed, the processor emitted nothing) counts as 0 delivered, not as missing.
 */
export const SUCCESS_RATE_EXPRESSION = "IF(attempted > 0, 100 * FILL(delivered, 0) / attempted, 100)";
/** CloudWatch's limits for a composite alarm rule. */
const MAX_ALARM_RULE_LENGTH = 10240;
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Alarms, an alarm topic and a dashboard for the platform: dead letters, function errors and throttles,
 * queue backlog age, per-channel delivery success rate (metric math), SES reputation, and one composite
 * "platform unhealthy" alarm over all of them.
 */
export class Monitoring extends pulumi.ComponentResource {
    public readonly alarmTopic: aws.sns.Topic;
    public readonly alarmTopicPolicy: aws.sns.TopicPolicy;
    public readonly alarmSubscription: aws.sns.TopicSubscription;
    /** Every metric alarm, in creation order; the composite alarm is an OR of all of them. */
    public readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
    public readonly compositeAlarm: aws.cloudwatch.CompositeAlarm;
    public readonly dashboard: aws.cloudwatch.Dashboard;
    public readonly dashboardUrl: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:monitoring:Monitoring", name, {}, opts);
        validate(args);

        const prefix = `notify-${pulumi.getStack()}`;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const t = args.thresholds;

        // --- Alarm topic -------------------------------------------------------------------------------
        this.alarmTopic = new aws.sns.Topic(
            `${name}-alarm-topic`,
            { name: `${prefix}-alarms`, displayName: `${prefix} alarms`, kmsMasterKeyId: args.kmsKeyArn },
            { parent: this },
        );
        this.alarmTopicPolicy = new aws.sns.TopicPolicy(
            `${name}-alarm-topic-policy`,
            {
                arn: this.alarmTopic.arn,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "CloudWatchAlarmsOfThisStackPublish",
                            Effect: "Allow",
                            Principal: { Service: "cloudwatch.amazonaws.com" },
                            Action: "sns:Publish",
                            Resource: this.alarmTopic.arn,
                            Condition: {
                                StringEquals: { "aws:SourceAccount": accountId },
                                ArnLike: {
                                    "aws:SourceArn": pulumi.interpolate`arn:aws:cloudwatch:${region}:${accountId}:alarm:${prefix}-*`,
                                },
                            },
                        },
                        {
                            Sid: "DenyInsecureTransport",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "sns:Publish",
                            Resource: this.alarmTopic.arn,
                            Condition: { Bool: { "aws:SecureTransport": "false" } },
                        },
                    ],
                }),
            },
            { parent: this },
        );
        // Stays "pending confirmation" until the recipient clicks the link SNS mails them.
        this.alarmSubscription = new aws.sns.TopicSubscription(
            `${name}-alarm-email`,
            { topic: this.alarmTopic.arn, protocol: "email", endpoint: args.alarmEmail },
            { parent: this },
        );

        const actions = [this.alarmTopic.arn];
        const alarm = (resourceName: string, alarmArgs: aws.cloudwatch.MetricAlarmArgs & { name: string }) => {
            const created = new aws.cloudwatch.MetricAlarm(
                `${name}-${resourceName}`,
                { ...alarmArgs, alarmActions: actions, okActions: actions },
                { parent: this, dependsOn: [this.alarmTopicPolicy] },
            );
            this.alarms.push(created);
            return alarmArgs.name;
        };
        const alarmNames: string[] = [];

        // --- Dead letters: any message in a DLQ is a message we failed to handle ----------------------
        for (const dlq of args.deadLetterQueues) {
            alarmNames.push(
                alarm(`dlq-${dlq.name}`, {
                    name: `${prefix}-dlq-${dlq.name}-messages-visible`,
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
                }),
            );
        }

        // --- Functions: errors and throttles -----------------------------------------------------------
        for (const fn of args.functions) {
            for (const metric of ["Errors", "Throttles"] as const) {
                alarmNames.push(
                    alarm(`fn-${fn.name}-${metric.toLowerCase()}`, {
                        name: `${prefix}-fn-${fn.name}-${metric.toLowerCase()}`,
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
                    }),
                );
            }
        }

        // --- Channel queues: the oldest message's age is the delivery delay users see ------------------
        for (const channel of CHANNELS) {
            const queue = args.channelQueues[channel];
            alarmNames.push(
                alarm(`queue-${channel}-age`, {
                    name: `${prefix}-queue-${channel}-oldest-message-age`,
                    alarmDescription: `${channel} work queue: oldest message older than ${t.queueAgeSeconds}s for 3 minutes (consumer stalled or too slow).`,
                    namespace: "AWS/SQS",
                    metricName: "ApproximateAgeOfOldestMessage",
                    dimensions: { QueueName: queue.queueName },
                    statistic: "Maximum",
                    period: 60,
                    evaluationPeriods: 3,
                    comparisonOperator: "GreaterThanThreshold",
                    threshold: t.queueAgeSeconds,
                    // An idle, empty queue stops publishing: nothing is waiting.
                    treatMissingData: "notBreaching",
                }),
            );
        }

        // --- Push platform applications: a failing application (expired APNs key, revoked FCM account)
        // fails every device alike and disables none, so it is alarmed on directly --------------------
        alarmNames.push(
            alarm("push-platform-failures", {
                name: `${prefix}-push-platform-failures`,
                alarmDescription:
                    "A push platform application is failing deliveries (credentials or application disabled): renew the APNs key / FCM service account.",
                namespace: METRIC_NAMESPACE,
                metricName: METRICS.platformFailure,
                dimensions: { service: args.serviceName, channel: "push" },
                statistic: "Sum",
                period: 300,
                evaluationPeriods: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: 1,
                // The feedback processor emits the metric only when it sees such an event.
                treatMissingData: "notBreaching",
            }),
        );

        // --- Delivery success rate per channel, with metric math ---------------------------------------
        for (const channel of CHANNELS) {
            alarmNames.push(
                alarm(`${channel}-success-rate`, {
                    name: `${prefix}-${channel}-delivery-success-rate`,
                    alarmDescription: `${channel}: delivered/attempted below ${t.minSuccessRatePercent}% for ${SUCCESS_RATE_EVALUATION_PERIODS} x 5 minutes.`,
                    metricQueries: successRateQueries(args.serviceName, channel).map((q) =>
                        q.expression
                            ? { id: q.id, expression: q.expression, label: q.label, returnData: true }
                            : {
                                  id: q.id,
                                  returnData: false,
                                  metric: {
                                      namespace: METRIC_NAMESPACE,
                                      metricName: q.metricName!,
                                      dimensions: { service: args.serviceName, channel },
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
                }),
            );
        }

        // --- SES account reputation (values are fractions 0..1, the config is in percent) ---------------
        const reputation = [
            { key: "bounce-rate", metricName: "Reputation.BounceRate", percent: t.bounceRatePercent },
            { key: "complaint-rate", metricName: "Reputation.ComplaintRate", percent: t.complaintRatePercent },
        ];
        for (const r of reputation) {
            alarmNames.push(
                alarm(`ses-${r.key}`, {
                    name: `${prefix}-ses-${r.key}`,
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
                }),
            );
        }

        // --- Composite ----------------------------------------------------------------------------------
        const alarmRule = compositeRule(alarmNames);
        this.compositeAlarm = new aws.cloudwatch.CompositeAlarm(
            `${name}-platform-unhealthy`,
            {
                alarmName: `${prefix}-platform-unhealthy`,
                alarmDescription: "At least one platform alarm is in ALARM: see the dashboard.",
                alarmRule,
                alarmActions: actions,
                okActions: actions,
            },
            // The rule names its alarms by name: they must exist first.
            { parent: this, dependsOn: [...this.alarms, this.alarmTopicPolicy] },
        );

        // --- Dashboard ----------------------------------------------------------------------------------
        const dashboardName = prefix;
        this.dashboard = new aws.cloudwatch.Dashboard(
            `${name}-dashboard`,
            {
                dashboardName,
                dashboardBody: pulumi.jsonStringify({
                    widgets: dashboardWidgets({
                        args,
                        region,
                        alarmArns: [this.compositeAlarm.arn, ...this.alarms.map((a) => a.arn)],
                    }),
                }),
            },
            { parent: this },
        );
        this.dashboardUrl = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;

        this.registerOutputs({
            alarmTopicArn: this.alarmTopic.arn,
            compositeAlarmName: this.compositeAlarm.alarmName,
            dashboardName: this.dashboard.dashboardName,
            dashboardUrl: this.dashboardUrl,
        });
    }
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

interface SuccessRateQuery {
    id: string;
    metricName?: string;
    expression?: string;
    label?: string;
}
/** The three queries of the success-rate alarm (and of its dashboard graph). */
function successRateQueries(service: string, channel: Channel): SuccessRateQuery[] {
    return [
        { id: "attempted", metricName: METRICS.attempted },
        { id: "delivered", metricName: METRICS.delivered },
        { id: "successRate", expression: SUCCESS_RATE_EXPRESSION, label: `${service} ${channel} success rate (%)` },
    ];
}

function validate(args: MonitoringArgs): void {
    const fail = (problem: string): never => {
        throw new Error(`Monitoring: ${problem}`);
    };
    if (!EMAIL_PATTERN.test(args.alarmEmail)) fail(`alarmEmail '${args.alarmEmail}' is not an e-mail address`);
    if (!args.serviceName) fail("serviceName is empty");
    const t = args.thresholds;
    if (!(t.minSuccessRatePercent > 0 && t.minSuccessRatePercent <= 100)) {
        fail(`thresholds.minSuccessRatePercent must be in (0, 100], got ${t.minSuccessRatePercent}`);
    }
    for (const key of ["bounceRatePercent", "complaintRatePercent"] as const) {
        if (!(t[key] > 0 && t[key] <= 100)) fail(`thresholds.${key} must be in (0, 100], got ${t[key]}`);
    }
    if (!(t.queueAgeSeconds > 0)) fail(`thresholds.queueAgeSeconds must be positive, got ${t.queueAgeSeconds}`);
    if (!(t.errorThreshold >= 1)) fail(`thresholds.errorThreshold must be at least 1, got ${t.errorThreshold}`);
    for (const channel of CHANNELS) {
        if (!args.channelQueues?.[channel]) fail(`channelQueues has no '${channel}' queue`);
    }
    const unique = (kind: string, names: string[]) => {
        const seen = new Set<string>();
        for (const n of names) {
            if (!NAME_PATTERN.test(n)) fail(`${kind} name '${n}' must be 1-64 letters, digits, '-' or '_'`);
            if (seen.has(n)) fail(`${kind} name '${n}' is used twice: alarm names would collide`);
            seen.add(n);
        }
    };
    unique(
        "function",
        args.functions.map((f) => f.name),
    );
    unique(
        "dead-letter queue",
        args.deadLetterQueues.map((q) => q.name),
    );
    unique(
        "channel queue",
        CHANNELS.map((c) => args.channelQueues[c].name),
    );
}

// --- Dashboard layout -------------------------------------------------------------------------------------

const GRID_WIDTH = 24;
const ROW_HEIGHT = 6;

interface DashboardInputs {
    args: MonitoringArgs;
    region: pulumi.Output<string>;
    alarmArns: pulumi.Output<string>[];
}

/**
 * One header + one row per channel (outcomes, success rate, work queue depth and age, the channel's
 * DLQs, its sender's errors/throttles/duration), then a row for the other processors, their DLQs and SES
 * reputation. The top row shows every alarm's state.
 */
export function dashboardWidgets({ args, region, alarmArns }: DashboardInputs): object[] {
    const widgets: object[] = [];
    let y = 0;
    const header = (markdown: string) => {
        widgets.push({ type: "text", x: 0, y, width: GRID_WIDTH, height: 1, properties: { markdown } });
        y += 1;
    };
    /** Lays widgets left to right, wrapping at the grid width. */
    const row = (cells: { width: number; widget: (pos: object) => object }[]) => {
        let x = 0;
        for (const cell of cells) {
            if (x + cell.width > GRID_WIDTH) {
                x = 0;
                y += ROW_HEIGHT;
            }
            widgets.push(cell.widget({ x, y, width: cell.width, height: ROW_HEIGHT }));
            x += cell.width;
        }
        y += ROW_HEIGHT;
    };
    const graph =
        (title: string, metrics: unknown[], extra: object = {}) =>
        (pos: object) => ({
            type: "metric",
            ...pos,
            properties: {
                title,
                region,
                view: "timeSeries",
                stacked: false,
                period: 300,
                stat: "Sum",
                metrics,
                ...extra,
            },
        });
    const note = (title: string, markdown: string) => (pos: object) => ({
        type: "text",
        ...pos,
        properties: { markdown: `**${title}**\n\n${markdown}` },
    });
    const dlqGraph = (title: string, dlqs: MonitoredQueue[]) =>
        dlqs.length === 0
            ? note(title, "No dead-letter queue is assigned to this row.")
            : graph(
                  title,
                  dlqs.map((q) => [
                      "AWS/SQS",
                      "ApproximateNumberOfMessagesVisible",
                      "QueueName",
                      q.queueName,
                      { label: q.name },
                  ]),
                  { stat: "Maximum", period: 60 },
              );
    const functionGraph = (title: string, fns: MonitoredFunction[]) =>
        fns.length === 0
            ? note(title, "No function is assigned to this row.")
            : graph(
                  title,
                  fns.flatMap((f) => [
                      ["AWS/Lambda", "Errors", "FunctionName", f.functionName, { label: `${f.name} errors` }],
                      ["AWS/Lambda", "Throttles", "FunctionName", f.functionName, { label: `${f.name} throttles` }],
                      [
                          "AWS/Lambda",
                          "Duration",
                          "FunctionName",
                          f.functionName,
                          { label: `${f.name} duration p99 (ms)`, stat: "p99", yAxis: "right" },
                      ],
                  ]),
              );

    widgets.push({
        type: "alarm",
        x: 0,
        y,
        width: GRID_WIDTH,
        height: 4,
        properties: { title: "Alarms", alarms: alarmArns, sortBy: "stateUpdatedTimestamp" },
    });
    y += 4;

    for (const channel of CHANNELS) {
        const dims = ["service", args.serviceName, "channel", channel];
        const queue = args.channelQueues[channel];
        header(`## ${channel}`);
        row([
            {
                width: 6,
                widget: graph(
                    `${channel}: outcomes`,
                    Object.values(METRICS).map((m) => [METRIC_NAMESPACE, m, ...dims]),
                ),
            },
            {
                width: 4,
                widget: graph(
                    `${channel}: success rate %`,
                    successRateQueries(args.serviceName, channel).map((q) =>
                        q.expression
                            ? [{ id: q.id, expression: q.expression, label: q.label }]
                            : [METRIC_NAMESPACE, q.metricName, ...dims, { id: q.id, visible: false }],
                    ),
                    {
                        yAxis: { left: { min: 0, max: 100 } },
                        annotations: {
                            horizontal: [{ label: "alarm below", value: args.thresholds.minSuccessRatePercent }],
                        },
                    },
                ),
            },
            {
                width: 5,
                widget: graph(
                    `${channel}: work queue`,
                    [
                        [
                            "AWS/SQS",
                            "ApproximateNumberOfMessagesVisible",
                            "QueueName",
                            queue.queueName,
                            { label: "depth" },
                        ],
                        [
                            "AWS/SQS",
                            "ApproximateAgeOfOldestMessage",
                            "QueueName",
                            queue.queueName,
                            { label: "oldest message age (s)", yAxis: "right" },
                        ],
                    ],
                    { stat: "Maximum", period: 60 },
                ),
            },
            {
                width: 4,
                widget: dlqGraph(
                    `${channel}: dead letters`,
                    args.deadLetterQueues.filter((q) => q.channel === channel),
                ),
            },
            {
                width: 5,
                widget: functionGraph(
                    `${channel}: sender`,
                    args.functions.filter((f) => f.channel === channel),
                ),
            },
        ]);
    }

    header("## feedback, devices and campaigns");
    const others = args.functions.filter((f) => f.channel === undefined);
    row([
        ...others.map((f) => ({ width: 6, widget: functionGraph(f.name, [f]) })),
        {
            width: 6,
            widget: dlqGraph(
                "other dead letters",
                args.deadLetterQueues.filter((q) => q.channel === undefined),
            ),
        },
        {
            width: 6,
            widget: graph(
                "SES reputation (fraction)",
                [
                    ["AWS/SES", "Reputation.BounceRate", { label: "bounce rate" }],
                    ["AWS/SES", "Reputation.ComplaintRate", { label: "complaint rate" }],
                ],
                {
                    stat: "Maximum",
                    period: 900,
                    annotations: {
                        horizontal: [
                            { label: "bounce alarm", value: args.thresholds.bounceRatePercent / 100 },
                            { label: "complaint alarm", value: args.thresholds.complaintRatePercent / 100 },
                        ],
                    },
                },
            ),
        },
    ]);
    return widgets;
}
