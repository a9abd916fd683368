/**
 * Operational hygiene: pinned, supported Lambda runtimes; a DLQ behind every SQS queue a function
 * consumes; log retention; S3 public access fully blocked; TLS-only access to buckets, topics and queues.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { parseStatements, isWildcardPrincipal } from "./iam";
import { bucketKeys, bucketTypes, resourcesReferring } from "./lib/links";
import { globToRegExp, parseMaybeJson, peek } from "./lib/values";

/**
 * Runtimes AWS supports as of 2026-11 and that this platform accepts (nodejs20.x reached end of
 * support on 2026-04-30; see https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).
 */
export const defaultAllowedRuntimes = [
    "nodejs22.x",
    "nodejs24.x",
    "python3.12",
    "python3.13",
    "python3.14",
    "java21",
    "provided.al2023",
];

export const lambdaRuntime: ResourceValidationPolicy = {
    name: "lambda-runtime-pinned",
    description:
        "Every Lambda function sets its runtime explicitly to a supported one, and does not ignore runtime changes.",
    severity: "medium",
    remediationSteps:
        "Set `runtime` (e.g. aws.lambda.Runtime.NodeJS22dX) on the function or CallbackFunction: without it CallbackFunction " +
        'picks the SDK default and adds ignoreChanges: ["runtime"], so the deployed runtime silently ages.',
    configSchema: {
        properties: {
            allowedRuntimes: { type: "array", items: { type: "string" }, default: defaultAllowedRuntimes },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== "aws:lambda/function:Function") {
            args.notApplicable();
        }
        const packageType = peek(args.props, "packageType");
        if (packageType.known && packageType.value === "Image") {
            args.notApplicable("container images carry their own runtime");
        }
        const allowed = args.getConfig<{ allowedRuntimes?: string[] }>().allowedRuntimes ?? defaultAllowedRuntimes;
        const runtime = peek(args.props, "runtime");
        if (!runtime.present) {
            reportViolation("runtime is not set.");
        } else if (runtime.known && !allowed.includes(runtime.value)) {
            reportViolation(`runtime ${runtime.value} is not one of the supported runtimes (${allowed.join(", ")}).`);
        }
        if ((args.opts?.ignoreChanges ?? []).includes("runtime")) {
            reportViolation('ignoreChanges includes "runtime" (CallbackFunction adds it when no runtime is given).');
        }
    },
};

export const logGroupRetention: ResourceValidationPolicy = {
    name: "log-group-retention",
    description: "Every CloudWatch log group has a retention period (logs are not kept forever).",
    severity: "low",
    remediationSteps: "Set retentionInDays on the aws.cloudwatch.LogGroup (the stack's logRetentionDays config).",
    configSchema: {
        properties: {
            maxDays: { type: "integer", minimum: 1, default: 3653, description: "Longest retention accepted." },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== "aws:cloudwatch/logGroup:LogGroup") {
            args.notApplicable();
        }
        const maxDays = args.getConfig<{ maxDays?: number }>().maxDays ?? 3653;
        const retention = peek(args.props, "retentionInDays");
        if (!retention.present || (retention.known && retention.value === 0)) {
            reportViolation("retentionInDays is not set: the logs never expire.");
        } else if (retention.known && retention.value > maxDays) {
            reportViolation(`retentionInDays ${retention.value} exceeds the ${maxDays} days allowed.`);
        }
    },
};

const queueType = "aws:sqs/queue:Queue";
const eventSourceMappingType = "aws:lambda/eventSourceMapping:EventSourceMapping";

/** The queue an event source mapping reads, if it reads one of the stack's queues. */
function consumedQueue(mapping: PolicyResource, resources: PolicyResource[]): PolicyResource | undefined {
    const byDependency = (mapping.propertyDependencies?.eventSourceArn ?? []).find((r) => r.type === queueType);
    if (byDependency) {
        return byDependency;
    }
    const arn = peek(mapping.props, "eventSourceArn");
    if (arn.known && typeof arn.value === "string") {
        return resources.find((r) => r.type === queueType && peek(r.props, "arn").value === arn.value);
    }
    return undefined;
}

