/**
 * E-mail sender (email channel queue -> SES v2 SendEmail with the configuration set). EmailTags carry
 * notificationId, userId and channel so the feedback processor can correlate SES events; addresses
 * flagged suppressed on the profile are never sent to (the plan suppresses them).
 */
import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { ENV, requireEnv } from "./lib/env";
import { callWithBackoff, createTelemetry, isRetryable, providerClientConfig, SEND_TIME_GUARD_MS } from "./lib/runtime";
import { createSenderHandler, senderSetup, type DeliverArgs, type DeliveryResult } from "./lib/sender";

export function emailSender() {
    const telemetry = createTelemetry();
    const ses = new SESv2Client(providerClientConfig());
    const from = requireEnv(ENV.sesFromAddress);
    const configurationSet = requireEnv(ENV.sesConfigurationSet);
    return createSenderHandler({
        ...senderSetup("email", telemetry),
        deliver: (args) => deliverEmail(args, ses, from, configurationSet),
    });
}

export async function deliverEmail(
    args: DeliverArgs,
    ses: SESv2Client,
    from: string,
    configurationSet: string,
): Promise<DeliveryResult> {
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
                            Body: {
                                Html: { Data: content.html, Charset: "UTF-8" },
                                Text: { Data: content.text, Charset: "UTF-8" },
                            },
                        },
                    },
                }),
            ),
        args.remaining,
        { minRemainingMs: SEND_TIME_GUARD_MS },
    );
    if (result.ok) return { status: "SENT", providerMessageId: result.value.MessageId };
    const { error, errorClass } = result;
    // SES NotFoundException is a missing configuration set, not a gone recipient: operational, retried.
    if (isRetryable(errorClass)) return { status: "RETRY", reason: `${error.name}: ${error.message}`, errorClass };
    return { status: "FAILED", reason: `${error.name}: ${error.message}` };
}
