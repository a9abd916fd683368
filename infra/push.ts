import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";
import { DeliveryStatusLogging } from "./deliveryStatusLogging";

export interface PushArgs {
    /** The stack name: it names the platform applications. */
    stack: string;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    /** Endpoint deleted/updated and delivery-failure events go here, for the feedback processor. */
    feedbackTopicArn: pulumi.Input<string>;
    push: PlatformConfig["push"];
}

/**
 * SNS mobile push: one platform application per platform whose credentials the stack has (APNs with
 * token auth, FCM HTTP v1), each sending its endpoint events to the feedback topic and logging delivery
 * status through a dedicated role. A platform without credentials is switched off, with a warning, so
 * a new stack previews and deploys before anyone has the keys.
 */
export class Push extends pulumi.ComponentResource {
    public readonly apnsApplication?: aws.sns.PlatformApplication;
    public readonly fcmApplication?: aws.sns.PlatformApplication;
    public readonly deliveryStatusLogging?: DeliveryStatusLogging;

    constructor(name: string, args: PushArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:push:Push", name, {}, opts);
        const { apns, fcm, apnsPlatform, deliveryStatusSamplePercent } = args.push;
        const { stack } = args;
        const apnsName = `notify-${stack}-ios`;
        const fcmName = `notify-${stack}-android`;

        if (!apns) {
            pulumi.log.warn(
                `iOS push is switched off: stack '${stack}' has no APNs credentials (set notify:apnsSigningKey --secret, apnsKeyId, apnsTeamId, apnsBundleId)`,
                this,
            );
        }
        if (!fcm) {
            pulumi.log.warn(
                `Android push is switched off: stack '${stack}' has no FCM credentials (set notify:fcmServiceAccountJson --secret)`,
                this,
            );
        }
        if (!apns && !fcm) {
            this.registerOutputs({});
            return;
        }

        const suffixes = [...(apns ? [`app/${apnsPlatform}/${apnsName}`] : []), ...(fcm ? [`app/GCM/${fcmName}`] : [])];
        this.deliveryStatusLogging = new DeliveryStatusLogging(
            `${name}-delivery-status`,
            { kmsKeyArn: args.kmsKeyArn, logRetentionDays: args.logRetentionDays, logGroupSuffixes: suffixes },
            { parent: this },
        );
        const events = {
            eventDeliveryFailureTopicArn: args.feedbackTopicArn,
            eventEndpointDeletedTopicArn: args.feedbackTopicArn,
            eventEndpointUpdatedTopicArn: args.feedbackTopicArn,
            successFeedbackRoleArn: this.deliveryStatusLogging.role.arn,
            failureFeedbackRoleArn: this.deliveryStatusLogging.role.arn,
            successFeedbackSampleRate: String(deliveryStatusSamplePercent),
        };

        if (apns) {
            // Token-based auth: the .p8 signing key is the credential, its key id the principal. Tokens
            // never expire like certificates do, and one key serves every app of the team.
            this.apnsApplication = new aws.sns.PlatformApplication(
                `${name}-apns`,
                {
                    name: apnsName,
                    platform: apnsPlatform,
                    platformCredential: apns.signingKey,
                    platformPrincipal: apns.keyId,
                    applePlatformTeamId: apns.teamId,
                    applePlatformBundleId: apns.bundleId,
                    ...events,
                },
                { parent: this },
            );
        }
        if (fcm) {
            // FCM HTTP v1: platform GCM with the service-account JSON as the credential.
            this.fcmApplication = new aws.sns.PlatformApplication(
                `${name}-fcm`,
                { name: fcmName, platform: "GCM", platformCredential: fcm.serviceAccountJson, ...events },
                { parent: this },
            );
        }
        this.registerOutputs({
            apnsApplicationArn: this.apnsApplication?.arn,
            fcmApplicationArn: this.fcmApplication?.arn,
        });
    }
}
