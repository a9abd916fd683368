/**
 * Encryption at rest with a customer-managed KMS key (CMK): the stack's key, not the AWS-managed
 * `alias/aws/<service>` keys (whose key policy the stack cannot restrict) and not AWS-owned keys.
 *
 * A key reference that is unknown during preview is accepted: it is computed from another resource
 * (the stack's key), and an AWS-managed alias is always a literal string.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { bucketKeys, bucketTypes, resourcesReferring } from "./lib/links";
import { asArray, isSetString, peek, peekPath, type Peeked } from "./lib/values";
import { globToRegExp } from "./lib/values";

/** `alias/aws/sns`, `arn:aws:kms:eu-west-1:123:alias/aws/sqs`, ... */
export function isAwsManagedKeyReference(value: string): boolean {
    return /(^|:)alias\/aws\//.test(value);
}

/**
 * A set, customer-managed key reference, or the reason it is not one. `fallback` names what the
 * service uses when the key is left out (an AWS-managed or AWS-owned key), so the message says what
 * the resource would really be encrypted with.
 */
function cmkProblem(p: Peeked, what: string, fallback?: string): string | undefined {
    if (!isSetString(p)) {
        return `${what} is not set${fallback ? ` (${fallback})` : ""}`;
    }
    if (p.known && isAwsManagedKeyReference(p.value)) {
        return `${what} is the AWS-managed key ${p.value}, not the stack's customer-managed key`;
    }
    return undefined;
}

export interface EncryptionConfig {
    /** Resource-name globs of queues allowed to use SSE-SQS (SQS-owned keys) instead of the CMK. */
    sseSqsAllowed?: string[];
}

type Check = (props: any, config: EncryptionConfig, name: string) => string[];

const checks: Record<string, Check> = {
    "aws:sns/topic:Topic": (props) => compact([cmkProblem(peek(props, "kmsMasterKeyId"), "kmsMasterKeyId")]),

    "aws:sqs/queue:Queue": (props, config, name) => {
        const cmk = cmkProblem(peek(props, "kmsMasterKeyId"), "kmsMasterKeyId");
        if (!cmk) {
            return [];
        }
        const sseSqs = peek(props, "sqsManagedSseEnabled");
        // SQS turns SSE-SQS on by default when no KMS key is set; it counts only where config allows it.
        const allowed = (config.sseSqsAllowed ?? []).some((glob) => globToRegExp(glob).test(name));
        if (allowed && (!sseSqs.present || sseSqs.value !== false)) {
            return [];
        }
        return [
            `${cmk}${allowed ? " and sqsManagedSseEnabled is false" : " (SSE-SQS is not allowed for this queue by the policy config)"}`,
        ];
    },

    "aws:dynamodb/table:Table": (props) => {
        const enabled = peekPath(props, "serverSideEncryption", "enabled");
        if (!enabled.present || (enabled.known && enabled.value !== true)) {
            return ["serverSideEncryption.enabled is not true (the table would use an AWS-owned key)"];
        }
        return compact([
            cmkProblem(peekPath(props, "serverSideEncryption", "kmsKeyArn"), "serverSideEncryption.kmsKeyArn"),
        ]);
    },

    "aws:cloudwatch/logGroup:LogGroup": (props) => compact([cmkProblem(peek(props, "kmsKeyId"), "kmsKeyId")]),

    "aws:lambda/function:Function": (props) => {
        const variables = peekPath(props, "environment", "variables");
        const hasVariables = variables.present && (!variables.known || Object.keys(variables.value).length > 0);
        if (!hasVariables) {
            return [];
        }
        return compact([cmkProblem(peek(props, "kmsKeyArn"), "kmsKeyArn (environment variables)")]);
    },

    "aws:scheduler/schedule:Schedule": (props) => compact([cmkProblem(peek(props, "kmsKeyArn"), "kmsKeyArn")]),

    "aws:pipes/pipe:Pipe": (props) => compact([cmkProblem(peek(props, "kmsKeyIdentifier"), "kmsKeyIdentifier")]),

    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (props) => {
        const problems: string[] = [];
        // With a Kinesis stream as source the stream's own encryption applies and Firehose rejects SSE.
        if (!peek(props, "kinesisSourceConfiguration").present) {
            const enabled = peekPath(props, "serverSideEncryption", "enabled");
            const keyType = peekPath(props, "serverSideEncryption", "keyType");
            if (!enabled.present || (enabled.known && enabled.value !== true)) {
                problems.push("serverSideEncryption.enabled is not true");
            } else if (!keyType.present || (keyType.known && keyType.value !== "CUSTOMER_MANAGED_CMK")) {
                problems.push('serverSideEncryption.keyType is not "CUSTOMER_MANAGED_CMK"');
            } else {
                const key = cmkProblem(
                    peekPath(props, "serverSideEncryption", "keyArn"),
                    "serverSideEncryption.keyArn",
                );
                if (key) {
                    problems.push(key);
                }
            }
        }
        for (const destination of ["extendedS3Configuration", "s3Configuration"]) {
            const config = peek(props, destination);
            if (config.present && config.known) {
                const key = cmkProblem(peek(config.value, "kmsKeyArn"), `${destination}.kmsKeyArn`);
                if (key) {
                    problems.push(key);
                }
            }
        }
        return problems;
    },
};

