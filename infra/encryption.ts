import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface EncryptionArgs {
    /** The stack name, for the key's description. */
    stack: string;
    /** The stack's AWS Budgets budget, which publishes to the encrypted alarm topic. */
    budgetName: string;
    /** Alias suffix: the key is `alias/<aliasName>`. */
    aliasName: string;
    /** Days a scheduled deletion waits (7-30): the window to notice a mistaken `pulumi destroy`. */
    deletionWindowInDays?: number;
}

/** Services that use the key on behalf of this account's principals (their requests carry kms:ViaService). */
const VIA_SERVICES = ["sqs", "sns", "dynamodb", "s3", "lambda", "firehose", "scheduler"];

/**
 * The stack's customer-managed KMS key. Every topic, queue, table, log group, bucket, stream, schedule
 * and function environment is encrypted with it. Its policy names exactly who may use it: the account's
 * principals only through the services above, and the service principals that encrypt on their own
 * behalf (SNS delivering to encrypted queues, SES and CloudWatch publishing to encrypted topics,
 * CloudWatch Logs). The account root keeps key administration so the key can never be orphaned.
 */
export class Encryption extends pulumi.ComponentResource {
    public readonly key: aws.kms.Key;
    public readonly alias: aws.kms.Alias;
    public readonly keyArn: pulumi.Output<string>;

    constructor(name: string, args: EncryptionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:encryption:Encryption", name, {}, opts);

        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const region = aws.getRegionOutput({}, { parent: this }).region;

        const policy = pulumi
            .all([account, region])
            .apply(([accountId, regionName]) => JSON.stringify(keyPolicy(accountId, regionName, args.budgetName)));

        this.key = new aws.kms.Key(
            `${name}-key`,
            {
                description: `Encrypts every data store, topic, queue and log group of stack ${args.stack}`,
                enableKeyRotation: true,
                rotationPeriodInDays: 365,
                deletionWindowInDays: args.deletionWindowInDays ?? 30,
                policy,
            },
            { parent: this },
        );
        this.alias = new aws.kms.Alias(
            `${name}-alias`,
            { name: `alias/${args.aliasName}`, targetKeyId: this.key.keyId },
            { parent: this },
        );
        this.keyArn = this.key.arn;
        this.registerOutputs({ keyArn: this.key.arn, aliasName: this.alias.name });
    }
}

/** Key administration, kept by the account root so the key can never be orphaned; no use of the key. */
export const ADMINISTRATION_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
];

/** Encrypting and decrypting with the key (envelope encryption included). */
const CRYPTO_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey"];

/**
 * The key policy: who may administer the key and who may use it, through which service. One literal
 * document, long because it lists every grant; split up, it would hide who may do what.
 */
function keyPolicy(accountId: string, regionName: string, budgetName: string) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersKey",
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${accountId}:root` },
                Action: ADMINISTRATION_ACTIONS,
                Resource: "*", // in a key policy "*" is this key
            },
            {
                Sid: "AccountUsesKeyThroughPlatformServices",
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${accountId}:root` },
                Action: [
                    ...CRYPTO_ACTIONS,
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                    "kms:CreateGrant",
                ],
                Resource: "*",
                Condition: {
                    StringEquals: {
                        "kms:CallerAccount": accountId,
                        "kms:ViaService": VIA_SERVICES.map((s) => `${s}.${regionName}.amazonaws.com`),
                    },
                },
            },
            {
                // SNS encrypts messages it delivers to encrypted queues; SES and CloudWatch alarms
                // publish to encrypted topics. All on behalf of this account only.
                Sid: "ServicesPublishToEncryptedTopicsAndQueues",
                Effect: "Allow",
                Principal: {
                    Service: ["sns.amazonaws.com", "ses.amazonaws.com", "cloudwatch.amazonaws.com"],
                },
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: "*",
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
            {
                // Budgets publishes its notifications to the encrypted alarm topic: this stack's
                // budget only (Budgets ARNs have no region).
                Sid: "BudgetOfThisStackPublishesToEncryptedTopic",
                Effect: "Allow",
                Principal: { Service: "budgets.amazonaws.com" },
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: "*",
                Condition: {
                    StringEquals: { "aws:SourceAccount": accountId },
                    ArnLike: { "aws:SourceArn": `arn:aws:budgets::${accountId}:budget/${budgetName}` },
                },
            },
            {
                Sid: "CloudWatchLogsEncryptsThisAccountsLogGroups",
                Effect: "Allow",
                Principal: { Service: `logs.${regionName}.amazonaws.com` },
                Action: [...CRYPTO_ACTIONS, "kms:DescribeKey"],
                Resource: "*",
                Condition: {
                    ArnLike: {
                        "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${regionName}:${accountId}:log-group:*`,
                    },
                },
            },
        ],
    };
}
