import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { POWERTOOLS_PACKAGES, powertoolsLayerArn } from "./powertools";

/** An SQS queue the processor consumes, with partial batch responses. */
export interface QueueSource {
    queueArn: pulumi.Input<string>;
    batchSize: number;
    batchingWindowSeconds: number;
    /** ScalingConfig.MaximumConcurrency (2-1000): caps the invocations this queue can drive. */
    maxConcurrency: number;
}

/** A DynamoDB stream the processor consumes. */
export interface StreamSource {
    streamArn: pulumi.Input<string>;
    /** Failed batches, after retries, are described in this SQS queue (the records stay in the stream). */
    onFailureQueueArn: pulumi.Input<string>;
    /** Lambda event filter patterns (JSON strings); only matching records invoke the function. */
    filterPatterns?: string[];
}

export interface ProcessorArgs {
    /** The stack's name (log group names carry it); passed in, not read from the engine, like every global. */
    stack: string;
    description: string;
    /** Runs once per cold start and returns the handler: create SDK clients, loggers and metrics here. */
    // biome-ignore lint/suspicious/noExplicitAny: each processor has its own event and result types
    callbackFactory: aws.lambda.CallbackFactory<any, any>;
    /** The function's permissions besides its own logs, the stack key, tracing and its event source. */
    statements: pulumi.Input<aws.iam.PolicyStatement>[];
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    memorySizeMb: number;
    timeoutSeconds: number;
    environment: Record<string, pulumi.Input<string>>;
    reservedConcurrency?: number;
    queue?: QueueSource;
    stream?: StreamSource;
}

/**
 * One Lambda processor: a magic function (CallbackFunction) with its own least-privilege role, its
 * own KMS-encrypted log group and, where it reads one, its event source mapping.
 */
export class Processor extends pulumi.ComponentResource {
    // biome-ignore lint/suspicious/noExplicitAny: see callbackFactory
    public readonly function: aws.lambda.CallbackFunction<any, any>;
    public readonly role: aws.iam.Role;
    public readonly logGroup: aws.cloudwatch.LogGroup;
    public readonly eventSourceMapping?: aws.lambda.EventSourceMapping;

    constructor(name: string, args: ProcessorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:processors:Processor", name, {}, opts);

        this.logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            {
                name: `/notify/${args.stack}/${name}`,
                retentionInDays: args.logRetentionDays,
                kmsKeyId: args.kmsKeyArn,
            },
            { parent: this },
        );
        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `Execution role of the ${name} processor`,
                assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" }),
            },
            { parent: this },
        );
        const policy = new aws.iam.RolePolicy(
            `${name}-policy`,
            {
                role: this.role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        ...ownStatements(this.logGroup, args.kmsKeyArn),
                        ...sourceStatements(args),
                        ...args.statements,
                    ],
                }),
            },
            { parent: this },
        );
        this.function = this.createFunction(name, args, policy);
        this.eventSourceMapping = this.createEventSource(name, args, policy);

        this.registerOutputs({
            functionName: this.function.name,
            functionArn: this.function.arn,
            roleArn: this.role.arn,
            logGroupName: this.logGroup.name,
        });
    }

    private createFunction(name: string, args: ProcessorArgs, policy: aws.iam.RolePolicy) {
        const region = aws.getRegionOutput({}, { parent: this }).region;
        return new aws.lambda.CallbackFunction(
            `${name}-fn`,
            {
                description: args.description,
                callbackFactory: args.callbackFactory,
                role: this.role,
                runtime: aws.lambda.Runtime.NodeJS22dX,
                architectures: ["arm64"],
                memorySize: args.memorySizeMb,
                timeout: args.timeoutSeconds,
                kmsKeyArn: args.kmsKeyArn,
                reservedConcurrentExecutions: args.reservedConcurrency,
                environment: { variables: args.environment },
                loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
                tracingConfig: { mode: "Active" },
                // Powertools Logger and Metrics, resolved at run time from /opt/nodejs/node_modules.
                layers: [region.apply(powertoolsLayerArn)],
                // The archive gets only the serialized closure: no package from `dependencies` (the
                // Pulumi SDK is not a runtime dependency, nodejs22.x already ships AWS SDK v3, and the
                // Powertools layer provides Powertools).
                codePathOptions: { extraExcludePackages: archiveExcludedPackages() },
            },
            // The role's policy must exist before the function can be invoked with it.
            { parent: this, dependsOn: [policy, this.logGroup] },
        );
    }

    private createEventSource(name: string, args: ProcessorArgs, policy: aws.iam.RolePolicy) {
        if (args.queue) {
            return new aws.lambda.EventSourceMapping(
                `${name}-queue-source`,
                {
                    eventSourceArn: args.queue.queueArn,
                    functionName: this.function.arn,
                    batchSize: args.queue.batchSize,
                    maximumBatchingWindowInSeconds: args.queue.batchingWindowSeconds,
                    functionResponseTypes: ["ReportBatchItemFailures"],
                    scalingConfig: { maximumConcurrency: args.queue.maxConcurrency },
                },
                { parent: this, dependsOn: [policy] },
            );
        }
        if (args.stream) {
            return new aws.lambda.EventSourceMapping(
                `${name}-stream-source`,
                {
                    eventSourceArn: args.stream.streamArn,
                    functionName: this.function.arn,
                    startingPosition: "LATEST",
                    batchSize: 100,
                    maximumBatchingWindowInSeconds: 1,
                    functionResponseTypes: ["ReportBatchItemFailures"],
                    bisectBatchOnFunctionError: true,
                    maximumRetryAttempts: 5,
                    maximumRecordAgeInSeconds: 3600,
                    destinationConfig: { onFailure: { destinationArn: args.stream.onFailureQueueArn } },
                    filterCriteria: args.stream.filterPatterns
                        ? { filters: args.stream.filterPatterns.map((pattern) => ({ pattern })) }
                        : undefined,
                },
                { parent: this, dependsOn: [policy] },
            );
        }
        return undefined;
    }
}

