import * as pulumi from "@pulumi/pulumi";
import { CAMPAIGN_ID_MAX } from "../handlers/core/campaign";

/** The stack's settings, typed; the schema (types, defaults, descriptions) lives in Pulumi.yaml. */
export interface PlatformConfig {
    stack: string;
    tags: { Environment: string; Application: string; Owner: string; CostCenter: string };
    logRetentionDays: number;
    tableDeletionProtection: boolean;
    tablePointInTimeRecovery: boolean;
    deliveryLogTtlDays: number;
    inboxTtlDays: number;
    lambdaMemoryMb: number;
    senderMaxConcurrency: number;
    queueBatchSize: number;
    queueBatchingWindowSeconds: number;
    campaignRunnerReservedConcurrency: number;
    rateLimitsPerHour: { push: number; email: number; sms: number; inapp: number };
    alarms: {
        email: string;
        queueAgeSeconds: number;
        errorThreshold: number;
        minSuccessRatePercent: number;
        bounceRatePercent: number;
        complaintRatePercent: number;
    };
    push: {
        apnsPlatform: "APNS" | "APNS_SANDBOX";
        /** undefined when the stack has no APNs credentials: iOS push is switched off. */
        apns?: { signingKey: pulumi.Output<string>; keyId: string; teamId: string; bundleId: string };
        /** undefined when the stack has no FCM credentials: Android push is switched off. */
        fcm?: { serviceAccountJson: pulumi.Output<string> };
        deliveryStatusSamplePercent: number;
    };
    email: { senderDomain: string; fromAddress: string };
    sms: { monthlySpendLimitUsd: number; senderId?: string };
    campaigns: { schedule: string; timezone: string; campaignId: string; template: string; segment: string };
    /** The HTTPS API (infra/api.ts): per-route throttling defaults, custom domain, JWT issuer. */
    api: {
        throttle: { rateLimit: number; burstLimit: number };
        /** undefined: the execute-api URL only. */
        customDomain?: { domainName: string; certificateArn: string };
        /** undefined: the stack creates a Cognito user pool and trusts it. */
        jwt?: { issuer: string; audience: string[] };
        alarm4xxPercent: number;
        alarmLatencyP99Ms: number;
    };
    /** The stack's monthly cost budget and the SMS spend alarm (percentages of their limits). */
    cost: {
        budgetMonthlyUsd: number;
        budgetForecastPercent: number;
        budgetActualPercent: number;
        smsSpendAlarmPercent: number;
    };
}

/**
 * Optional secret settings, outside Pulumi.yaml's typed schema on purpose: the engine applies a schema
 * default as a plain value and then rejects a secret key that is not `secure:` (pulumi/pulumi
 * `validateStackConfigValue`), so an optional secret cannot be declared there. Read with getSecret;
 * the README's config reference documents them from this list (scripts/config-reference.ts).
 */
export const SECRET_SETTINGS = {
    apnsSigningKey: "APNs token-auth signing key (.p8 file contents). Unset switches iOS push off.",
    fcmServiceAccountJson: "Firebase service-account JSON for FCM HTTP v1. Unset switches Android push off.",
} as const;

/** Thrown for a missing or invalid setting; names the key and the stack file to fix. */
export class ConfigError extends Error {}

