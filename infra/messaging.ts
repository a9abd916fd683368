import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CHANNELS, type Channel } from "../handlers/lib/telemetry-names";
import { denyInsecureTransport } from "./statements";

/** SQS's own limit for redrive is 1; below 5 a brief throttle can dead-letter a healthy message. */
export const MAX_RECEIVE_COUNT = 5;
/** AWS guidance for SQS event sources: visibility timeout at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/**
 * The filter policy of a channel queue's subscription, on the `channels` message attribute (String.Array)
 * that producers set alongside the request body. The queue gets a request that names its channel, names
 * none (the processor then follows the user's preferences), or names a channel the platform does not
 * know (so a processor records it as FAILED with the reason instead of SNS dropping it silently).
 * Attributes rather than the body: SNS silently drops a non-JSON body under a MessageBody-scoped filter,
 * and a malformed request must be recorded, not lost. Processors still treat the body as the truth.
 */
export function channelFilterPolicy(channel: Channel): object {
    return {
        $or: [
            { channels: [channel] },
            { channels: [{ exists: false }] },
            { channels: [{ "anything-but": [...CHANNELS] }] },
        ],
    };
}

export interface WorkQueueArgs {
    kmsKeyArn: pulumi.Input<string>;
    /** Timeout of the function that consumes the queue. */
    consumerTimeoutSeconds: number;
}

/**
 * An SQS queue encrypted with the stack key whose policy denies non-TLS access; `extraStatements` may
 * allow a service to send to it. Used for work queues, dead-letter queues and failure destinations.
 */
export function encryptedQueue(
    name: string,
    kmsKeyArn: pulumi.Input<string>,
    parent: pulumi.Resource,
    queueArgs: aws.sqs.QueueArgs = {},
    extraStatements: (arn: pulumi.Output<string>) => object[] = () => [],
): aws.sqs.Queue {
    const queue = new aws.sqs.Queue(
        name,
        {
            kmsMasterKeyId: kmsKeyArn,
            kmsDataKeyReusePeriodSeconds: 300,
            messageRetentionSeconds: 14 * 24 * 3600, // the maximum: time to inspect and redrive
            ...queueArgs,
        },
        { parent },
    );
    new aws.sqs.QueuePolicy(
        `${name}-policy`,
        {
            queueUrl: queue.url,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [denyInsecureTransport("sqs", queue.arn), ...extraStatements(queue.arn)],
            }),
        },
        { parent },
    );
    return queue;
}

/**
 * A queue a processor consumes, with its own dead-letter queue: both encrypted with the stack key,
 * visibility ≥ 6 × the consumer timeout, redrive after MAX_RECEIVE_COUNT receives, TLS-only policies.
 * `allowSendFromTopicArn` lets that SNS topic deliver to it.
 */
export class WorkQueue extends pulumi.ComponentResource {
    public readonly queue: aws.sqs.Queue;
    public readonly deadLetterQueue: aws.sqs.Queue;

    constructor(
        name: string,
        args: WorkQueueArgs & { allowSendFromTopicArn?: pulumi.Input<string> },
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("notify:messaging:WorkQueue", name, {}, opts);
        this.deadLetterQueue = encryptedQueue(`${name}-dlq`, args.kmsKeyArn, this);
        const topicArn = args.allowSendFromTopicArn;
        this.queue = encryptedQueue(
            name,
            args.kmsKeyArn,
            this,
            {
                visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_FACTOR * args.consumerTimeoutSeconds,
                messageRetentionSeconds: 4 * 24 * 3600,
                receiveWaitTimeSeconds: 20,
                redrivePolicy: pulumi.jsonStringify({
                    deadLetterTargetArn: this.deadLetterQueue.arn,
                    maxReceiveCount: MAX_RECEIVE_COUNT,
                }),
            },
            (arn) =>
                topicArn
                    ? [
                          {
                              Sid: "TopicDelivers",
                              Effect: "Allow",
                              Principal: { Service: "sns.amazonaws.com" },
                              Action: "sqs:SendMessage",
                              Resource: arn,
                              Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
                          },
                      ]
                    : [],
        );
        // The DLQ only takes messages redriven from its own source queue.
        new aws.sqs.RedriveAllowPolicy(
            `${name}-dlq-redrive-allow`,
            {
                queueUrl: this.deadLetterQueue.url,
                redriveAllowPolicy: pulumi.jsonStringify({
                    redrivePermission: "byQueue",
                    sourceQueueArns: [this.queue.arn],
                }),
            },
            { parent: this },
        );
        this.registerOutputs({ queueUrl: this.queue.url, deadLetterQueueUrl: this.deadLetterQueue.url });
    }
}

export interface MessagingArgs {
    kmsKeyArn: pulumi.Input<string>;
    /** Timeout of the channel senders and of the feedback processor. */
    consumerTimeoutSeconds: number;
    /** The SES configuration set whose events SES publishes to the feedback topic. */
    sesConfigurationSetName: string;
}

/**
 * The ingress: one SNS topic producers publish notification requests to, fanned out to one work queue
 * per channel by filter policies on the `channels` message attribute (raw delivery: the queue message is
 * the request itself); and the
 * feedback path: a topic that SES events and SNS platform-endpoint events arrive on, with its queue.
 */
