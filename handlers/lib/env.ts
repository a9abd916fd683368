/**
 * Names of the environment variables through which the stack hands its resource names to the
 * processors. infra/ sets them, handler adapters read them: one list, so the two cannot drift.
 */
export const ENV = {
    stage: "NOTIFY_STAGE",
    serviceName: "POWERTOOLS_SERVICE_NAME",
    metricsNamespace: "POWERTOOLS_METRICS_NAMESPACE",
    logLevel: "LOG_LEVEL",
    devicesTable: "DEVICES_TABLE",
    deliveryLogTable: "DELIVERY_LOG_TABLE",
    preferencesTable: "PREFERENCES_TABLE",
    templatesTable: "TEMPLATES_TABLE",
    idempotencyTable: "IDEMPOTENCY_TABLE",
    ingressTopicArn: "INGRESS_TOPIC_ARN",
    analyticsStream: "ANALYTICS_STREAM",
    apnsPlatform: "APNS_PLATFORM",
    apnsApplicationArn: "APNS_APPLICATION_ARN",
    fcmApplicationArn: "FCM_APPLICATION_ARN",
    sesConfigurationSet: "SES_CONFIGURATION_SET",
    sesFromAddress: "SES_FROM_ADDRESS",
    smsSenderId: "SMS_SENDER_ID",
    deferralScheduleGroup: "DEFERRAL_SCHEDULE_GROUP",
    deferralRoleArn: "DEFERRAL_ROLE_ARN",
    /** The sender's own channel queue: deferred requests are re-delivered there. */
    channelQueueArn: "CHANNEL_QUEUE_ARN",
    rateLimits: "RATE_LIMITS",
    deliveryLogTtlDays: "DELIVERY_LOG_TTL_DAYS",
} as const;

/** Reads a variable the stack must have set; a missing one is a deployment bug, so fail loudly. */
export function requireEnv(name: string): string {
    const value = process.env[name];
    if (value === undefined || value === "") throw new Error(`environment variable ${name} is not set`);
    return value;
}
