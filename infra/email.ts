import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface EmailArgs {
    /** Domain verified with Easy DKIM that notifications are sent from. */
    senderDomain: string;
    /** Name of the configuration set every send uses (Messaging's feedback topic policy names it too). */
    configurationSetName: string;
    /** SES publishes the set's events here for the feedback processor. */
    feedbackTopicArn: pulumi.Input<string>;
}

/** The SES events the feedback processor acts on: each changes a delivery-log row or the suppression state. */
export const SES_EVENT_TYPES = [
    "SEND",
    "DELIVERY",
    "BOUNCE",
    "COMPLAINT",
    "REJECT",
    "DELIVERY_DELAY",
    "RENDERING_FAILURE",
];

/**
 * SES v2 sending: the domain identity with Easy DKIM (2048-bit) and a custom MAIL FROM domain for DMARC
 * alignment, and the configuration set every send names — TLS required, reputation metrics on (the
 * bounce and complaint alarms read them), bounces and complaints added to the account suppression list,
 * and every delivery event published to the feedback topic.
 */
export class Email extends pulumi.ComponentResource {
    public readonly identity: aws.sesv2.EmailIdentity;
    public readonly configurationSet: aws.sesv2.ConfigurationSet;
    /** The three CNAME records to publish in the domain's DNS for DKIM. */
    public readonly dkimRecords: pulumi.Output<{ name: string; type: string; value: string }[]>;

    constructor(name: string, args: EmailArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:email:Email", name, {}, opts);

        this.configurationSet = new aws.sesv2.ConfigurationSet(
            `${name}-configuration-set`,
            {
                configurationSetName: args.configurationSetName,
                deliveryOptions: { tlsPolicy: "REQUIRE" },
                reputationOptions: { reputationMetricsEnabled: true },
                sendingOptions: { sendingEnabled: true },
                suppressionOptions: { suppressedReasons: ["BOUNCE", "COMPLAINT"] },
            },
            { parent: this },
        );
        new aws.sesv2.ConfigurationSetEventDestination(
            `${name}-feedback-events`,
            {
                configurationSetName: this.configurationSet.configurationSetName,
                eventDestinationName: "feedback-topic",
                eventDestination: {
                    enabled: true,
                    matchingEventTypes: SES_EVENT_TYPES,
                    snsDestination: { topicArn: args.feedbackTopicArn },
                },
            },
            { parent: this },
        );
        this.identity = new aws.sesv2.EmailIdentity(
            `${name}-identity`,
            {
                emailIdentity: args.senderDomain,
                configurationSetName: this.configurationSet.configurationSetName,
                dkimSigningAttributes: { nextSigningKeyLength: "RSA_2048_BIT" },
            },
            { parent: this },
        );
        new aws.sesv2.EmailIdentityMailFromAttributes(
            `${name}-mail-from`,
            {
                emailIdentity: this.identity.emailIdentity,
                mailFromDomain: `mail.${args.senderDomain}`,
                behaviorOnMxFailure: "USE_DEFAULT_VALUE",
            },
            { parent: this },
        );
        this.dkimRecords = this.identity.dkimSigningAttributes.apply((attrs) =>
            (attrs?.tokens ?? []).map((token) => ({
                name: `${token}._domainkey.${args.senderDomain}`,
                type: "CNAME",
                value: `${token}.dkim.amazonses.com`,
            })),
        );
        this.registerOutputs({
            identityArn: this.identity.arn,
            configurationSetName: this.configurationSet.configurationSetName,
            dkimRecords: this.dkimRecords,
        });
    }
}