/** The problem with a queue's redrive policy, if any. */
export function redriveProblem(queue: PolicyResource, minReceiveCount: number): string | undefined {
    const redrive = peek(queue.props, "redrivePolicy");
    if (!redrive.present) {
        return "has no redrivePolicy: messages the function keeps failing on are retried until they expire and are lost";
    }
    if (!redrive.known) {
        return undefined;
    }
    const parsed = parseMaybeJson(redrive.value) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    if (typeof parsed !== "object" || parsed === null || !parsed.deadLetterTargetArn) {
        return "has a redrivePolicy without deadLetterTargetArn";
    }
    const count = Number(parsed.maxReceiveCount);
    if (!Number.isFinite(count) || count < minReceiveCount) {
        return `has maxReceiveCount ${String(parsed.maxReceiveCount)}; use at least ${minReceiveCount} so throttled batches are not dead-lettered`;
    }
    return undefined;
}

export const sqsConsumerDlq: StackValidationPolicy = {
    name: "sqs-consumer-dlq",
    description:
        "Every SQS queue a Lambda function consumes has a dead-letter queue (redrive policy) with maxReceiveCount >= 5.",
    severity: "high",
    remediationSteps:
        "Create a DLQ (encrypted like its source) and set the source queue's redrivePolicy { deadLetterTargetArn, maxReceiveCount: 5 }.",
    configSchema: {
        properties: { minReceiveCount: { type: "integer", minimum: 1, default: 5 } },
    },
    validateStack: (args, reportViolation) => {
        const minReceiveCount = args.getConfig<{ minReceiveCount?: number }>().minReceiveCount ?? 5;
        const mappings = args.resources.filter((r) => r.type === eventSourceMappingType);
        if (mappings.length === 0) {
            args.notApplicable("no event source mappings");
        }
        const reported = new Set<string>();
        for (const mapping of mappings) {
            const queue = consumedQueue(mapping, args.resources);
            if (!queue || reported.has(queue.urn)) {
                continue;
            }
            const problem = redriveProblem(queue, minReceiveCount);
            if (problem) {
                reported.add(queue.urn);
                reportViolation(`Queue consumed by ${mapping.name} ${problem}.`, queue.urn);
            }
        }
    },
};

const publicAccessBlockType = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const publicAccessFlags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

export const s3PublicAccessBlocked: StackValidationPolicy = {
    name: "s3-public-access-blocked",
    description: "Every S3 bucket has a public access block with all four settings on.",
    severity: "high",
    remediationSteps:
        "Add an aws.s3.BucketPublicAccessBlock (bucket: bucket.id) with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true.",
    validateStack: (args, reportViolation) => {
        const buckets = args.resources.filter((r) => bucketTypes.includes(r.type));
        if (buckets.length === 0) {
            args.notApplicable("no S3 buckets");
        }
        for (const bucket of buckets) {
            const blocks = resourcesReferring(args.resources, [publicAccessBlockType], "bucket", bucket, bucketKeys);
            if (blocks.length === 0) {
                reportViolation("No BucketPublicAccessBlock refers to this bucket.", bucket.urn);
                continue;
            }
            const complete = blocks.some((b) =>
                publicAccessFlags.every((flag) => {
                    const v = peek(b.props, flag);
                    return v.present && (!v.known || v.value === true);
                }),
            );
            if (!complete) {
                const off = publicAccessFlags.filter((flag) => !blocks.some((b) => peek(b.props, flag).value === true));
                reportViolation(`The public access block leaves ${off.join(", ")} off.`, bucket.urn);
            }
        }
    },
};

