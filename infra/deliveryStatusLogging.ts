import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceRole } from "./serviceRole";

export interface DeliveryStatusLoggingArgs {
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    /**
     * The log group names SNS writes delivery status to, relative to `sns/<region>/<account>/`, e.g.
     * `app/APNS/notify-prod-ios` or `DirectPublishToPhoneNumber`. SNS adds a `/Failure` group for each.
     */
    logGroupSuffixes: pulumi.Input<string>[];
}

/**
 * The IAM role SNS assumes to log delivery status (push or SMS) to CloudWatch Logs, and the log groups it
 * writes to. SNS would create those groups itself — unencrypted and kept forever — so they are created
 * here first, with the stack key and retention, and the role may write to exactly these groups.
 */
export class DeliveryStatusLogging extends pulumi.ComponentResource {
    public readonly role: aws.iam.Role;
    public readonly logGroups: aws.cloudwatch.LogGroup[];

    constructor(name: string, args: DeliveryStatusLoggingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:sns:DeliveryStatusLogging", name, {}, opts);
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const prefix = pulumi.interpolate`sns/${region}/${account}/`;

        this.logGroups = args.logGroupSuffixes.flatMap((suffix, i) =>
            ["", "/Failure"].map(
                (outcome) =>
                    new aws.cloudwatch.LogGroup(
                        `${name}-${i}${outcome ? "-failure" : "-success"}`,
                        {
                            name: pulumi.interpolate`${prefix}${suffix}${outcome}`,
                            retentionInDays: args.logRetentionDays,
                            kmsKeyId: args.kmsKeyArn,
                        },
                        { parent: this },
                    ),
            ),
        );

        this.role = serviceRole(
            name,
            {
                service: "sns.amazonaws.com",
                description: "Lets SNS log delivery status to its pre-created, encrypted log groups",
                statements: [
                    {
                        Sid: "WriteDeliveryStatusLogs",
                        Effect: "Allow",
                        // SNS calls CreateLogGroup before writing; on these pre-created groups it is a no-op.
                        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                        Resource: this.logGroups.flatMap((g) => [g.arn, pulumi.interpolate`${g.arn}:*`]),
                    },
                ],
            },
            this,
        );
        this.registerOutputs({ roleArn: this.role.arn });
    }
}