/**
 * Stores beyond the platform's own, as public programs use them. Property names are those of the
 * @pulumi/aws 7.48 input types; each message names what AWS uses when no key is given.
 */
const storeChecks: Record<string, Check> = {
    "aws:secretsmanager/secret:Secret": (props) =>
        compact([
            cmkProblem(
                peek(props, "kmsKeyId"),
                "kmsKeyId",
                "Secrets Manager would use the AWS-managed key aws/secretsmanager",
            ),
        ]),

    "aws:ecr/repository:Repository": (props) => {
        const configs = peek(props, "encryptionConfigurations");
        if (!configs.known) {
            return []; // computed during preview: judged at the update
        }
        const config = asArray(configs.value)[0];
        const type = peek(config, "encryptionType");
        if (!type.present || (type.known && type.value !== "KMS")) {
            return [
                'encryptionConfigurations[0].encryptionType is not "KMS" (ECR would use AES256, S3-managed keys owned by AWS)',
            ];
        }
        return compact([
            cmkProblem(
                peek(config, "kmsKey"),
                "encryptionConfigurations[0].kmsKey",
                "ECR would use the AWS-managed key aws/ecr",
            ),
        ]);
    },

    "aws:ssm/parameter:Parameter": (props) => {
        const type = peek(props, "type");
        if (type.known && type.value !== "SecureString") {
            return []; // String and StringList parameters are not encrypted at all: nothing to key
        }
        return compact([
            cmkProblem(peek(props, "keyId"), "keyId (SecureString)", "SSM would use the AWS-managed key alias/aws/ssm"),
        ]);
    },

    "aws:kinesis/stream:Stream": (props) => {
        const type = peek(props, "encryptionType");
        if (!type.present || (type.known && type.value !== "KMS")) {
            return ['encryptionType is not "KMS" (the default NONE leaves the stream unencrypted)'];
        }
        return compact([
            cmkProblem(
                peek(props, "kmsKeyId"),
                "kmsKeyId",
                "Kinesis requires one with KMS; alias/aws/kinesis would be the AWS-managed key",
            ),
        ]);
    },

    "aws:athena/workgroup:Workgroup": (props) => {
        const managed = peekPath(props, "configuration", "managedQueryResultsConfiguration");
        const results = peekPath(props, "configuration", "resultConfiguration", "encryptionConfiguration");
        if (!managed.known || !results.known) {
            return []; // computed during preview: judged at the update
        }
        const managedOn = peek(managed.value, "enabled");
        if (managed.present && managed.known && managedOn.known && managedOn.value === true) {
            return compact([
                cmkProblem(
                    peekPath(managed.value, "encryptionConfiguration", "kmsKey"),
                    "configuration.managedQueryResultsConfiguration.encryptionConfiguration.kmsKey",
                    "Athena would use an AWS-owned key",
                ),
            ]);
        }
        const at = "configuration.resultConfiguration.encryptionConfiguration";
        const encryption = results;
        const option = peek(encryption.value, "encryptionOption");
        if (
            !encryption.present ||
            !option.present ||
            (option.known && !["SSE_KMS", "CSE_KMS"].includes(option.value))
        ) {
            return [
                `${at}.encryptionOption is not SSE_KMS or CSE_KMS (query results would get the output bucket's default, SSE-S3 with AWS-owned keys)`,
            ];
        }
        return compact([cmkProblem(peek(encryption.value, "kmsKeyArn"), `${at}.kmsKeyArn`)]);
    },

    "aws:efs/fileSystem:FileSystem": (props) =>
        flagAndKey(
            props,
            "encrypted",
            "the file system would be unencrypted",
            "kmsKeyId",
            "EFS would use the AWS-managed key aws/elasticfilesystem",
        ),

    "aws:rds/instance:Instance": (props) => {
        // A read replica inherits its source's encryption; only a literal AWS-managed key is judged.
        if (peek(props, "replicateSourceDb").present) {
            return compact([
                peek(props, "kmsKeyId").present ? cmkProblem(peek(props, "kmsKeyId"), "kmsKeyId") : undefined,
            ]);
        }
        return flagAndKey(
            props,
            "storageEncrypted",
            "RDS defaults to unencrypted storage",
            "kmsKeyId",
            "RDS would use the AWS-managed key aws/rds",
        );
    },

    "aws:rds/cluster:Cluster": (props) => {
        const serverless = peek(props, "engineMode");
        // Aurora Serverless v1 clusters are always encrypted; the key is still the question.
        if (serverless.known && serverless.value === "serverless") {
            return compact([
                cmkProblem(peek(props, "kmsKeyId"), "kmsKeyId", "RDS would use the AWS-managed key aws/rds"),
            ]);
        }
        return flagAndKey(
            props,
            "storageEncrypted",
            "Aurora and Multi-AZ clusters default to unencrypted storage",
            "kmsKeyId",
            "RDS would use the AWS-managed key aws/rds",
        );
    },

    "aws:elasticache/replicationGroup:ReplicationGroup": (props) =>
        flagAndKey(
            props,
            "atRestEncryptionEnabled",
            "the default for Redis OSS is off",
            "kmsKeyId",
            "ElastiCache would use a service-owned key",
        ),

    "aws:opensearch/domain:Domain": (props) => domainAtRest(props, "OpenSearch would use the AWS-managed key aws/es"),
    "aws:elasticsearch/domain:Domain": (props) =>
        domainAtRest(props, "OpenSearch would use the AWS-managed key aws/es"),

    "aws:backup/vault:Vault": (props) =>
        compact([
            cmkProblem(peek(props, "kmsKeyArn"), "kmsKeyArn", "AWS Backup would use the AWS-managed key aws/backup"),
        ]),
};