/**
 * The actions a TLS-only Deny must cover, per service, following AWS's own guidance:
 *   - S3 (s3-bucket-ssl-requests-only / Security Hub S3.5) and SQS (SQS developer guide, "enforce
 *     encryption of data in transit"): every action, "s3:*" / "sqs:*".
 *   - SNS (SNS developer guide, "Enforce encryption of data in transit"): the data path, sns:Publish;
 *     a broader Deny ("sns:*", "*") covers it too.
 */
const tlsDeniedActions: Record<string, string[]> = { s3: ["s3:*"], sqs: ["sqs:*"], sns: ["sns:Publish"] };

/**
 * True if a document denies non-TLS requests: a Deny for any principal, covering the service's
 * required actions (see above), on `aws:SecureTransport` = false.
 */
export function deniesInsecureTransport(document: unknown, service: string): boolean {
    let statements: ReturnType<typeof parseStatements>;
    try {
        statements = parseStatements(document);
    } catch {
        return false;
    }
    const required = tlsDeniedActions[service] ?? ["*"];
    return statements.some((s) => {
        if (s.effect !== "Deny" || !isWildcardPrincipal(s.principal)) {
            return false;
        }
        if (!required.every((action) => s.action.some((a) => globToRegExp(a, true).test(action)))) {
            return false;
        }
        return Object.entries(s.condition ?? {}).some(
            ([operator, tests]) =>
                /^Bool(IfExists)?$/.test(operator) &&
                Object.entries(tests ?? {}).some(
                    ([key, value]) =>
                        key.toLowerCase() === "aws:securetransport" && String(value).toLowerCase() === "false",
                ),
        );
    });
}

interface TlsTarget {
    types: string[];
    service: string;
    policyType: string;
    /** The policy resource's input that names the target, and the target's inputs it may equal. */
    property: string;
    targetKeys: string[];
}

const tlsTargets: TlsTarget[] = [
    {
        types: bucketTypes,
        service: "s3",
        policyType: "aws:s3/bucketPolicy:BucketPolicy",
        property: "bucket",
        targetKeys: bucketKeys,
    },
    {
        types: ["aws:sns/topic:Topic"],
        service: "sns",
        policyType: "aws:sns/topicPolicy:TopicPolicy",
        property: "arn",
        targetKeys: ["arn"],
    },
    {
        types: [queueType],
        service: "sqs",
        policyType: "aws:sqs/queuePolicy:QueuePolicy",
        property: "queueUrl",
        targetKeys: ["url", "id"],
    },
];

export const tlsOnlyAccess: StackValidationPolicy = {
    name: "tls-only-access",
    description: "S3 buckets, SNS topics and SQS queues deny every request not sent over TLS (aws:SecureTransport).",
    severity: "high",
    remediationSteps:
        'Add a Deny statement { Principal: "*", Action: "s3:*" | "sqs:*" | "sns:Publish", Resource: <arn>, ' +
        'Condition: { Bool: { "aws:SecureTransport": "false" } } } to the bucket / queue / topic policy.',
    validateStack: (args, reportViolation) => {
        let applicable = false;
        for (const target of tlsTargets) {
            for (const resource of args.resources.filter((r) => target.types.includes(r.type))) {
                applicable = true;
                const documents: unknown[] = resourcesReferring(
                    args.resources,
                    [target.policyType],
                    target.property,
                    resource,
                    target.targetKeys,
                )
                    .map((p) => peek(p.props, "policy"))
                    .concat([peek(resource.props, "policy")])
                    .filter((p) => p.present)
                    .map((p) => (p.known ? p.value : "<unknown>"));
                if (documents.includes("<unknown>")) {
                    continue; // a document computed during preview: judged at update
                }
                if (!documents.some((d) => deniesInsecureTransport(d, target.service))) {
                    reportViolation(
                        documents.length === 0
                            ? `No ${target.policyType.split(":").pop()} refers to this resource, so nothing denies non-TLS access.`
                            : "Its policy has no Deny on aws:SecureTransport = false.",
                        resource.urn,
                    );
                }
            }
        }
        if (!applicable) {
            args.notApplicable("no buckets, topics or queues");
        }
    },
};
