import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CHANNELS, type Channel, METRIC_NAMESPACE, METRICS } from "../handlers/lib/telemetry-names";
import {
    type MonitoredApi,
    type MonitoredFunction,
    type MonitoredQueue,
    type MonitoredResources,
    successRateQueries,
} from "./alarms";

export interface DashboardArgs extends MonitoredResources {
    /** The dashboard's name, `notify-<stack>`. */
    dashboardName: string;
    region: pulumi.Input<string>;
    /** Every alarm whose state the top row shows. */
    alarmArns: pulumi.Input<string>[];
}

/** The platform's CloudWatch dashboard (layout: see dashboardWidgets) and its console URL. */
export class Dashboard extends pulumi.ComponentResource {
    public readonly dashboard: aws.cloudwatch.Dashboard;
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: DashboardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:monitoring:Dashboard", name, {}, opts);
        const { dashboardName, region, alarmArns, ...monitored } = args;
        this.dashboard = new aws.cloudwatch.Dashboard(
            `${name}-dashboard`,
            {
                dashboardName,
                dashboardBody: pulumi.jsonStringify({
                    widgets: dashboardWidgets({ args: monitored, region, alarmArns }),
                }),
            },
            // A child of Monitoring before the split: the alias keeps its URN on an existing stack.
            { parent: this, aliases: opts?.parent ? [{ parent: opts.parent }] : [] },
        );
        this.url = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
        this.registerOutputs({ dashboardName: this.dashboard.dashboardName, url: this.url });
    }
}

// --- Dashboard layout -------------------------------------------------------------------------------------

const GRID_WIDTH = 24;
const ROW_HEIGHT = 6;

export interface DashboardInputs {
    args: MonitoredResources;
    region: pulumi.Input<string>;
    alarmArns: pulumi.Input<string>[];
}

type Cell = { width: number; widget: (pos: object) => object };

/** Places widgets on CloudWatch's 24-column grid, top to bottom. */
class Layout {
    readonly widgets: object[] = [];
    private y = 0;

    /** A full-width widget of its own height. */
    band(height: number, widget: (pos: object) => object) {
        this.widgets.push(widget({ x: 0, y: this.y, width: GRID_WIDTH, height }));
        this.y += height;
    }
    header(markdown: string) {
        this.band(1, (pos) => ({ type: "text", ...pos, properties: { markdown } }));
    }
    /** Lays cells left to right, wrapping at the grid width. */
    row(cells: Cell[]) {
        let x = 0;
        for (const cell of cells) {
            if (x + cell.width > GRID_WIDTH) {
                x = 0;
                this.y += ROW_HEIGHT;
            }
            this.widgets.push(cell.widget({ x, y: this.y, width: cell.width, height: ROW_HEIGHT }));
            x += cell.width;
        }
        this.y += ROW_HEIGHT;
    }
}

/** The widget builders of one dashboard, bound to its region. */
function widgetsIn(region: pulumi.Input<string>) {
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
    return { graph, dlqGraph, functionGraph };
}

/**
 * One header + one row per channel (outcomes, success rate, work queue depth and age, the channel's
 * DLQs, its sender's errors/throttles/duration), then a row for the other processors, their DLQs and SES
 * reputation. The top row shows every alarm's state.
 */
export function dashboardWidgets({ args, region, alarmArns }: DashboardInputs): object[] {
    const layout = new Layout();
    layout.band(4, (pos) => ({
        type: "alarm",
        ...pos,
        properties: { title: "Alarms", alarms: alarmArns, sortBy: "stateUpdatedTimestamp" },
    }));
    for (const channel of CHANNELS) {
        layout.header(`## ${channel}`);
        layout.row(channelRow(args, channel, widgetsIn(region)));
    }
    layout.header("## feedback, devices and campaigns");
    layout.row(otherRow(args, widgetsIn(region)));
    if (args.api) {
        layout.header("## API");
        layout.row(apiRow(args.api, widgetsIn(region)));
    }
    return layout.widgets;
}

function channelRow(args: MonitoredResources, channel: Channel, w: ReturnType<typeof widgetsIn>): Cell[] {
    const dims = ["service", args.serviceName, "channel", channel];
    const queue = args.channelQueues[channel];
    const successRate = successRateQueries(args.serviceName, channel).map((q) =>
        q.expression
            ? [{ id: q.id, expression: q.expression, label: q.label, visible: q.returnData }]
            : [METRIC_NAMESPACE, q.metricName, ...dims, { id: q.id, visible: false }],
    );
    return [
        {
            width: 6,
            widget: w.graph(
                `${channel}: outcomes`,
                Object.values(METRICS).map((m) => [METRIC_NAMESPACE, m, ...dims]),
            ),
        },
        {
            width: 4,
            widget: w.graph(`${channel}: success rate %`, successRate, {
                yAxis: { left: { min: 0, max: 100 } },
                annotations: { horizontal: [{ label: "alarm below", value: args.thresholds.minSuccessRatePercent }] },
            }),
        },
        {
            width: 5,
            widget: w.graph(
                `${channel}: work queue`,
                [
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue.queueName, { label: "depth" }],
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
            widget: w.dlqGraph(
                `${channel}: dead letters`,
                args.deadLetterQueues.filter((q) => q.channel === channel),
            ),
        },
        {
            width: 5,
            widget: w.functionGraph(
                `${channel}: sender`,
                args.functions.filter((f) => f.channel === channel),
            ),
        },
    ];
}

/** Requests and errors, latency (the caller's and the functions'), and the route functions. */
function apiRow(api: MonitoredApi, w: ReturnType<typeof widgetsIn>): Cell[] {
    const dims = ["ApiId", api.apiId, "Stage", api.stage];
    return [
        {
            width: 8,
            widget: w.graph("API: requests, 4xx, 5xx", [
                ["AWS/ApiGateway", "Count", ...dims, { label: "requests" }],
                ["AWS/ApiGateway", "4xx", ...dims, { label: "4xx" }],
                ["AWS/ApiGateway", "5xx", ...dims, { label: "5xx" }],
            ]),
        },
        {
            width: 8,
            widget: w.graph(
                "API: latency (ms)",
                [
                    ["AWS/ApiGateway", "Latency", ...dims, { label: "p50", stat: "p50" }],
                    ["AWS/ApiGateway", "Latency", ...dims, { label: "p99", stat: "p99" }],
                    ["AWS/ApiGateway", "IntegrationLatency", ...dims, { label: "integration p99", stat: "p99" }],
                ],
                {
                    stat: "p99",
                    annotations: { horizontal: [{ label: "p99 alarm above", value: api.latencyP99Ms }] },
                },
            ),
        },
        { width: 8, widget: w.functionGraph("API: route functions", api.functions) },
    ];
}

function otherRow(args: MonitoredResources, w: ReturnType<typeof widgetsIn>): Cell[] {
    const others = args.functions.filter((f) => f.channel === undefined);
    return [
        ...others.map((f) => ({ width: 6, widget: w.functionGraph(f.name, [f]) })),
        {
            width: 6,
            widget: w.dlqGraph(
                "other dead letters",
                args.deadLetterQueues.filter((q) => q.channel === undefined),
            ),
        },
        {
            width: 6,
            widget: w.graph(
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
    ];
}
