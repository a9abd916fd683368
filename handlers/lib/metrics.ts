/**
 * CloudWatch Embedded Metric Format, in-house: counters per channel are collected during an invocation
 * and flushed as one JSON log line per channel (EMF allows one set of dimension values per line).
 * CloudWatch Logs turns the lines into metrics: no PutMetricData call and no IAM permission needed.
 */
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, type METRICS } from "./telemetry-names";
import type { Channel } from "./telemetry-names";

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

export interface Metrics {
    add(channel: Channel, name: MetricName, value?: number): void;
    /** Writes the collected values (nothing when none) and starts over. */
    flush(): void;
    /** Writes one count of `name` at once, in a line of its own that carries `properties` (e.g. an SQS message id). */
    single(channel: Channel, name: MetricName, properties: Record<string, string>): void;
}

export interface MetricsOptions {
    service: string;
    namespace?: string;
    write?: (line: string) => void;
    now?: () => number;
}

/** The EMF document for one channel's counters. */
export function emfLine(
    namespace: string,
    service: string,
    channel: Channel,
    values: Map<MetricName, number>,
    timestamp: number,
    properties: Record<string, string> = {},
): string {
    const doc: Record<string, unknown> = {
        _aws: {
            Timestamp: timestamp,
            CloudWatchMetrics: [
                {
                    Namespace: namespace,
                    Dimensions: [[...METRIC_DIMENSIONS]],
                    Metrics: [...values.keys()].map((Name) => ({ Name, Unit: "Count" })),
                },
            ],
        },
        ...properties,
        service,
        channel,
    };
    for (const [name, value] of values) doc[name] = value;
    return `${JSON.stringify(doc)}\n`;
}

export function createMetrics(options: MetricsOptions): Metrics {
    const namespace = options.namespace ?? METRIC_NAMESPACE;
    const write = options.write ?? ((line: string) => void process.stdout.write(line));
    const now = options.now ?? (() => Date.now());
    let collected = new Map<Channel, Map<MetricName, number>>();
    return {
        add: (channel, name, value = 1) => {
            const perChannel = collected.get(channel) ?? new Map<MetricName, number>();
            perChannel.set(name, (perChannel.get(name) ?? 0) + value);
            collected.set(channel, perChannel);
        },
        flush: () => {
            const timestamp = now();
            for (const [channel, values] of collected)
                write(emfLine(namespace, options.service, channel, values, timestamp));
            collected = new Map();
        },
        single: (channel, name, properties) =>
            write(emfLine(namespace, options.service, channel, new Map([[name, 1]]), now(), properties)),
    };
}
