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

/**
 * The SES events the feedback processor acts on (handlers/core/feedback.ts, parseSesEvent): each changes a
 * delivery-log row or the suppression state. SEND (the sender already wrote SENT) and DELIVERY_DELAY (SES
 * keeps trying) are not published: each would be an SNS → SQS → Lambda round trip per e-mail for nothing.
 */
export const SES_EVENT_TYPES = ["DELIVERY", "BOUNCE", "COMPLAINT", "REJECT", "RENDERING_FAILURE"];

export interface DnsRecord {
    name: string;
    type: string;
    value: string;
}

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
    public readonly dkimRecords: pulumi.Output<DnsRecord[]>;
    /**
     * The MX and SPF TXT records of the custom MAIL FROM domain (`mail.<domain>`): without them SES never
     * verifies it and, with USE_DEFAULT_VALUE, silently sends from amazonses.com (no SPF alignment).
     */
    public readonly mailFromRecords: pulumi.Output<DnsRecord[]>;
    /**
     * A starting DMARC record for the sender domain (monitoring only, `p=none`): DKIM and the MAIL FROM
     * domain align with it; tighten to quarantine/reject once the reports show only SES sending.
     */
    public readonly dmarcRecord: DnsRecord;

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
        const mailFromDomain = `mail.${args.senderDomain}`;
        new aws.sesv2.EmailIdentityMailFromAttributes(
            `${name}-mail-from`,
            {
                emailIdentity: this.identity.emailIdentity,
                mailFromDomain,
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
        // SES's feedback MX is regional: the region the identity lives in.
        const region = aws.getRegionOutput({}, { parent: this }).region;
        this.mailFromRecords = region.apply((r) => mailFromRecords(mailFromDomain, r));
        this.dmarcRecord = {
            name: `_dmarc.${args.senderDomain}`,
            type: "TXT",
            value: `v=DMARC1; p=none; rua=mailto:dmarc-reports@${args.senderDomain}`,
        };
        this.registerOutputs({
            identityArn: this.identity.arn,
            configurationSetName: this.configurationSet.configurationSetName,
            dkimRecords: this.dkimRecords,
            mailFromRecords: this.mailFromRecords,
            dmarcRecord: this.dmarcRecord,
        });
    }
}

/** What SES requires on a custom MAIL FROM domain (SES developer guide, "Using a custom MAIL FROM domain"). */
export function mailFromRecords(mailFromDomain: string, region: string): DnsRecord[] {
    return [
        { name: mailFromDomain, type: "MX", value: `10 feedback-smtp.${region}.amazonses.com` },
        { name: mailFromDomain, type: "TXT", value: "v=spf1 include:amazonses.com ~all" },
    ];
}
