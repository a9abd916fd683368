import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceRole } from "./serviceRole";

export interface CampaignsArgs {
    kmsKeyArn: pulumi.Input<string>;
    /** The campaign runner function the daily schedule invokes. */
    runnerArn: pulumi.Input<string>;
    /** Encrypted queue that receives invocations Scheduler could not deliver after its retries. */
    deadLetterQueueArn: pulumi.Input<string>;
    /** EventBridge Scheduler expression, e.g. cron(0 9 * * ? *). */
    scheduleExpression: string;
    /** IANA time zone the expression is evaluated in (DST handled by Scheduler). */
    timezone: string;
    /** What the daily run sends: the runner receives this plus the scheduled time. */
    campaign: { campaignId: string; template: string; segment: string };
}

/**
 * The daily campaign: a schedule group and a schedule that invokes the campaign runner at the configured
 * time in the configured zone, exactly on time (flexible window off), retried for an hour and then
 * dead-lettered to the runner's failures queue; the schedule passes its own scheduled time so a retried run
 * produces the same notification ids. Scheduler's role may invoke that one function and nothing else.
 */
export class Campaigns extends pulumi.ComponentResource {
    public readonly scheduleGroup: aws.scheduler.ScheduleGroup;
    public readonly schedule: aws.scheduler.Schedule;

    constructor(name: string, args: CampaignsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:campaigns:Campaigns", name, {}, opts);
        this.scheduleGroup = new aws.scheduler.ScheduleGroup(`${name}-group`, {}, { parent: this });
        const role = serviceRole(
            `${name}-scheduler`,
            {
                service: "scheduler.amazonaws.com",
                description: "Lets EventBridge Scheduler invoke the campaign runner",
                statements: [
                    { Sid: "InvokeRunner", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: args.runnerArn },
                    {
                        Sid: "DeadLetter",
                        Effect: "Allow",
                        Action: "sqs:SendMessage",
                        Resource: args.deadLetterQueueArn,
                    },
                    {
                        Sid: "EncryptDeadLetters",
                        Effect: "Allow",
                        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                        Resource: args.kmsKeyArn,
                    },
                ],
            },
            this,
        );

        this.schedule = new aws.scheduler.Schedule(
            `${name}-daily`,
            {
                groupName: this.scheduleGroup.name,
                description: `Daily campaign ${args.campaign.campaignId}`,
                scheduleExpression: args.scheduleExpression,
                scheduleExpressionTimezone: args.timezone,
                flexibleTimeWindow: { mode: "OFF" },
                kmsKeyArn: args.kmsKeyArn,
                state: "ENABLED",
                target: {
                    arn: args.runnerArn,
                    roleArn: role.arn,
                    input: JSON.stringify({ ...args.campaign, scheduledTime: "<aws.scheduler.scheduled-time>" }),
                    retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 5 },
                    deadLetterConfig: { arn: args.deadLetterQueueArn },
                },
            },
            { parent: this, dependsOn: [role] },
        );
        this.registerOutputs({ scheduleArn: this.schedule.arn });
    }
}
