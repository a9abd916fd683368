import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DeliveryStatusLogging } from "./deliveryStatusLogging";

export interface SmsArgs {
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    monthlySpendLimitUsd: number;
    senderId?: string;
    deliveryStatusSamplePercent: number;
}

/**
 * Account-level SMS settings for the region: transactional by default (delivery over price, the right
 * class for notifications), the monthly spend limit from config, the default sender id, and delivery
 * status logged through a dedicated role to encrypted log groups. SMS preferences are one per account
 * and region: two stacks in the same account and region would overwrite each other's.
 */
export class Sms extends pulumi.ComponentResource {
    public readonly preferences: aws.sns.SmsPreferences;

    constructor(name: string, args: SmsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:sms:Sms", name, {}, opts);
        const logging = new DeliveryStatusLogging(
            `${name}-delivery-status`,
            {
                kmsKeyArn: args.kmsKeyArn,
                logRetentionDays: args.logRetentionDays,
                logGroupSuffixes: ["DirectPublishToPhoneNumber"],
            },
            { parent: this },
        );
        this.preferences = new aws.sns.SmsPreferences(
            `${name}-preferences`,
            {
                defaultSmsType: "Transactional",
                monthlySpendLimit: args.monthlySpendLimitUsd,
                defaultSenderId: args.senderId,
                deliveryStatusIamRoleArn: logging.role.arn,
                deliveryStatusSuccessSamplingRate: String(args.deliveryStatusSamplePercent),
            },
            { parent: this },
        );
        this.registerOutputs({ deliveryStatusRoleArn: logging.role.arn });
    }
}