export function loadConfig(): PlatformConfig {
    const stack = pulumi.getStack();
    const read = settingsReader(new pulumi.Config(), stack, pulumi.getProject());
    const { str, int, bool } = read;
    const environment = str("environment");
    if (environment !== stack)
        read.fail("environment", `Environment tag '${environment}' must equal the stack name for`);
    return {
        stack,
        tags: {
            Environment: environment,
            Application: str("application", "notify-platform"),
            Owner: str("owner"),
            CostCenter: str("costCenter"),
        },
        logRetentionDays: logRetentionDays(read),
        tableDeletionProtection: bool("tableDeletionProtection", true),
        tablePointInTimeRecovery: bool("tablePointInTimeRecovery", true),
        deliveryLogTtlDays: int("deliveryLogTtlDays", 90, 1, 3650),
        inboxTtlDays: int("inboxTtlDays", 90, 1, 3650),
        lambdaMemoryMb: int("lambdaMemoryMb", 256, 128, 10240),
        senderMaxConcurrency: int("senderMaxConcurrency", 10, 2, 1000),
        queueBatchSize: int("queueBatchSize", 10, 1, 10000),
        queueBatchingWindowSeconds: int("queueBatchingWindowSeconds", 1, 0, 300),
        campaignRunnerReservedConcurrency: int("campaignRunnerReservedConcurrency", 1, 1, 1000),
        rateLimitsPerHour: {
            push: int("rateLimitPushPerHour", 20, 1, 100000),
            email: int("rateLimitEmailPerHour", 10, 1, 100000),
            sms: int("rateLimitSmsPerHour", 5, 1, 100000),
            inapp: int("rateLimitInappPerHour", 50, 1, 100000),
        },
        alarms: {
            email: str("alarmEmail"),
            queueAgeSeconds: int("alarmQueueAgeSeconds", 300, 60, 1209600),
            errorThreshold: int("alarmErrorThreshold", 1, 1, 100000),
            minSuccessRatePercent: int("alarmMinSuccessRatePercent", 95, 1, 100),
            bounceRatePercent: int("alarmBounceRateBasisPoints", 400, 1, 10000) / 100,
            complaintRatePercent: int("alarmComplaintRateBasisPoints", 8, 1, 10000) / 100,
        },
        push: pushSettings(read),
        email: emailSettings(read),
        sms: smsSettings(read),
        campaigns: campaignSettings(read),
        api: apiSettings(read),
        cost: {
            budgetMonthlyUsd: int("budgetMonthlyUsd", 100, 1, 100000000),
            budgetForecastPercent: int("budgetForecastPercent", 100, 1, 1000),
            budgetActualPercent: int("budgetActualPercent", 80, 1, 1000),
            smsSpendAlarmPercent: int("alarmSmsSpendPercent", 80, 1, 100),
        },
    };
}

/** Typed readers over the stack's settings; every failure names the key and the stack file to fix. */
type SettingsReader = ReturnType<typeof settingsReader>;

function settingsReader(config: pulumi.Config, stack: string, project: string) {
    const fail = (key: string, problem: string): never => {
        throw new ConfigError(
            `${problem} '${project}:${key}' in Pulumi.${stack}.yaml: set it with \`pulumi config set ${key} <value> --stack ${stack}\``,
        );
    };
    // pulumi.Config's require* methods do not know which file the value comes from; these readers do,
    // so a missing key names both the key and the stack file.
    return {
        fail,
        str: (key: string, fallback?: string): string => {
            const v = config.get(key) ?? fallback;
            if (v === undefined || v === "") return fail(key, "Missing required configuration key");
            return v;
        },
        int: (key: string, fallback: number, min: number, max: number): number => {
            const raw = config.get(key);
            const v = raw === undefined ? fallback : Number(raw);
            if (!Number.isInteger(v) || v < min || v > max) {
                return fail(key, `Configuration key must be an integer between ${min} and ${max}:`);
            }
            return v;
        },
        bool: (key: string, fallback: boolean): boolean => {
            const raw = config.get(key);
            if (raw === undefined) return fallback;
            if (raw !== "true" && raw !== "false") return fail(key, "Configuration key must be true or false:");
            return raw === "true";
        },
        optional: (key: string): string | undefined => config.get(key) || undefined,
        /** Secrets outside the schema (SECRET_SETTINGS): set or not is known at preview, the value is not. */
        secret: (key: keyof typeof SECRET_SETTINGS): pulumi.Output<string> | undefined =>
            (config.get(key) ?? "") !== "" ? (config.requireSecret(key) as pulumi.Output<string>) : undefined,
    };
}

function logRetentionDays({ int, fail }: SettingsReader): number {
    const retention = int("logRetentionDays", 30, 1, 3653);
    if (!CLOUDWATCH_RETENTION_DAYS.includes(retention)) {
        fail("logRetentionDays", `Retention must be one of ${CLOUDWATCH_RETENTION_DAYS.join(", ")}:`);
    }
    return retention;
}

