/**
 * Metric names and dimensions shared by the processors (which emit them as CloudWatch Embedded
 * Metric Format) and infra/monitoring.ts (whose alarms and dashboard read them).
 */
export const METRIC_NAMESPACE = "NotifyPlatform";
export const METRICS = {
    attempted: "Attempted",
    delivered: "Delivered",
    failed: "Failed",
    suppressed: "Suppressed",
    deferred: "Deferred",
    /**
     * A request that could not be recorded against any notificationId (invalid JSON, no usable id): its
     * one EMF line carries the SQS message id and the reason, beside the structured log line.
     */
    rejected: "RejectedRequests",
    /** Push only: the platform application itself failed a delivery (credentials, disabled application). */
    platformFailure: "PlatformFailure",
} as const;
/** Every metric carries exactly these dimensions: service = notify-<stack>, channel = push|email|sms|inapp. */
export const METRIC_DIMENSIONS = ["service", "channel"] as const;
// The channel list lives in the core (it is a fact of the domain, not of telemetry); re-exported for infra/.
export { CHANNELS, type Channel } from "../core/channels";
export const serviceName = (stack: string) => `notify-${stack}`;
