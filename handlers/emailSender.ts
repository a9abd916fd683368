/**
 * E-mail sender (email channel queue -> SES v2 SendEmail with the configuration set). EmailTags carry
 * notificationId, userId and channel so the feedback processor can correlate SES events; addresses
 * flagged suppressed on the profile are never sent to (the plan suppresses them).
 */
import { FirehoseClient } from "@aws-sdk/client-firehose";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { createDynamo } from "./lib/dynamo";
import { ENV, requireEnv } from "./lib/env";
import { callWithBackoff, createTelemetry, rateLimitFor, ttlDays } from "./lib/runtime";
import { createSenderHandler, type DeliverArgs, type DeliveryResult } from "./lib/sender";

export function emailSender() {
    const telemetry = createTelemetry();
    const ses = new SESv2Client({});
    const from = requireEnv(ENV.sesFromAddress);
    const configurationSet = requireEnv(ENV.sesConfigurationSet);
    return createSenderHandler({
        channel: "email",
        telemetry,
        dynamo: createDynamo(),
        firehose: new FirehoseClient({}),
        scheduler: new SchedulerClient({}),
        tables: {
            preferences: requireEnv(ENV.preferencesTable),
            templates: requireEnv(ENV.templatesTable),
            deliveryLog: requireEnv(ENV.deliveryLogTable),
            idempotency: requireEnv(ENV.idempotencyTable),
        },
        analyticsStream: requireEnv(ENV.analyticsStream),
        deferral: {
            group: requireEnv(ENV.deferralScheduleGroup),
            roleArn: requireEnv(ENV.deferralRoleArn),
            queueArn: requireEnv(ENV.channelQueueArn),
        },
        rateLimit: rateLimitFor("email"),
        ttlDays: ttlDays(),
        apnsPlatform: "APNS",
        deliver: (args) => deliverEmail(args, ses, from, configurationSet),
    });
}

export async function deliverEmail(args: DeliverArgs, ses: SESv2Client, from: string, configurationSet: string): Promise<DeliveryResult> {
    if (args.delivery.channel !== "email") throw new Error("email sender got a non-email delivery");
    const { to, content } = args.delivery;
    const tags = [
        { Name: "notificationId", Value: args.request.notificationId },
        { Name: "channel", Value: "email" },
    ];
    if (args.userId) tags.push({ Name: "userId", Value: args.userId });
    const result = await callWithBackoff(
        () =>
            ses.send(
                new SendEmailCommand({
                    FromEmailAddress: from,
                    Destination: { ToAddresses: [to] },
                    ConfigurationSetName: configurationSet,
                    EmailTags: tags,
                    Content: {
                        Simple: {
                            Subject: { Data: content.subject, Charset: "UTF-8" },
                            Body: { Html: { Data: content.html, Charset: "UTF-8" }, Text: { Data: content.text, Charset: "UTF-8" } },
                        },
                    },
                }),
            ),
        args.remaining,
    );
    if (result.ok) return { status: "SENT", providerMessageId: result.value.MessageId };
    const { error, errorClass } = result;
    if (errorClass === "throttled" || errorClass === "transient" || error.name === "SendingPausedException") {
        return { status: "RETRY", reason: `${error.name}: ${error.message}` };
    }
    return { status: "FAILED", reason: `${error.name}: ${error.message}` };
}