function pushSettings({ str, int, fail, secret }: SettingsReader): PlatformConfig["push"] {
    const apnsPlatform = str("apnsPlatform", "APNS_SANDBOX");
    if (apnsPlatform !== "APNS" && apnsPlatform !== "APNS_SANDBOX") {
        fail("apnsPlatform", "Configuration key must be APNS or APNS_SANDBOX:");
    }
    const apnsKey = secret("apnsSigningKey");
    const fcmJson = secret("fcmServiceAccountJson");
    return {
        apnsPlatform: apnsPlatform as "APNS" | "APNS_SANDBOX",
        apns: apnsKey && {
            signingKey: apnsKey,
            keyId: str("apnsKeyId"),
            teamId: str("apnsTeamId"),
            bundleId: str("apnsBundleId"),
        },
        fcm: fcmJson && { serviceAccountJson: fcmJson },
        deliveryStatusSamplePercent: int("deliveryStatusSamplePercent", 100, 0, 100),
    };
}

function emailSettings({ str }: SettingsReader): PlatformConfig["email"] {
    const senderDomain = str("sesSenderDomain");
    return { senderDomain, fromAddress: `${str("sesFromLocalPart", "notifications")}@${senderDomain}` };
}

function smsSettings({ int, optional, fail }: SettingsReader): PlatformConfig["sms"] {
    const senderId = optional("smsSenderId");
    if (senderId !== undefined && !/^[A-Za-z0-9]{1,11}$/.test(senderId)) {
        fail("smsSenderId", "Sender id must be 1-11 letters or digits:");
    }
    return { monthlySpendLimitUsd: int("smsMonthlySpendLimitUsd", 1, 0, 1000000), senderId };
}

function campaignSettings({ str, fail }: SettingsReader): PlatformConfig["campaigns"] {
    // The runner's notification ids are `${campaignId}-${yyyymmdd}-${userId}`, at most 128 characters
    // of [A-Za-z0-9_-] (they travel as SES tags): the id leaves room for the date and a user part.
    const campaignId = str("campaignId", "daily-digest");
    if (!/^[A-Za-z0-9_-]+$/.test(campaignId) || campaignId.length > CAMPAIGN_ID_MAX) {
        fail("campaignId", `Campaign id must be 1-${CAMPAIGN_ID_MAX} letters, digits, - or _:`);
    }
    return {
        schedule: str("campaignSchedule", "cron(0 9 * * ? *)"),
        timezone: str("campaignTimezone", "UTC"),
        campaignId,
        template: str("campaignTemplate", "daily-digest"),
        segment: str("campaignSegment", "daily-digest"),
    };
}

function apiSettings({ int, optional, fail }: SettingsReader): PlatformConfig["api"] {
    const domainName = optional("apiDomainName");
    const certificateArn = optional("apiCertificateArn");
    if ((domainName === undefined) !== (certificateArn === undefined)) {
        fail(
            domainName ? "apiCertificateArn" : "apiDomainName",
            "A custom domain needs both apiDomainName and apiCertificateArn:",
        );
    }
    if (
        domainName !== undefined &&
        !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domainName)
    )
        fail("apiDomainName", "Not a lower-case DNS name:");
    if (
        certificateArn !== undefined &&
        !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(certificateArn)
    )
        fail("apiCertificateArn", "Not an ACM certificate ARN:");
    const issuer = optional("apiJwtIssuer");
    const audience = (optional("apiJwtAudience") ?? "")
        .split(",")
        .map((a) => a.trim())
        .filter((a) => a !== "");
    if (issuer !== undefined && !/^https:\/\/[^\s/]+(\/\S*)?$/.test(issuer))
        fail("apiJwtIssuer", "The issuer must be an https URL:");
    if ((issuer === undefined) !== (audience.length === 0)) {
        fail(
            issuer ? "apiJwtAudience" : "apiJwtIssuer",
            "An external JWT issuer needs both apiJwtIssuer and apiJwtAudience:",
        );
    }
    const rateLimit = int("apiThrottleRateLimit", 50, 1, 10000);
    const burstLimit = int("apiThrottleBurstLimit", 100, 1, 5000);
    return {
        throttle: { rateLimit, burstLimit },
        customDomain: domainName && certificateArn ? { domainName, certificateArn } : undefined,
        jwt: issuer ? { issuer, audience } : undefined,
        alarm4xxPercent: int("alarmApi4xxPercent", 25, 1, 100),
        alarmLatencyP99Ms: int("alarmApiLatencyP99Ms", 2000, 50, 30000),
    };
}

/** The values CloudWatch Logs accepts for retentionInDays. */
const CLOUDWATCH_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