/** A boolean switch that must be true plus a key that must be the stack's (EFS, RDS, ElastiCache). */
function flagAndKey(props: any, flag: string, flagDefault: string, key: string, keyDefault: string): string[] {
    const on = peek(props, flag);
    if (!on.present || (on.known && on.value !== true)) {
        return [`${flag} is not true (${flagDefault})`];
    }
    return compact([cmkProblem(peek(props, key), key, keyDefault)]);
}

function domainAtRest(props: any, keyDefault: string): string[] {
    const enabled = peekPath(props, "encryptAtRest", "enabled");
    if (!enabled.present || (enabled.known && enabled.value !== true)) {
        return ["encryptAtRest.enabled is not true"];
    }
    return compact([cmkProblem(peekPath(props, "encryptAtRest", "kmsKeyId"), "encryptAtRest.kmsKeyId", keyDefault)]);
}

Object.assign(checks, storeChecks);

export const encryptedTypes = Object.keys(checks);

export const encryptionAtRest: ResourceValidationPolicy = {
    name: "encryption-at-rest-cmk",
    description:
        "Data at rest is encrypted with the stack's customer-managed KMS key: SNS topics, SQS queues, DynamoDB tables, log groups, Lambda environment variables, Scheduler schedules, Pipes, Firehose and Kinesis streams, secrets, SecureString parameters, ECR repositories, Athena workgroups, EFS, RDS/Aurora, ElastiCache, OpenSearch, Backup vaults.",
    severity: "high",
    remediationSteps:
        "Pass the stack's KMS key (kmsMasterKeyId / kmsKeyArn / kmsKeyId / serverSideEncryption) to the resource.",
    configSchema: {
        properties: {
            sseSqsAllowed: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "Queue name globs that may use SSE-SQS (SQS-owned keys) instead of the CMK.",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        const check = checks[args.type];
        if (!check) {
            args.notApplicable(`no encryption rule for ${args.type}`);
        }
        for (const problem of check(args.props, args.getConfig<EncryptionConfig>(), args.name)) {
            reportViolation(`${problem}.`);
        }
    },
};

export const kmsKeyRotation: ResourceValidationPolicy = {
    name: "kms-key-rotation",
    description: "Symmetric KMS keys have automatic rotation turned on.",
    severity: "medium",
    remediationSteps:
        "Set enableKeyRotation: true on the aws.kms.Key (asymmetric and HMAC keys cannot rotate and are not checked).",
    validateResource: (args, reportViolation) => {
        if (args.type !== "aws:kms/key:Key") {
            args.notApplicable();
        }
        const spec = peek(args.props, "customerMasterKeySpec");
        if (spec.present && spec.known && spec.value !== "SYMMETRIC_DEFAULT") {
            args.notApplicable(`${spec.value} keys cannot rotate`);
        }
        const rotation = peek(args.props, "enableKeyRotation");
        if (!rotation.present || (rotation.known && rotation.value !== true)) {
            reportViolation("enableKeyRotation is not true.");
        }
    },
};

const sseConfigTypes = [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];

/** The problem with one `rules` list of an S3 encryption configuration, if any. */
function s3RulesProblem(rules: unknown): string | undefined {
    const list = Array.isArray(rules) ? rules : rules ? [rules] : [];
    for (const rule of list) {
        const algorithm = peekPath(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm");
        if (
            algorithm.present &&
            (!algorithm.known || algorithm.value === "aws:kms" || algorithm.value === "aws:kms:dsse")
        ) {
            return cmkProblem(peekPath(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"), "kmsMasterKeyId");
        }
    }
    return 'no rule with sseAlgorithm "aws:kms"';
}

export const s3BucketEncryption: StackValidationPolicy = {
    name: "s3-bucket-encryption-cmk",
    description:
        "Every S3 bucket has a server-side encryption configuration with aws:kms and the stack's customer-managed key.",
    severity: "high",
    remediationSteps:
        "Add an aws.s3.BucketServerSideEncryptionConfiguration for the bucket (bucket: bucket.id) with " +
        'rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }].',
    validateStack: (args, reportViolation) => {
        const buckets = args.resources.filter((r) => bucketTypes.includes(r.type));
        if (buckets.length === 0) {
            args.notApplicable("no S3 buckets");
        }
        for (const bucket of buckets) {
            const problems: string[] = [];
            const configs: { label: string; rules: unknown }[] = resourcesReferring(
                args.resources,
                sseConfigTypes,
                "bucket",
                bucket,
                bucketKeys,
            ).map((c: PolicyResource) => ({ label: c.name, rules: peek(c.props, "rules").value }));
            // The deprecated inline block still works in v7; accept it too.
            const inline = peek(bucket.props, "serverSideEncryptionConfiguration");
            if (inline.present && inline.known) {
                configs.push({
                    label: "inline serverSideEncryptionConfiguration",
                    rules: peek(inline.value, "rule").value,
                });
            }
            if (configs.length === 0) {
                reportViolation(
                    "No server-side encryption configuration refers to this bucket (S3 would use SSE-S3).",
                    bucket.urn,
                );
                continue;
            }
            for (const config of configs) {
                const problem = s3RulesProblem(config.rules);
                if (problem) {
                    problems.push(`${config.label}: ${problem}`);
                }
            }
            if (problems.length === configs.length) {
                reportViolation(`${problems.join("; ")}.`, bucket.urn);
            }
        }
    },
};

function compact(values: (string | undefined)[]): string[] {
    return values.filter((v): v is string => v !== undefined);
}
