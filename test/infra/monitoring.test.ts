import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { CHANNELS, METRIC_NAMESPACE } from "../../handlers/lib/telemetry-names";
import type { PlatformConfig } from "../../infra/config";
import {
    API_CLIENT_ERROR_RATE_EXPRESSION,
    Monitoring,
    type MonitoringArgs,
    SUCCESS_RATE_EXPRESSION,
    SUCCESS_RATE_OUTCOMES_EXPRESSION,
    compositeRule,
} from "../../infra/monitoring";
import { type MetricQuery, type Series, alarmState, evaluateQueries } from "./metricMath";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/monitoring-test-key`;

interface Recorded {
    type: string;
    name: string;
    inputs: any;
}

const THRESHOLDS: PlatformConfig["alarms"] = {
    email: "oncall@example.com",
    queueAgeSeconds: 300,
    errorThreshold: 2,
    minSuccessRatePercent: 95,
    bounceRatePercent: 4,
    complaintRatePercent: 0.08,
};

function args(overrides: Partial<MonitoringArgs> = {}): MonitoringArgs {
    return {
        stack: "dev",
        kmsKeyArn: KEY_ARN,
        alarmEmail: "oncall@example.com",
        serviceName: "notify-dev",
        thresholds: THRESHOLDS,
        functions: [
            { name: "push-sender", functionName: "fn-push-sender", channel: "push" },
            { name: "email-sender", functionName: "fn-email-sender", channel: "email" },
            { name: "sms-sender", functionName: "fn-sms-sender", channel: "sms" },
            { name: "inapp-sender", functionName: "fn-inapp-sender", channel: "inapp" },
            { name: "feedback", functionName: "fn-feedback" },
            { name: "devices", functionName: "fn-devices" },
            { name: "campaigns", functionName: "fn-campaigns" },
        ],
        channelQueues: {
            push: { name: "push", queueName: "q-push" },
            email: { name: "email", queueName: "q-email" },
            sms: { name: "sms", queueName: "q-sms" },
            inapp: { name: "inapp", queueName: "q-inapp" },
        },
        deadLetterQueues: [
            { name: "push-dlq", queueName: "q-push-dlq", channel: "push" },
            { name: "email-dlq", queueName: "q-email-dlq", channel: "email" },
            { name: "sms-dlq", queueName: "q-sms-dlq", channel: "sms" },
            { name: "inapp-dlq", queueName: "q-inapp-dlq", channel: "inapp" },
            { name: "feedback-dlq", queueName: "q-feedback-dlq" },
            { name: "campaign-dlq", queueName: "q-campaign-dlq" },
            { name: "stream-failures", queueName: "q-stream-failures" },
        ],
        smsSpend: { monthlyLimitUsd: 500, alarmPercent: 80 },
        budget: {
            monthlyLimitUsd: 250,
            forecastPercent: 100,
            actualPercent: 80,
            costAllocationTags: { Environment: "dev", Application: "notify-platform" },
        },
        ...overrides,
    };
}

const settle = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("infra/monitoring: Monitoring component", function () {
    let recorded: Recorded[];
    let monitoring: Monitoring;
    let dashboardUrl: string;
    let topicArn: string;
    const ofType = (type: string) => recorded.filter((r) => r.type === type && r.name.startsWith("mon-"));
    const alarms = () => ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((r) => r.inputs);
    const alarmNamed = (name: string) => {
        const found = alarms().filter((a) => a.name === name);
        expect(found, name).to.have.length(1);
        return found[0];
    };
    const dashboard = () => JSON.parse(ofType("aws:cloudwatch/dashboard:Dashboard")[0].inputs.dashboardBody);

    before(async function () {
        recorded = [];
        // setMocks is process-global and other test files set their own: set ours first, create and
        // settle every resource inside this hook.
        await pulumi.runtime.setMocks(
            {
                newResource: (a) => {
                    recorded.push({ type: a.type, name: a.name, inputs: a.inputs });
                    const id = a.inputs.name ?? a.inputs.alarmName ?? a.inputs.dashboardName ?? a.name;
                    const arn =
                        a.type === "aws:sns/topic:Topic"
                            ? `arn:aws:sns:${REGION}:${ACCOUNT}:${a.inputs.name}`
                            : `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${id}`;
                    return { id, state: { ...a.inputs, arn } };
                },
                call: (a) => {
                    if (a.token === "aws:index/getCallerIdentity:getCallerIdentity") {
                        return {
                            accountId: ACCOUNT,
                            arn: `arn:aws:iam::${ACCOUNT}:user/test`,
                            id: ACCOUNT,
                            userId: "AIDTEST",
                        };
                    }
                    if (a.token === "aws:index/getRegion:getRegion") {
                        return {
                            region: REGION,
                            name: REGION,
                            id: REGION,
                            description: "Europe (Ireland)",
                            endpoint: "",
                        };
                    }
                    throw new Error(`unexpected call ${a.token}`);
                },
            },
            "notify",
            "dev",
            false,
        );
        monitoring = new Monitoring("mon", args());
        const children: pulumi.CustomResource[] = [
            monitoring.alarmTopic,
            monitoring.alarmTopicPolicy,
            monitoring.alarmSubscription,
            ...monitoring.alarms,
            monitoring.compositeAlarm,
            monitoring.dashboard,
            monitoring.budget,
        ];
        const urns = await Promise.all(children.map((c) => settle(c.urn)));
        // Every child sits in the Monitoring tree: directly, or under its Alarms, Dashboard or CostBudget part.
        for (const urn of urns) expect(urn).to.match(/::notify:monitoring:(Monitoring|Alarms|Dashboard|CostBudget)\$/);
        dashboardUrl = await settle(monitoring.dashboardUrl);
        topicArn = await settle(monitoring.alarmTopic.arn);
    });

    it("encrypts the alarm topic with the stack key", function () {
        const [topic] = ofType("aws:sns/topic:Topic");
        expect(topic.inputs.kmsMasterKeyId).to.equal(KEY_ARN);
        expect(topic.inputs.name).to.equal("notify-dev-alarms");
    });

    it("lets only this account's CloudWatch alarms publish, over TLS only", function () {
        const policy = JSON.parse(ofType("aws:sns/topicPolicy:TopicPolicy")[0].inputs.policy);
        const allow = policy.Statement.filter(
            (s: any) => s.Effect === "Allow" && s.Principal.Service === "cloudwatch.amazonaws.com",
        );
        expect(allow).to.have.length(1);
        expect(allow[0].Principal).to.deep.equal({ Service: "cloudwatch.amazonaws.com" });
        expect(allow[0].Action).to.equal("sns:Publish");
        expect(allow[0].Resource).to.equal(topicArn);
        expect(allow[0].Condition.StringEquals).to.deep.equal({ "aws:SourceAccount": ACCOUNT });
        expect(allow[0].Condition.ArnLike["aws:SourceArn"]).to.equal(
            `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:notify-dev-*`,
        );
        const deny = policy.Statement.find((s: any) => s.Effect === "Deny");
        expect(deny.Principal).to.equal("*");
        expect(deny.Condition).to.deep.equal({ Bool: { "aws:SecureTransport": "false" } });
        expect(deny.Resource).to.equal(topicArn);
    });

    it("subscribes the alarm e-mail address", function () {
        const [sub] = ofType("aws:sns/topicSubscription:TopicSubscription");
        expect(sub.inputs).to.include({ protocol: "email", endpoint: "oncall@example.com", topic: topicArn });
    });

    it("sends every alarm's ALARM and OK to the topic, with a deliberate missing-data policy and a prefixed name", function () {
        // 7 DLQs, 7 functions x (errors, throttles), 4 channel queues' age, push platform, 4 channels'
        // success rate, SES bounce and complaint rate, SMS spend.
        expect(alarms()).to.have.length(7 + 7 * 2 + 4 + 1 + 4 + 2 + 1);
        for (const a of alarms()) {
            expect(a.alarmActions, a.name).to.deep.equal([topicArn]);
            expect(a.okActions, a.name).to.deep.equal([topicArn]);
            expect(a.treatMissingData, a.name).to.equal("notBreaching");
            expect(a.name).to.match(/^notify-dev-/);
        }
        expect(new Set(alarms().map((a) => a.name)).size).to.equal(alarms().length);
    });

    it("alarms on a failing push platform application (the metric the feedback processor emits)", function () {
        const a = alarmNamed("notify-dev-push-platform-failures");
        expect(a).to.include({
            namespace: "NotifyPlatform",
            metricName: "PlatformFailure",
            threshold: 1,
            statistic: "Sum",
        });
        expect(a.dimensions).to.deep.equal({ service: "notify-dev", channel: "push" });
    });

    it("alarms on each dead-letter queue as soon as one message is visible", function () {
        for (const dlq of args().deadLetterQueues) {
            const a = alarmNamed(`notify-dev-dlq-${dlq.name}-messages-visible`);
            expect(a).to.include({
                namespace: "AWS/SQS",
                metricName: "ApproximateNumberOfMessagesVisible",
                comparisonOperator: "GreaterThanThreshold",
                threshold: 0,
            });
            expect(a.dimensions).to.deep.equal({ QueueName: dlq.queueName });
        }
    });

    it("alarms on each function's errors and throttles at the configured threshold", function () {
        for (const fn of args().functions) {
            for (const metric of ["Errors", "Throttles"]) {
                const a = alarmNamed(`notify-dev-fn-${fn.name}-${metric.toLowerCase()}`);
                expect(a).to.include({
                    namespace: "AWS/Lambda",
                    metricName: metric,
                    statistic: "Sum",
                    threshold: 2,
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                });
                expect(a.dimensions).to.deep.equal({ FunctionName: fn.functionName });
            }
        }
    });

    it("alarms on the age of the oldest message of each channel queue", function () {
        for (const channel of CHANNELS) {
            const a = alarmNamed(`notify-dev-queue-${channel}-oldest-message-age`);
            expect(a).to.include({
                metricName: "ApproximateAgeOfOldestMessage",
                threshold: 300,
                comparisonOperator: "GreaterThanThreshold",
            });
            expect(a.dimensions).to.deep.equal({ QueueName: `q-${channel}` });
        }
    });

    it("computes each channel's success rate with metric math over SUMs of Delivered and Failed only", function () {
        for (const channel of CHANNELS) {
            const a = alarmNamed(`notify-dev-${channel}-delivery-success-rate`);
            // A metric-math alarm has no metric of its own.
            expect(a).not.to.have.property("metricName");
            expect(a).not.to.have.property("statistic");
            expect(a).to.include({
                comparisonOperator: "LessThanThreshold",
                threshold: 95,
                evaluationPeriods: 3,
                datapointsToAlarm: 3,
            });
            const queries: any[] = a.metricQueries;
            expect(queries.map((q) => q.id)).to.deep.equal(["delivered", "failed", "outcomes", "successRate"]);
            expect(queries.find((q) => q.id === "outcomes").expression).to.equal(SUCCESS_RATE_OUTCOMES_EXPRESSION);
            const expr = queries.find((q) => q.id === "successRate");
            expect(expr.expression).to.equal(SUCCESS_RATE_EXPRESSION);
            expect(expr.returnData).to.equal(true);
            expect(queries.filter((q) => q.returnData === true)).to.have.length(1);
            for (const [id, metricName] of [
                ["delivered", "Delivered"],
                ["failed", "Failed"],
            ]) {
                const q = queries.find((x) => x.id === id);
                expect(q.returnData).to.equal(false);
                expect(q.metric).to.deep.equal({
                    namespace: METRIC_NAMESPACE,
                    metricName,
                    dimensions: { service: "notify-dev", channel },
                    stat: "Sum",
                    period: 300,
                });
            }
        }
    });

    describe("the success-rate alarm, evaluated on sample metric values", function () {
        const PERIODS = 6;
        const steady = (value: number | undefined): Series => Array.from({ length: PERIODS }, () => value);
        /** The state the registered alarm of `channel` reaches on `metrics`, under both empty-period readings. */
        const verdicts = (channel: string, metrics: Record<string, Series>) => {
            const a = alarmNamed(`notify-dev-${channel}-delivery-success-rate`);
            return (["absent", "filled"] as const).map((emptyPeriods) =>
                alarmState(a, evaluateQueries(a.metricQueries as MetricQuery[], metrics, PERIODS, { emptyPeriods })),
            );
        };
        // What the senders emit per period for 1,000 requests of a campaign that meets quiet hours: every
        // one DEFERRED (Attempted counts them too), nothing delivered, nothing failed.
        const quietHours = { Attempted: steady(1000), Deferred: steady(1000) };

        it("stays OK for a campaign deferred by quiet hours (no failure)", function () {
            for (const channel of CHANNELS) expect(verdicts(channel, quietHours), channel).to.deep.equal(["OK", "OK"]);
        });

        it("stays OK when most recipients are suppressed and the rest delivered", function () {
            const metrics = { Attempted: steady(1000), Suppressed: steady(700), Delivered: steady(300) };
            expect(verdicts("email", metrics)).to.deep.equal(["OK", "OK"]);
        });

        it("alarms when 10% of the delivery outcomes are failures for three periods", function () {
            const metrics = { Attempted: steady(1000), Delivered: steady(900), Failed: steady(100) };
            for (const channel of CHANNELS)
                expect(verdicts(channel, metrics), channel).to.deep.equal(["ALARM", "ALARM"]);
        });

        it("alarms when everything fails and the sender emits no Delivered datapoint at all", function () {
            const metrics = { Attempted: steady(50), Failed: steady(50) };
            expect(verdicts("sms", metrics)).to.deep.equal(["ALARM", "ALARM"]);
        });

        it("does not alarm on two bad periods out of three", function () {
            const delivered: Series = [900, 900, 900, 900, 900, 1000];
            const failed: Series = [100, 100, 100, 100, 100, undefined];
            expect(verdicts("push", { Delivered: delivered, Failed: failed })).to.deep.equal(["OK", "OK"]);
        });

        it("stays OK without any traffic", function () {
            for (const channel of CHANNELS) expect(verdicts(channel, {}), channel).to.deep.equal(["OK", "OK"]);
        });

        it("would have paged on the quiet-hours campaign with the former delivered / attempted expression", function () {
            // The evaluator can tell the two apart: the expression this alarm replaced fails the same input.
            const former: MetricQuery[] = [
                { id: "attempted", metric: { metricName: "Attempted" } },
                { id: "delivered", metric: { metricName: "Delivered" } },
                {
                    id: "successRate",
                    expression: "IF(attempted > 0, 100 * FILL(delivered, 0) / attempted, 100)",
                    returnData: true,
                },
            ];
            const a = alarmNamed("notify-dev-push-delivery-success-rate");
            const series = evaluateQueries(former, quietHours, PERIODS, { emptyPeriods: "absent" });
            expect(alarmState(a, series)).to.equal("ALARM");
        });
    });

    it("alarms on the account's month-to-date SMS spend at the configured share of the monthly limit", function () {
        const a = alarmNamed("notify-dev-sms-month-to-date-spend");
        expect(a).to.include({
            namespace: "AWS/SNS",
            metricName: "SMSMonthToDateSpentUSD",
            statistic: "Maximum",
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 400,
        });
        expect(a).not.to.have.property("dimensions");
    });

    it("gives the stack a monthly cost budget over its own cost-allocation tags", function () {
        const [budget] = ofType("aws:budgets/budget:Budget");
        expect(budget.inputs).to.include({
            name: "notify-dev-monthly-cost",
            budgetType: "COST",
            timeUnit: "MONTHLY",
            limitAmount: "250.00",
            limitUnit: "USD",
        });
        expect(budget.inputs.filterExpression).to.deep.equal({
            ands: [
                { tags: { key: "Environment", values: ["dev"], matchOptions: ["EQUALS"] } },
                { tags: { key: "Application", values: ["notify-platform"], matchOptions: ["EQUALS"] } },
            ],
        });
    });

    it("notifies the alarm topic on the forecast and on the actual cost threshold", function () {
        const [budget] = ofType("aws:budgets/budget:Budget");
        const byType = Object.fromEntries(budget.inputs.notifications.map((n: any) => [n.notificationType, n]));
        expect(Object.keys(byType).sort()).to.deep.equal(["ACTUAL", "FORECASTED"]);
        expect(byType.FORECASTED).to.include({
            threshold: 100,
            thresholdType: "PERCENTAGE",
            comparisonOperator: "GREATER_THAN",
        });
        expect(byType.ACTUAL).to.include({ threshold: 80, thresholdType: "PERCENTAGE" });
        for (const n of Object.values(byType)) expect((n as any).subscriberSnsTopicArns).to.deep.equal([topicArn]);
    });

    it("lets only this stack's budget publish to the alarm topic", function () {
        const policy = JSON.parse(ofType("aws:sns/topicPolicy:TopicPolicy")[0].inputs.policy);
        const budgets = policy.Statement.find((s: any) => s.Principal?.Service === "budgets.amazonaws.com");
        expect(budgets).to.include({ Effect: "Allow", Action: "sns:Publish", Resource: topicArn });
        expect(budgets.Condition).to.deep.equal({
            StringEquals: { "aws:SourceAccount": ACCOUNT },
            ArnLike: { "aws:SourceArn": `arn:aws:budgets::${ACCOUNT}:budget/notify-dev-monthly-cost` },
        });
    });

    it("alarms on SES bounce and complaint rates as fractions of the configured percentages", function () {
        const bounce = alarmNamed("notify-dev-ses-bounce-rate");
        expect(bounce).to.include({
            namespace: "AWS/SES",
            metricName: "Reputation.BounceRate",
            comparisonOperator: "GreaterThanThreshold",
        });
        expect(bounce.threshold).to.be.closeTo(0.04, 1e-12);
        const complaint = alarmNamed("notify-dev-ses-complaint-rate");
        expect(complaint.metricName).to.equal("Reputation.ComplaintRate");
        expect(complaint.threshold).to.be.closeTo(0.0008, 1e-12);
    });

    it("ORs every alarm into a composite 'platform unhealthy' alarm wired to the topic", function () {
        const [composite] = ofType("aws:cloudwatch/compositeAlarm:CompositeAlarm");
        expect(composite.inputs.alarmName).to.equal("notify-dev-platform-unhealthy");
        expect(composite.inputs.alarmActions).to.deep.equal([topicArn]);
        expect(composite.inputs.okActions).to.deep.equal([topicArn]);
        const terms: string[] = composite.inputs.alarmRule.split(" OR ");
        expect(terms).to.have.members(alarms().map((a) => `ALARM("${a.name}")`));
        expect(terms).to.have.length(alarms().length);
    });

    it("builds the dashboard URL from the region and the dashboard name", function () {
        expect(dashboardUrl).to.equal(
            `https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#dashboards:name=notify-dev`,
        );
    });

    it("gives the dashboard one row per channel with its outcomes, success rate, queue, DLQ and sender", function () {
        const widgets: any[] = dashboard().widgets;
        for (const channel of CHANNELS) {
            const head = widgets.find((w) => w.type === "text" && w.properties.markdown === `## ${channel}`);
            expect(head, `header of ${channel}`).to.exist;
            const row = widgets.filter((w) => w.y === head.y + 1);
            expect(row.map((w) => w.properties.title)).to.deep.equal([
                `${channel}: outcomes`,
                `${channel}: success rate %`,
                `${channel}: work queue`,
                `${channel}: dead letters`,
                `${channel}: sender`,
            ]);
            expect(row.reduce((sum, w) => sum + w.width, 0)).to.equal(24);
            const text = JSON.stringify(row);
            for (const m of ["Attempted", "Delivered", "Failed", "Suppressed", "Deferred"]) {
                expect(row[0].properties.metrics).to.deep.include([
                    METRIC_NAMESPACE,
                    m,
                    "service",
                    "notify-dev",
                    "channel",
                    channel,
                ]);
            }
            expect(row[1].properties.metrics[3][0].expression).to.equal(SUCCESS_RATE_EXPRESSION);
            expect(row[1].properties.metrics[3][0].visible).to.equal(true);
            expect(text).to.include(`"q-${channel}"`);
            expect(text).to.include(`"q-${channel}-dlq"`);
            expect(text).to.include(`"fn-${channel}-sender"`);
            for (const other of CHANNELS.filter((c) => c !== channel))
                expect(text).not.to.include(`"fn-${other}-sender"`);
            for (const w of row.filter((w) => w.type === "metric")) expect(w.properties.region).to.equal(REGION);
        }
    });

    it("gives the dashboard a row for the feedback, device and campaign processors, other DLQs and SES", function () {
        const widgets: any[] = dashboard().widgets;
        const head = widgets.find(
            (w) => w.type === "text" && /feedback, devices and campaigns/.test(w.properties.markdown),
        );
        const below = JSON.stringify(widgets.filter((w) => w.y > head.y));
        for (const fn of [
            "fn-feedback",
            "fn-devices",
            "fn-campaigns",
            "q-feedback-dlq",
            "q-campaign-dlq",
            "q-stream-failures",
        ]) {
            expect(below).to.include(`"${fn}"`);
        }
        expect(below).to.include("Reputation.BounceRate");
        // Widgets never overlap and stay on the 24-column grid.
        for (const w of widgets) expect(w.x + w.width).to.be.at.most(24);
        const cells = new Set<string>();
        for (const w of widgets) {
            for (let dy = 0; dy < w.height; dy++) {
                for (let dx = 0; dx < w.width; dx++) {
                    const cell = `${w.x + dx},${w.y + dy}`;
                    expect(cells.has(cell), `overlap at ${cell}`).to.equal(false);
                    cells.add(cell);
                }
            }
        }
    });

    it("shows every alarm, the composite included, in the dashboard's alarm widget", function () {
        const alarmWidget = dashboard().widgets.find((w: any) => w.type === "alarm");
        expect(alarmWidget.properties.alarms).to.have.length(alarms().length + 1);
        expect(alarmWidget.properties.alarms).to.include(
            `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:notify-dev-platform-unhealthy`,
        );
    });

    it("rejects bad input with a clear error before creating anything", function () {
        const before = recorded.length;
        expect(() => new Monitoring("bad1", args({ alarmEmail: "not-an-address" }))).to.throw(
            /alarmEmail 'not-an-address'/,
        );
        const dup = args();
        dup.deadLetterQueues = [...dup.deadLetterQueues, { name: "push-dlq", queueName: "other" }];
        expect(() => new Monitoring("bad2", dup)).to.throw(/dead-letter queue name 'push-dlq' is used twice/);
        expect(() => new Monitoring("bad3", args({ functions: [{ name: "has space", functionName: "x" }] }))).to.throw(
            /function name 'has space'/,
        );
        const noSms = args();
        delete (noSms.channelQueues as any).sms;
        expect(() => new Monitoring("bad4", noSms)).to.throw(/channelQueues has no 'sms' queue/);
        expect(
            () => new Monitoring("bad5", args({ thresholds: { ...THRESHOLDS, minSuccessRatePercent: 0 } })),
        ).to.throw(/minSuccessRatePercent/);
        expect(recorded.filter((r) => r.name.startsWith("bad"))).to.have.length(0);
        expect(recorded.length).to.equal(before);
    });

    it("rejects a budget that would watch the whole account, before creating anything", function () {
        const before = recorded.length;
        const budget = { ...args().budget, costAllocationTags: {} };
        expect(() => new Monitoring("bad6", args({ budget }))).to.throw(/budget.costAllocationTags is empty/);
        expect(() => new Monitoring("bad7", args({ smsSpend: { monthlyLimitUsd: 1, alarmPercent: 0 } }))).to.throw(
            /smsSpend.alarmPercent/,
        );
        expect(recorded.length).to.equal(before);
    });

    it("refuses a composite rule longer than CloudWatch accepts", function () {
        const names = Array.from({ length: 200 }, (_, i) => `notify-dev-some-fairly-long-alarm-name-${i}`);
        expect(() => compositeRule(names)).to.throw(/over CloudWatch's 10240/);
        expect(compositeRule(["a", "b"])).to.equal('ALARM("a") OR ALARM("b")');
    });

    it("has no SMS spend alarm when the spend limit is 0 (SNS then sends no SMS)", async function () {
        const zero = new Monitoring("zero", args({ smsSpend: { monthlyLimitUsd: 0, alarmPercent: 80 } }));
        // Every child settled before the test ends: nothing registers behind a later test's back.
        const children = [zero.alarmTopic, zero.alarmTopicPolicy, zero.alarmSubscription, ...zero.alarms];
        await Promise.all([...children, zero.compositeAlarm, zero.dashboard, zero.budget].map((c) => settle(c.urn)));
        const names = recorded.filter((r) => r.name.startsWith("zero-")).map((r) => r.inputs.name);
        expect(names).to.include("notify-dev-push-delivery-success-rate");
        expect(names).not.to.include("notify-dev-sms-month-to-date-spend");
    });

    it("has no API alarm and no API dashboard row without an API", function () {
        expect(alarms().filter((a) => String(a.name).includes("-api-"))).to.have.length(0);
        expect(JSON.stringify(dashboard())).not.to.include("AWS/ApiGateway");
    });

    describe("with an API", function () {
        const API = {
            apiId: "api-123",
            stage: "dev",
            functions: [
                { name: "api-send", functionName: "fn-api-send" },
                { name: "api-inbox", functionName: "fn-api-inbox" },
            ],
            clientErrorPercent: 25,
            latencyP99Ms: 1500,
        };
        const own = () => recorded.filter((r) => r.name.startsWith("withapi-"));
        const apiAlarm = (name: string) => {
            const found = own().filter(
                (r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && r.inputs.name === name,
            );
            expect(found, name).to.have.length(1);
            return found[0].inputs;
        };

        before(async function () {
            const m = new Monitoring("withapi", args({ api: API }));
            const children = [m.alarmTopic, m.alarmTopicPolicy, m.alarmSubscription, ...m.alarms];
            await Promise.all([...children, m.compositeAlarm, m.dashboard, m.budget].map((c) => settle(c.urn)));
        });

        it("alarms on 5xx at the error threshold and on p99 latency, on the API's stage", function () {
            const fivexx = apiAlarm("notify-dev-api-5xx");
            expect(fivexx).to.include({
                namespace: "AWS/ApiGateway",
                metricName: "5xx",
                statistic: "Sum",
                threshold: 2,
            });
            expect(fivexx.dimensions).to.deep.equal({ ApiId: "api-123", Stage: "dev" });
            const latency = apiAlarm("notify-dev-api-latency-p99");
            expect(latency).to.include({ metricName: "Latency", extendedStatistic: "p99", threshold: 1500 });
            expect(latency.dimensions).to.deep.equal({ ApiId: "api-123", Stage: "dev" });
        });

        it("alarms on the 4xx share only with enough traffic (evaluated on sample values)", function () {
            const a = apiAlarm("notify-dev-api-4xx-rate");
            const rate = a.metricQueries.find((q: MetricQuery) => q.returnData);
            expect(rate.expression).to.equal(API_CLIENT_ERROR_RATE_EXPRESSION);
            const verdict = (count: Series, clientErrors: Series) =>
                (["absent", "filled"] as const).map((emptyPeriods) =>
                    alarmState(
                        a,
                        evaluateQueries(a.metricQueries, { Count: count, "4xx": clientErrors }, 4, { emptyPeriods }),
                    ),
                );
            expect(verdict([100, 100, 100, 100], [40, 40, 40, 40])).to.deep.equal(["ALARM", "ALARM"]);
            expect(verdict([100, 100, 100, 100], [10, 10, 10, 10])).to.deep.equal(["OK", "OK"]);
            // Two requests, one 404 each period: 50 %, but no evidence of a failing client.
            expect(verdict([2, 2, 2, 2], [1, 1, 1, 1])).to.deep.equal(["OK", "OK"]);
            expect(verdict([], [])).to.deep.equal(["OK", "OK"]);
            expect(verdict([100, 100, 100, 100], [])).to.deep.equal(["OK", "OK"]);
        });

        it("alarms on each route function's errors and throttles, and ORs the API alarms into the composite", function () {
            for (const fn of ["api-send", "api-inbox"]) {
                expect(apiAlarm(`notify-dev-fn-${fn}-errors`).dimensions).to.deep.equal({ FunctionName: `fn-${fn}` });
                apiAlarm(`notify-dev-fn-${fn}-throttles`);
            }
            const composite = own().find((r) => r.type === "aws:cloudwatch/compositeAlarm:CompositeAlarm")!;
            for (const name of ["notify-dev-api-5xx", "notify-dev-api-4xx-rate", "notify-dev-api-latency-p99"])
                expect(composite.inputs.alarmRule).to.include(`ALARM("${name}")`);
        });

        it("adds an API row to the dashboard: requests and errors, latency, route functions", function () {
            const body = JSON.parse(
                own().find((r) => r.type === "aws:cloudwatch/dashboard:Dashboard")!.inputs.dashboardBody,
            );
            const head = body.widgets.find((w: any) => w.type === "text" && w.properties.markdown === "## API");
            expect(head).to.exist;
            const row = body.widgets.filter((w: any) => w.y === head.y + 1);
            expect(row.map((w: any) => w.properties.title)).to.deep.equal([
                "API: requests, 4xx, 5xx",
                "API: latency (ms)",
                "API: route functions",
            ]);
            expect(row[0].properties.metrics).to.deep.include([
                "AWS/ApiGateway",
                "5xx",
                "ApiId",
                "api-123",
                "Stage",
                "dev",
                { label: "5xx" },
            ]);
            expect(JSON.stringify(row[2])).to.include('"fn-api-send"').and.include('"fn-api-inbox"');
        });

        it("refuses a route function named like a processor, and bad API thresholds", function () {
            const clash = { ...API, functions: [{ name: "feedback", functionName: "x" }] };
            expect(() => new Monitoring("badapi1", args({ api: clash }))).to.throw(
                /function name 'feedback' is used twice/,
            );
            expect(() => new Monitoring("badapi2", args({ api: { ...API, clientErrorPercent: 0 } }))).to.throw(
                /api.clientErrorPercent/,
            );
        });
    });
});
