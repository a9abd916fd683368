/** Logger and metrics of one processor, created at cold start from its environment. */
import { ENV } from "./env";
import { createLogger, type Logger } from "./log";
import { createMetrics, type Metrics } from "./metrics";
import { METRIC_NAMESPACE } from "./telemetry-names";

export interface Telemetry {
    log: Logger;
    metrics: Metrics;
    service: string;
}

export function createTelemetry(): Telemetry {
    const service = process.env[ENV.serviceName] ?? "notify";
    return {
        service,
        log: createLogger({ service, level: process.env[ENV.logLevel] }),
        metrics: createMetrics({ service, namespace: process.env[ENV.metricsNamespace] ?? METRIC_NAMESPACE }),
    };
}