export class Messaging extends pulumi.ComponentResource {
    public readonly ingressTopic: aws.sns.Topic;
    public readonly feedbackTopic: aws.sns.Topic;
    public readonly channelQueues: Record<Channel, WorkQueue>;
    public readonly feedbackQueue: WorkQueue;
    /** Attach to a producer's role: publish requests to the ingress topic, nothing else. */
    public readonly producerPolicy: aws.iam.Policy;

    constructor(name: string, args: MessagingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:messaging:Messaging", name, {}, opts);
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const region = aws.getRegionOutput({}, { parent: this }).region;

        this.ingressTopic = this.encryptedTopic(`${name}-ingress`, "Notification requests", args.kmsKeyArn);
        this.feedbackTopic = this.encryptedTopic(
            `${name}-feedback`,
            "SES and push endpoint events",
            args.kmsKeyArn,
            (arn) => ({
                // SES publishes configuration-set events as the service, for this account's set only.
                Sid: "SesPublishesEvents",
                Effect: "Allow",
                Principal: { Service: "ses.amazonaws.com" },
                Action: "sns:Publish",
                Resource: arn,
                Condition: {
                    StringEquals: { "aws:SourceAccount": account },
                    ArnLike: {
                        "aws:SourceArn": pulumi.interpolate`arn:aws:ses:${region}:${account}:configuration-set/${args.sesConfigurationSetName}`,
                    },
                },
            }),
        );
        this.producerPolicy = this.publishPolicy(`${name}-producer`, args.kmsKeyArn, region);

        const queueArgs = { kmsKeyArn: args.kmsKeyArn, consumerTimeoutSeconds: args.consumerTimeoutSeconds };
        this.channelQueues = Object.fromEntries(
            CHANNELS.map((channel) => [
                channel,
                this.subscribedQueue(`${name}-${channel}`, this.ingressTopic, queueArgs, {
                    filterPolicyScope: "MessageAttributes",
                    filterPolicy: JSON.stringify(channelFilterPolicy(channel)),
                }),
            ]),
        ) as Record<Channel, WorkQueue>;
        this.feedbackQueue = this.subscribedQueue(`${name}-feedback`, this.feedbackTopic, queueArgs);

        this.registerOutputs({
            ingressTopicArn: this.ingressTopic.arn,
            feedbackTopicArn: this.feedbackTopic.arn,
            ...Object.fromEntries(CHANNELS.map((c) => [`${c}QueueUrl`, this.channelQueues[c].queue.url])),
        });
    }

    /** A topic encrypted with the stack key whose policy denies non-TLS access, plus `allow` if given. */
    private encryptedTopic(
        name: string,
        displayName: string,
        kmsKeyArn: pulumi.Input<string>,
        allow?: (arn: pulumi.Output<string>) => object,
    ): aws.sns.Topic {
        const topic = new aws.sns.Topic(name, { kmsMasterKeyId: kmsKeyArn, displayName }, { parent: this });
        new aws.sns.TopicPolicy(
            `${name}-policy`,
            {
                arn: topic.arn,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [denyInsecureTransport("sns", topic.arn), ...(allow ? [allow(topic.arn)] : [])],
                }),
            },
            { parent: this },
        );
        return topic;
    }

    /** A producer's policy: publish requests to the ingress topic, nothing else. */
    private publishPolicy(
        name: string,
        kmsKeyArn: pulumi.Input<string>,
        region: pulumi.Output<string>,
    ): aws.iam.Policy {
        return new aws.iam.Policy(
            name,
            {
                description: "Publish notification requests to the platform's ingress topic",
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "PublishRequests",
                            Effect: "Allow",
                            Action: "sns:Publish",
                            Resource: this.ingressTopic.arn,
                        },
                        {
                            // The topic is encrypted: SNS needs the publisher's permission to use the key.
                            Sid: "EncryptRequests",
                            Effect: "Allow",
                            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                            Resource: kmsKeyArn,
                            Condition: {
                                StringEquals: { "kms:ViaService": pulumi.interpolate`sns.${region}.amazonaws.com` },
                            },
                        },
                    ],
                }),
            },
            { parent: this },
        );
    }

    /** A work queue the topic delivers to (raw delivery: the queue message is the published body). */
    private subscribedQueue(
        name: string,
        topic: aws.sns.Topic,
        queueArgs: WorkQueueArgs,
        filter: Pick<aws.sns.TopicSubscriptionArgs, "filterPolicyScope" | "filterPolicy"> = {},
    ): WorkQueue {
        const workQueue = new WorkQueue(name, { ...queueArgs, allowSendFromTopicArn: topic.arn }, { parent: this });
        new aws.sns.TopicSubscription(
            `${name}-subscription`,
            {
                topic: topic.arn,
                protocol: "sqs",
                endpoint: workQueue.queue.arn,
                rawMessageDelivery: true,
                ...filter,
            },
            { parent: this, dependsOn: [workQueue] },
        );
        return workQueue;
    }
}