/** What every processor may do: write its own logs, use the stack key, write traces. */
function ownStatements(
    logGroup: aws.cloudwatch.LogGroup,
    kmsKeyArn: pulumi.Input<string>,
): pulumi.Input<aws.iam.PolicyStatement>[] {
    return [
        {
            Sid: "WriteOwnLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: pulumi.interpolate`${logGroup.arn}:*`,
        },
        {
            // The environment is encrypted with the stack key, and every processor reads or writes
            // data (queues, topics, tables) encrypted with it; the key policy only honours these
            // calls when they come through the platform's services.
            Sid: "UseStackKey",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: kmsKeyArn,
        },
        {
            // Active tracing; X-Ray has no resource-level permissions: these two actions require "*".
            Sid: "WriteTraces",
            Effect: "Allow",
            Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            Resource: "*",
        },
    ];
}

/** What reading the processor's event source takes (queue or stream). */
function sourceStatements(args: ProcessorArgs): pulumi.Input<aws.iam.PolicyStatement>[] {
    if (args.queue) {
        return [
            {
                Sid: "ConsumeQueue",
                Effect: "Allow",
                Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                Resource: args.queue.queueArn,
            },
        ];
    }
    if (args.stream) {
        return [
            {
                Sid: "ReadStream",
                Effect: "Allow",
                Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                Resource: args.stream.streamArn,
            },
            {
                // The event source lists the table's streams; ListStreams has no resource-level
                // permission (Service Authorization Reference), so IAM only evaluates it against "*".
                Sid: "ListStreams",
                Effect: "Allow",
                Action: ["dynamodb:ListStreams"],
                Resource: "*",
            },
            {
                Sid: "ReportFailedBatches",
                Effect: "Allow",
                Action: ["sqs:SendMessage"],
                Resource: args.stream.onFailureQueueArn,
            },
        ];
    }
    return [];
}

/**
 * Every package in this project's `dependencies`, and Powertools (whose commons is a dependency of a
 * dependency): none of them belongs in a function archive.
 */
export function archiveExcludedPackages(): string[] {
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
    return [...new Set([...Object.keys(manifest.dependencies ?? {}), ...POWERTOOLS_PACKAGES])];
}
