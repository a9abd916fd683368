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
    /** Where a sender puts outcomes it could not write to the delivery log (the feedback queue). */
    outcomeQueueUrl: "OUTCOME_QUEUE_URL",
    deliveryLogTtlDays: "DELIVERY_LOG_TTL_DAYS",
    /** The in-app inbox table and how long its items live (config inboxTtlDays). */
    inboxTable: "INBOX_TABLE",
    inboxTtlDays: "INBOX_TTL_DAYS",
    /** The KMS HMAC key from which the inbox list route derives its cursor MAC key (infra/cursorMacKey.ts). */
    cursorMacKeyArn: "INBOX_CURSOR_MAC_KEY_ARN",
    /** Days a device row lives after its app last registered it (its TTL `expiresAt`). */
    deviceTtlDays: "DEVICE_TTL_DAYS",
} as const;

/** Reads a variable the stack must have set; a missing one is a deployment bug, so fail loudly. */
export function requireEnv(name: string): string {
    const value = process.env[name];
    if (value === undefined || value === "") throw new Error(`environment variable ${name} is not set`);
    return value;
}

/** RATE_LIMITS is JSON {push, email, sms, inapp}: sends per user per hour; a missing channel is unlimited. */
export function rateLimitFor(channel: string): number | undefined {
    const raw = process.env[ENV.rateLimits];
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const value = parsed[channel];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
        throw new Error(`${ENV.rateLimits}.${channel} must be a non-negative integer`);
    }
    return value;
}

export function ttlDays(): number {
    const value = Number(process.env[ENV.deliveryLogTtlDays] ?? "90");
    if (!Number.isInteger(value) || value < 1) throw new Error(`${ENV.deliveryLogTtlDays} must be a positive integer`);
    return value;
}

/** One variable of a processor's environment: its name, and whether the stack may leave it out. */
export interface EnvVariable {
    name: string;
    optional?: boolean;
}
export type EnvSpec = Record<string, EnvVariable>;
/** The values of an environment, by field: required fields must be given, optional ones may be left out. */
export type EnvValues<S extends EnvSpec, V> = {
    [K in keyof S as S[K]["optional"] extends true ? never : K]: V;
} & { [K in keyof S as S[K]["optional"] extends true ? K : never]?: V };

const required = (name: string) => ({ name });
const optional = (name: string) => ({ name, optional: true as const });

/** What every processor gets: read with defaults by createTelemetry, always set by the stack. */
const BASE_ENV = {
    stage: required(ENV.stage),
    serviceName: required(ENV.serviceName),
    metricsNamespace: required(ENV.metricsNamespace),
    logLevel: required(ENV.logLevel),
};
const PLATFORM_ENV = {
    apnsPlatform: required(ENV.apnsPlatform),
    apnsApplicationArn: optional(ENV.apnsApplicationArn),
    fcmApplicationArn: optional(ENV.fcmApplicationArn),
};
/** What the shared sender pipeline reads (lib/pipeline/sender.ts senderSetup). */
export const SENDER_ENV = {
    preferencesTable: required(ENV.preferencesTable),
    templatesTable: required(ENV.templatesTable),
    deliveryLogTable: required(ENV.deliveryLogTable),
    idempotencyTable: required(ENV.idempotencyTable),
    analyticsStream: required(ENV.analyticsStream),
    deferralScheduleGroup: required(ENV.deferralScheduleGroup),
    deferralRoleArn: required(ENV.deferralRoleArn),
    channelQueueArn: required(ENV.channelQueueArn),
    outcomeQueueUrl: required(ENV.outcomeQueueUrl),
    /** Absent: no channel is rate limited (rateLimitFor). */
    rateLimits: optional(ENV.rateLimits),
    /** Absent: 90 days (ttlDays). */
    deliveryLogTtlDays: optional(ENV.deliveryLogTtlDays),
};
export const PUSH_ENV = { ...PLATFORM_ENV, devicesTable: required(ENV.devicesTable) };
export const EMAIL_ENV = {
    sesConfigurationSet: required(ENV.sesConfigurationSet),
    sesFromAddress: required(ENV.sesFromAddress),
};
export const SMS_ENV = { smsSenderId: optional(ENV.smsSenderId) };
export const INAPP_ENV = { inboxTable: required(ENV.inboxTable), inboxTtlDays: required(ENV.inboxTtlDays) };

/**
 * Each processor's whole environment, declared once: infra/processors.ts writes it with
 * `environmentVariables` (the type makes it give every required value), the adapters read their part
 * with `readEnvironment`.
 */
export const PROCESSOR_ENV = {
    pushSender: { ...BASE_ENV, ...SENDER_ENV, ...PUSH_ENV },
    emailSender: { ...BASE_ENV, ...SENDER_ENV, ...EMAIL_ENV },
    smsSender: { ...BASE_ENV, ...SENDER_ENV, ...SMS_ENV },
    inappSender: { ...BASE_ENV, ...SENDER_ENV, ...INAPP_ENV },
    feedbackProcessor: {
        ...BASE_ENV,
        deliveryLogTable: required(ENV.deliveryLogTable),
        preferencesTable: required(ENV.preferencesTable),
        devicesTable: required(ENV.devicesTable),
        analyticsStream: required(ENV.analyticsStream),
    },
    deviceMaintenance: { ...BASE_ENV, ...PLATFORM_ENV, devicesTable: required(ENV.devicesTable) },
    /** App-user (JWT) routes, infra/routes/me.ts: each reads only its own table. */
    meDevices: { ...BASE_ENV, devicesTable: required(ENV.devicesTable), deviceTtlDays: optional(ENV.deviceTtlDays) },
    mePreferences: { ...BASE_ENV, preferencesTable: required(ENV.preferencesTable) },
    meInboxList: { ...BASE_ENV, inboxTable: required(ENV.inboxTable), cursorMacKeyArn: required(ENV.cursorMacKeyArn) },
    meInboxRead: { ...BASE_ENV, inboxTable: required(ENV.inboxTable) },
    campaignRunner: {
        ...BASE_ENV,
        preferencesTable: required(ENV.preferencesTable),
        idempotencyTable: required(ENV.idempotencyTable),
        ingressTopicArn: required(ENV.ingressTopicArn),
    },
    /** POST /v1/notifications (handlers/api/producer.ts): claims keys, publishes to the ingress topic. */
    producerPost: {
        ...BASE_ENV,
        idempotencyTable: required(ENV.idempotencyTable),
        ingressTopicArn: required(ENV.ingressTopicArn),
    },
    /** GET /v1/notifications/{id}: reads the delivery log. */
    producerStatus: { ...BASE_ENV, deliveryLogTable: required(ENV.deliveryLogTable) },
} satisfies Record<string, EnvSpec>;

/** The variables of `spec` with their values (optional ones left out when not given). */
export function environmentVariables<S extends EnvSpec, V>(spec: S, values: EnvValues<S, V>): Record<string, V> {
    const out: Record<string, V> = {};
    const given = values as Record<string, V | undefined>;
    for (const [field, variable] of Object.entries(spec)) {
        const value = given[field];
        if (value !== undefined) out[variable.name] = value;
    }
    return out;
}

/** Reads `spec` from the environment; a missing required variable is a deployment bug and throws. */
export function readEnvironment<S extends EnvSpec>(spec: S): EnvValues<S, string> {
    const out: Record<string, string | undefined> = {};
    for (const [field, variable] of Object.entries(spec)) {
        out[field] = variable.optional ? process.env[variable.name] || undefined : requireEnv(variable.name);
    }
    return out as EnvValues<S, string>;
}
