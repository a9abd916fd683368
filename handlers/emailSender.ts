/**
 * E-mail sender (email channel queue -> SES v2 SendEmail with the configuration set). EmailTags carry
 * notificationId, userId and channel so the feedback processor can correlate SES events; addresses
 * flagged suppressed on the profile are never sent to (the composer suppresses them).
 */
import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { type EmailDelivery, emailComposer } from "./core/compose/email";
import { callWithBackoff, providerClientConfig, SEND_TIME_GUARD_MS } from "./lib/backoff";
import { EMAIL_ENV, readEnvironment } from "./lib/env";
import { type DeliverArgs, type DeliveryResult, deliveryResultOf } from "./lib/pipeline/channel";
import { createSenderHandler, senderSetup } from "./lib/sender";
import { createTelemetry } from "./lib/telemetry";

export function emailSender() {
    const telemetry = createTelemetry();
    const ses = new SESv2Client(providerClientConfig());
    const env = readEnvironment(EMAIL_ENV);
    return createSenderHandler(senderSetup("email", telemetry), {
        composer: emailComposer,
        // The e-mail composer ignores the previous row: the claim alone finds one already sent.
        readsPreviousRows: false,
        deliver: (args) => deliverEmail(args, ses, env.sesFromAddress, env.sesConfigurationSet),
    });
}

export async function deliverEmail(
    args: DeliverArgs<EmailDelivery>,
    ses: SESv2Client,
    from: string,
    configurationSet: string,
): Promise<DeliveryResult> {
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
        { minRemainingMs: SEND_TIME_GUARD_MS, uncertainResends: args.uncertainResends },
    );
    // SES NotFoundException is a missing configuration set, not a gone recipient: operational, retried.
    return deliveryResultOf(result);
}
