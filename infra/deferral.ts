import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceRole } from "./serviceRole";

export interface DeferralArgs {
    kmsKeyArn: pulumi.Input<string>;
    /** The channel queues a deferred request is re-delivered to. */
    targetQueueArns: pulumi.Input<string>[];
}

/**
 * Deferred delivery (quiet hours, `sendAt`): the senders create one-time EventBridge Scheduler schedules
 * in this group that put the request back on its channel queue at the right time and then delete
 * themselves. Scheduler rather than an SQS delay: SQS delays stop at 15 minutes, quiet hours last hours.
 * The role Scheduler assumes may only send to the channel queues.
 */
export class Deferral extends pulumi.ComponentResource {
    public readonly scheduleGroup: aws.scheduler.ScheduleGroup;
    public readonly role: aws.iam.Role;

    constructor(name: string, args: DeferralArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:deferral:Deferral", name, {}, opts);
        this.scheduleGroup = new aws.scheduler.ScheduleGroup(`${name}-group`, {}, { parent: this });
        this.role = serviceRole(
            name,
            {
                service: "scheduler.amazonaws.com",
                description: "Lets EventBridge Scheduler re-deliver deferred notification requests",
                statements: [
                    { Sid: "Redeliver", Effect: "Allow", Action: "sqs:SendMessage", Resource: args.targetQueueArns },
                    {
                        Sid: "EncryptRedelivered",
                        Effect: "Allow",
                        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                        Resource: args.kmsKeyArn,
                    },
                ],
            },
            this,
        );
        this.registerOutputs({ scheduleGroupName: this.scheduleGroup.name, roleArn: this.role.arn });
    }
}
