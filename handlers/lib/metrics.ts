/**
 * The processors' counters: Powertools for AWS Lambda (TypeScript) Metrics writing CloudWatch Embedded
 * Metric Format, behind the small interface the handlers call. Counters are summed per channel during
 * an invocation and flushed as one EMF line per channel (EMF carries one set of dimension values per
 * line): dimensions exactly [service, channel]. CloudWatch Logs turns the lines into metrics: no
 * PutMetricData call and no IAM permission. Create it inside a callbackFactory or handler.
 */
import { MetricUnit, Metrics as PowertoolsMetrics } from "@aws-lambda-powertools/metrics";
import { routeOutput } from "./log";
import { METRIC_NAMESPACE, type METRICS } from "./telemetry-names";
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
}

export function createMetrics(options: MetricsOptions): Metrics {
    const metrics = new PowertoolsMetrics({
        namespace: options.namespace ?? METRIC_NAMESPACE,
        serviceName: options.service,
    });
    routeOutput(metrics, options.write);
    let collected = new Map<Channel, Map<MetricName, number>>();
    return {
        add: (channel, name, value = 1) => {
            const perChannel = collected.get(channel) ?? new Map<MetricName, number>();
            perChannel.set(name, (perChannel.get(name) ?? 0) + value);
            collected.set(channel, perChannel);
        },
        flush: () => {
            for (const [channel, values] of collected) {
                metrics.addDimension("channel", channel);
                for (const [name, value] of values) metrics.addMetric(name, MetricUnit.Count, value);
                metrics.publishStoredMetrics();
            }
            collected = new Map();
        },
        single: (channel, name, properties) => {
            const line = metrics.singleMetric();
            routeOutput(line, options.write);
            line.addDimension("channel", channel);
            for (const [key, value] of Object.entries(properties)) line.addMetadata(key, value);
            line.addMetric(name, MetricUnit.Count, 1);
        },
    };
}
