import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CHANNELS } from "../handlers/lib/telemetry-names";
import { Alarms, type MonitoredResources } from "./alarms";
import { CostBudget, type CostBudgetArgs, budgetProblems } from "./budget";
import { Dashboard } from "./dashboard";
import { denyInsecureTransport } from "./statements";

export {
    API_CLIENT_ERROR_RATE_EXPRESSION,
    type MonitoredApi,
    type MonitoredFunction,
    type MonitoredQueue,
    SUCCESS_RATE_EXPRESSION,
    SUCCESS_RATE_OUTCOMES_EXPRESSION,
    compositeRule,
} from "./alarms";
export { dashboardWidgets } from "./dashboard";

export interface MonitoringArgs extends MonitoredResources {
    /** The stack name: every alarm, the topic, the dashboard and the budget are named `notify-<stack>-…`. */
    stack: string;
    /** The stack key: the alarm topic is encrypted with it (its policy lets CloudWatch and Budgets use it). */
    kmsKeyArn: pulumi.Input<string>;
    alarmEmail: string;
    /** The account's SMS spend: alarm at `alarmPercent` of the monthly limit. */
    smsSpend: { monthlyLimitUsd: number; alarmPercent: number };
    /** The stack's monthly cost budget (see CostBudget). */
    budget: Omit<CostBudgetArgs, "budgetName" | "alarmTopicArn">;
}

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Name of the stack's cost budget; the alarm topic's and the key's policies admit it by this prefix. */
export const budgetName = (stack: string) => `notify-${stack}-monthly-cost`;

/**
 * The platform's monitoring: an encrypted alarm topic with its e-mail subscription, the alarms (see
 * Alarms), the dashboard (see Dashboard) and the stack's cost budget, all notifying the topic.
 */
export class Monitoring extends pulumi.ComponentResource {
    public readonly alarmTopic: aws.sns.Topic;
    public readonly alarmTopicPolicy: aws.sns.TopicPolicy;
    public readonly alarmSubscription: aws.sns.TopicSubscription;
    /** Every metric alarm, in creation order; the composite alarm is an OR of all of them. */
    public readonly alarms: aws.cloudwatch.MetricAlarm[];
    public readonly compositeAlarm: aws.cloudwatch.CompositeAlarm;
    public readonly dashboard: aws.cloudwatch.Dashboard;
    public readonly dashboardUrl: pulumi.Output<string>;
    public readonly budget: aws.budgets.Budget;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:monitoring:Monitoring", name, {}, opts);
        validate(args);

        const prefix = `notify-${args.stack}`;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const { stack, kmsKeyArn, alarmEmail, smsSpend, budget, ...monitored } = args;

        this.alarmTopic = new aws.sns.Topic(
            `${name}-alarm-topic`,
            { name: `${prefix}-alarms`, displayName: `${prefix} alarms`, kmsMasterKeyId: kmsKeyArn },
            { parent: this },
        );
        const topicArn = this.alarmTopic.arn;
        this.alarmTopicPolicy = new aws.sns.TopicPolicy(
            `${name}-alarm-topic-policy`,
            {
                arn: topicArn,
                policy: pulumi.jsonStringify(alarmTopicPolicyDocument({ topicArn, accountId, region, prefix, stack })),
            },
            { parent: this },
        );
        // Stays "pending confirmation" until the recipient clicks the link SNS mails them.
        this.alarmSubscription = new aws.sns.TopicSubscription(
            `${name}-alarm-email`,
            { topic: topicArn, protocol: "email", endpoint: alarmEmail },
            { parent: this },
        );

        // Same name as this component (the types differ): the children keep the names they had before
        // the split, and their aliases (see Alarms, Dashboard) their URNs.
        const alarms = new Alarms(
            name,
            {
                ...monitored,
                namePrefix: prefix,
                alarmTopicArn: topicArn,
                alarmTopicPolicy: this.alarmTopicPolicy,
                smsSpend,
            },
            { parent: this },
        );
        this.alarms = alarms.alarms;
        this.compositeAlarm = alarms.compositeAlarm;

        const dashboard = new Dashboard(
            name,
            {
                ...monitored,
                dashboardName: prefix,
                region,
                alarmArns: [this.compositeAlarm.arn, ...this.alarms.map((a) => a.arn)],
            },
            { parent: this },
        );
        this.dashboard = dashboard.dashboard;
        this.dashboardUrl = dashboard.url;

        this.budget = new CostBudget(
            `${name}-budget`,
            { ...budget, budgetName: budgetName(stack), alarmTopicArn: topicArn },
            // Budgets checks that it may publish when the notification is created.
            { parent: this, dependsOn: [this.alarmTopicPolicy] },
        ).budget;

        this.registerOutputs({
            alarmTopicArn: topicArn,
            compositeAlarmName: this.compositeAlarm.alarmName,
            dashboardName: this.dashboard.dashboardName,
            dashboardUrl: this.dashboardUrl,
            budgetName: this.budget.name,
        });
    }
}

/** Who may publish to the alarm topic: this stack's CloudWatch alarms and its budget, over TLS only. */
function alarmTopicPolicyDocument(p: {
    topicArn: pulumi.Output<string>;
    accountId: pulumi.Output<string>;
    region: pulumi.Output<string>;
    prefix: string;
    stack: string;
}) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "CloudWatchAlarmsOfThisStackPublish",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: "sns:Publish",
                Resource: p.topicArn,
                Condition: {
                    StringEquals: { "aws:SourceAccount": p.accountId },
                    ArnLike: {
                        "aws:SourceArn": pulumi.interpolate`arn:aws:cloudwatch:${p.region}:${p.accountId}:alarm:${p.prefix}-*`,
                    },
                },
            },
            {
                // Budgets is global: its ARNs have no region.
                Sid: "BudgetOfThisStackPublishes",
                Effect: "Allow",
                Principal: { Service: "budgets.amazonaws.com" },
                Action: "sns:Publish",
                Resource: p.topicArn,
                Condition: {
                    StringEquals: { "aws:SourceAccount": p.accountId },
                    ArnLike: {
                        "aws:SourceArn": pulumi.interpolate`arn:aws:budgets::${p.accountId}:budget/${budgetName(p.stack)}`,
                    },
                },
            },
            denyInsecureTransport("sns", p.topicArn),
        ],
    };
}

function validate(args: MonitoringArgs): void {
    const fail = (problem: string): never => {
        throw new Error(`Monitoring: ${problem}`);
    };
    if (!EMAIL_PATTERN.test(args.alarmEmail)) fail(`alarmEmail '${args.alarmEmail}' is not an e-mail address`);
    if (!args.serviceName) fail("serviceName is empty");
    if (!/^[A-Za-z0-9_.-]+$/.test(args.stack ?? "")) fail(`stack '${args.stack}' is not a stack name`);
    const t = args.thresholds;
    if (!(t.minSuccessRatePercent > 0 && t.minSuccessRatePercent <= 100)) {
        fail(`thresholds.minSuccessRatePercent must be in (0, 100], got ${t.minSuccessRatePercent}`);
    }
    for (const key of ["bounceRatePercent", "complaintRatePercent"] as const) {
        if (!(t[key] > 0 && t[key] <= 100)) fail(`thresholds.${key} must be in (0, 100], got ${t[key]}`);
    }
    if (!(t.queueAgeSeconds > 0)) fail(`thresholds.queueAgeSeconds must be positive, got ${t.queueAgeSeconds}`);
    if (!(t.errorThreshold >= 1)) fail(`thresholds.errorThreshold must be at least 1, got ${t.errorThreshold}`);
    const { monthlyLimitUsd, alarmPercent } = args.smsSpend ?? {};
    if (!(monthlyLimitUsd >= 0)) fail(`smsSpend.monthlyLimitUsd must be 0 or more, got ${monthlyLimitUsd}`);
    if (!(alarmPercent > 0 && alarmPercent <= 100))
        fail(`smsSpend.alarmPercent must be in (0, 100], got ${alarmPercent}`);
    for (const problem of budgetProblems(args.budget)) fail(problem);
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
        [...args.functions, ...(args.api?.functions ?? [])].map((f) => f.name),
    );
    if (args.api) {
        const { clientErrorPercent, latencyP99Ms, stage } = args.api;
        if (!(clientErrorPercent > 0 && clientErrorPercent <= 100))
            fail(`api.clientErrorPercent must be in (0, 100], got ${clientErrorPercent}`);
        if (!(latencyP99Ms > 0)) fail(`api.latencyP99Ms must be positive, got ${latencyP99Ms}`);
        if (!stage) fail("api.stage is empty");
    }
    unique(
        "dead-letter queue",
        args.deadLetterQueues.map((q) => q.name),
    );
    unique(
        "channel queue",
        CHANNELS.map((c) => args.channelQueues[c].name),
    );
}
