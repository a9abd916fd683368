/**
 * No wildcard IAM: identity policies (iam.Policy, RolePolicy, UserPolicy, GroupPolicy, a role's inline
 * policies), trust policies, resource policies (topic, queue, bucket, log, table policies, Lambda
 * permissions) and KMS key policies; plus no AWS-managed AdministratorAccess / *FullAccess / PowerUser
 * attachments (what aws.lambda.CallbackFunction attaches when it is given no role or policies).
 *
 * Wildcards are judged in Allow statements only: a Deny (such as the TLS-only statements with
 * Principal "*") narrows access, so a wildcard there is what makes it effective.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { parseStatements, type Statement } from "./lib/statements";
import { asArray, globToRegExp, peek } from "./lib/values";

export { parseStatements, type Statement };

/**
 * Actions that support no resource-level permission: IAM evaluates them only against `Resource: "*"`.
 * Source: the Service Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/),
 * per service "Actions defined by ..." table, where the "Resource types" column of these actions is empty:
 *   - CloudWatch (list_amazoncloudwatch.html): PutMetricData. It has the condition key
 *     `cloudwatch:namespace`, so a statement granting it with "*" must carry a condition on that key
 *     (the namespace is the only scope AWS offers). (EMF log lines need no IAM permission at all.)
 *   - AWS X-Ray (list_awsx-ray.html): PutTraceSegments, PutTelemetryRecords, GetSamplingRules,
 *     GetSamplingTargets, GetSamplingStatisticSummaries. No condition keys to scope them.
 *   - Amazon SNS (list_amazonsns.html): the account-level SMS actions CheckIfPhoneNumberIsOptedOut,
 *     ListPhoneNumbersOptedOut, OptInPhoneNumber, GetSMSAttributes, SetSMSAttributes,
 *     GetSMSSandboxAccountStatus, and the list actions ListTopics, ListPlatformApplications.
 *     (CreatePlatformEndpoint, GetEndpointAttributes, SetEndpointAttributes, DeleteEndpoint are
 *     scoped to the platform application / endpoint ARN and are NOT on this list.)
 *   - Amazon SQS (list_amazonsqs.html): ListQueues.
 *   - Amazon DynamoDB (list_amazondynamodb.html): ListTables, ListStreams, DescribeLimits, DescribeEndpoints.
 *   - AWS Lambda (list_awslambda.html): ListFunctions, GetAccountSettings.
 *   - Amazon EC2 (list_amazonec2.html): DescribeNetworkInterfaces (Lambda in a VPC).
 *   - Amazon SES v2 (list_amazonsimpleemailservicev2.html): GetAccount, ListEmailIdentities.
 *     SendEmail is NOT here: it is scoped to the identity and configuration-set ARNs.
 *   - AWS KMS (list_awskeymanagementservice.html): ListKeys, ListAliases, GenerateRandom.
 *   - Amazon Data Firehose (list_amazonkinesisfirehose.html): ListDeliveryStreams.
 *   - EventBridge Scheduler (list_amazoneventbridgescheduler.html): ListSchedules, ListScheduleGroups.
 *
 * sns:Publish is a special case, documented here because it is the one a notification platform needs:
 * Publish is scoped to topic / endpoint ARNs, but publishing an SMS straight to a phone number
 * (`PhoneNumber` instead of `TopicArn`/`TargetArn`) has no ARN, so IAM evaluates it only against
 * `Resource: "*"`. "*" alone would also let the role publish to every topic and endpoint of the account.
 * The pack therefore accepts `sns:Publish` on "*" only when the same document also has a Deny of
 * sns:Publish on every SNS ARN (`arn:aws:sns:*`): ARN-addressed publishes are then denied, and the
 * Allow is left covering ARN-less (SMS) publishes only. Grant topic/endpoint publishing separately.
 */
export const actionsWithoutResourceLevelPermissions: Record<string, { conditionKeys?: string[] }> = {
    "cloudwatch:putmetricdata": { conditionKeys: ["cloudwatch:namespace"] },
    "xray:puttracesegments": {},
    "xray:puttelemetryrecords": {},
    "xray:getsamplingrules": {},
    "xray:getsamplingtargets": {},
    "xray:getsamplingstatisticsummaries": {},
    "sns:checkifphonenumberisoptedout": {},
    "sns:listphonenumbersoptedout": {},
    "sns:optinphonenumber": {},
    "sns:getsmsattributes": {},
    "sns:setsmsattributes": {},
    "sns:getsmssandboxaccountstatus": {},
    "sns:listtopics": {},
    "sns:listplatformapplications": {},
    "sqs:listqueues": {},
    "dynamodb:listtables": {},
    "dynamodb:liststreams": {},
    "dynamodb:describelimits": {},
    "dynamodb:describeendpoints": {},
    "lambda:listfunctions": {},
    "lambda:getaccountsettings": {},
    "ec2:describenetworkinterfaces": {},
    "ses:getaccount": {},
    "ses:listemailidentities": {},
    "kms:listkeys": {},
    "kms:listaliases": {},
    "kms:generaterandom": {},
    "firehose:listdeliverystreams": {},
    "scheduler:listschedules": {},
    "scheduler:listschedulegroups": {},
};

/** What a document is: identity (attached to a principal), resource (on a topic, queue, ...), key (KMS key policy), trust (assume-role). */
export type DocumentKind = "identity" | "resource" | "key" | "trust";

/** `*` or `service:*`: every action (of a service). */
export function isWildcardAction(action: string): boolean {
    return action === "*" || /^[^:]+:\*$/.test(action);
}

/** True if the principal grants to anyone: "*", {AWS: "*"} or a list containing "*". */
export function isWildcardPrincipal(principal: unknown): boolean {
    if (principal === "*") {
        return true;
    }
    if (typeof principal === "object" && principal !== null) {
        return Object.values(principal).some((v) => asArray(v as unknown).includes("*"));
    }
    return false;
}

/** The condition keys a statement tests, lower-cased (`{"StringEquals": {"cloudwatch:namespace": ...}}`). */
function conditionKeys(condition: Statement["condition"]): Set<string> {
    const keys = new Set<string>();
    for (const operator of Object.values(condition ?? {})) {
        if (operator && typeof operator === "object") {
            for (const key of Object.keys(operator)) {
                keys.add(key.toLowerCase());
            }
        }
    }
    return keys;
}

/** True if a Deny statement of the document denies sns:Publish on every SNS ARN (see the list above). */
function deniesPublishToArns(statements: Statement[]): boolean {
    return statements.some(
        (s) =>
            s.effect === "Deny" &&
            s.action.some((a) => globToRegExp(a, true).test("sns:Publish")) &&
            s.resource.some((r) => r === "*" || /^arn:aws[a-z-]*:sns:\*(:\*)*$/.test(r) || r === "arn:aws:sns:*"),
    );
}

function label(statement: Statement, index: number): string {
    return statement.sid ? `Statement "${statement.sid}"` : `Statement[${index}]`;
}

/**
 * Why an ARN pattern in `Resource` stands for "everything" of its kind, or undefined when it names a
 * resource. IAM matches `*` across any characters (colons and slashes included), so a `*` that fills a
 * whole segment of `arn:partition:service:region:account:resource` opens that whole segment:
 *   - the service, region or account segment is `*` (`arn:aws:logs:*:*:*`, `arn:aws:iam::*:role/x`);
 *   - the resource part is `*` or starts with a `*` type (`arn:aws:s3:::*`, `arn:aws:sqs:eu-west-1:1:*`);
 *   - the name after a resource type is `*` (`arn:aws:dynamodb:eu-west-1:1:table/*`, `…:function:*`,
 *     `…:log-group:*`).
 * Sub-resources of a NAMED resource stay allowed, as AWS documents them: `table/users/index/*`,
 * `table/users/stream/*`, `log-group:/aws/lambda/fn:*` (its streams), `function:fn:*` (versions and
 * aliases), `arn:aws:s3:::bucket/*` (objects of a named bucket), `endpoint/APNS/app/*`. A partial
 * glob (`table/notify-prod-*`) names a family of resources and is accepted.
 */
export function wildcardArnReason(resource: string): string | undefined {
    if (!resource.startsWith("arn:")) {
        return undefined;
    }
    const [, , service, region, account, ...restParts] = resource.split(":");
    const rest = restParts.join(":");
    const open: string[] = [];
    // A `*` partition with a named resource stays in that resource: only the segments below are judged.
    for (const [segment, value] of [
        ["service", service],
        ["region", region],
        ["account", account],
    ] as const) {
        if (value === "*") {
            open.push(segment);
        }
    }
    // Fewer than six segments: the last one's `*` runs over everything after it.
    if (account === undefined || (restParts.length === 0 && [service, region, account].includes("*"))) {
        return open.length > 0 ? `every ${open.join(", ")} and resource` : undefined;
    }
    if (rest === "*") {
        open.push("resource");
    } else {
        const typed = /^([^/:]+)[/:](.*)$/.exec(rest);
        // An S3 bucket ARN has no region, account or type: its first segment is the bucket's name.
        const bucketStyle = service === "s3" && region === "" && account === "";
        if (typed && typed[1] === "*") {
            open.push("resource type");
        } else if (typed && !bucketStyle && /^\*(?:[/:]|$)/.test(typed[2])) {
            open.push(`${typed[1]} name`);
        }
    }
    return open.length > 0 ? `every ${open.join(", ")}` : undefined;
}

/** The Resource entries judged like "*": "*" itself and ARN patterns that open a whole segment. */
function wildcardResources(resources: string[]): { resource: string; reason?: string }[] {
    return resources.flatMap((r) => {
        if (r === "*") {
            return [{ resource: r }];
        }
        const reason = wildcardArnReason(r);
        return reason ? [{ resource: r, reason }] : [];
    });
}

/** The problems of Resource "*" (or an ARN judged like it) in one Allow statement. */
function wildcardResourceProblems(s: Statement, statements: Statement[], hasWildcardAction: boolean): string[] {
    const found: string[] = [];
    const keys = conditionKeys(s.condition);
    const named = s.action.filter((a) => !isWildcardAction(a));
    for (const { resource, reason } of wildcardResources(s.resource)) {
        const what = reason ? `Resource "${resource}" (${reason}, judged like "*")` : 'Resource "*"';
        const offending = named.filter((a) => {
            const lower = a.toLowerCase();
            // The SMS exception is for "*" only: an ARN pattern is never needed to reach a phone number.
            if (lower === "sns:publish" && !reason) {
                return !deniesPublishToArns(statements);
            }
            return !(lower in actionsWithoutResourceLevelPermissions);
        });
        if (hasWildcardAction) {
            found.push(`${what} for every action`);
        } else if (offending.length > 0) {
            found.push(`${what} with actions that support resource-level permissions (${offending.join(", ")})`);
        }
        for (const a of named) {
            const entry = actionsWithoutResourceLevelPermissions[a.toLowerCase()];
            if (entry?.conditionKeys && !entry.conditionKeys.some((k) => keys.has(k))) {
                found.push(`${a} on "${resource}" without a Condition on ${entry.conditionKeys.join(" or ")}`);
            }
        }
    }
    return found;
}

/** The problems of one Allow statement. */
function allowProblems(s: Statement, statements: Statement[], kind: DocumentKind): string[] {
    const found: string[] = [];
    if (s.notAction.length > 0) {
        found.push(`NotAction in an Allow grants every other action (${s.notAction.join(", ")})`);
    }
    const wildcards = s.action.filter(isWildcardAction);
    if (wildcards.length > 0) {
        found.push(`wildcard Action ${wildcards.map((a) => `"${a}"`).join(", ")}`);
    }
    if (kind !== "trust") {
        if (s.notResource.length > 0) {
            found.push("NotResource in an Allow grants every other resource");
        }
        // In a KMS key policy "*" is the key itself.
        if (kind !== "key") {
            found.push(...wildcardResourceProblems(s, statements, wildcards.length > 0));
        }
    }
    if (kind !== "identity" && isWildcardPrincipal(s.principal) && s.condition === undefined) {
        found.push('Principal "*" without a Condition');
    }
    return found;
}

/** Every problem of one document (empty when compliant). */
export function documentProblems(document: unknown, kind: DocumentKind): string[] {
    let statements: Statement[];
    try {
        statements = parseStatements(document);
    } catch (err) {
        return [`cannot be checked: ${(err as Error).message}`];
    }
    return statements.flatMap((s, i) => {
        if (s.effect !== "Allow") {
            return [];
        }
        const found = allowProblems(s, statements, kind);
        return found.length > 0 ? [`${label(s, i)}: ${found.join("; ")}`] : [];
    });
}

/** Where each type keeps its documents. */
const documentsByType: Record<string, (props: any) => { path: string; kind: DocumentKind; document: unknown }[]> = {
    "aws:iam/policy:Policy": (p) => one(p, "policy", "identity"),
    "aws:iam/rolePolicy:RolePolicy": (p) => one(p, "policy", "identity"),
    "aws:iam/userPolicy:UserPolicy": (p) => one(p, "policy", "identity"),
    "aws:iam/groupPolicy:GroupPolicy": (p) => one(p, "policy", "identity"),
    "aws:iam/role:Role": (p) => [
        ...one(p, "assumeRolePolicy", "trust"),
        ...asArray(peek(p, "inlinePolicies").value).flatMap((inline: any, i: number) =>
            one(inline, "policy", "identity").map((d) => ({ ...d, path: `inlinePolicies[${i}].policy` })),
        ),
    ],
    "aws:sns/topic:Topic": (p) => one(p, "policy", "resource"),
    "aws:sns/topicPolicy:TopicPolicy": (p) => one(p, "policy", "resource"),
    "aws:sqs/queue:Queue": (p) => one(p, "policy", "resource"),
    "aws:sqs/queuePolicy:QueuePolicy": (p) => one(p, "policy", "resource"),
    "aws:s3/bucket:Bucket": (p) => one(p, "policy", "resource"),
    "aws:s3/bucketPolicy:BucketPolicy": (p) => one(p, "policy", "resource"),
    "aws:kms/key:Key": (p) => one(p, "policy", "key"),
    "aws:kms/keyPolicy:KeyPolicy": (p) => one(p, "policy", "key"),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": (p) => one(p, "policyDocument", "resource"),
    "aws:dynamodb/resourcePolicy:ResourcePolicy": (p) => one(p, "policy", "resource"),
};

function one(props: any, path: string, kind: DocumentKind) {
    const value = peek(props, path);
    if (!value.present) {
        return [];
    }
    if (!value.known) {
        // A document computed from unknown values: let the engine report "can't run during preview".
        return [{ path, kind, document: props[path] }];
    }
    return [{ path, kind, document: value.value }];
}

export const iamDocumentTypes = [...Object.keys(documentsByType), "aws:lambda/permission:Permission"];

export const noWildcardIam: ResourceValidationPolicy = {
    name: "no-wildcard-iam",
    description:
        'IAM, resource and key policies name their actions and resources: no "*" or "service:*" actions, no NotAction/NotResource allows, no Resource "*" except for actions without resource-level permissions, no Principal "*" without a condition.',
    severity: "critical",
    remediationSteps:
        'List the exact actions and ARNs. Resource "*" is accepted only for actions on the documented list in policy/iam.ts ' +
        "(with the condition AWS offers, e.g. cloudwatch:namespace for PutMetricData). Wildcards in Deny statements are fine.",
    validateResource: (args, reportViolation) => {
        if (args.type === "aws:lambda/permission:Permission") {
            const principal = peek(args.props, "principal");
            const scoped = ["sourceArn", "sourceAccount", "principalOrgId"].some((k) => peek(args.props, k).present);
            if (principal.known && principal.value === "*" && !scoped) {
                reportViolation('principal "*" without sourceArn, sourceAccount or principalOrgId.');
            }
            return;
        }
        const documents = documentsByType[args.type];
        if (!documents) {
            args.notApplicable(`${args.type} holds no policy document`);
        }
        for (const { path, kind, document } of documents(args.props)) {
            for (const problem of documentProblems(document, kind)) {
                reportViolation(`${path}: ${problem}.`);
            }
        }
    },
};

/**
 * AWS-managed policies without "FullAccess" in their name that still grant a service wildcard or
 * every resource of a service on "*" (their documents in the AWS Managed Policy Reference,
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/):
 */
export const broadManagedPolicyNames: Record<string, string> = {
    AWSLambdaExecute: "logs:* on arn:aws:logs:*:*:*, s3:GetObject and s3:PutObject on arn:aws:s3:::*",
    AWSLambdaRole: 'lambda:InvokeFunction on "*"',
    "AWSLambdaInvocation-DynamoDB": 'lambda:InvokeFunction and the DynamoDB stream reads on "*"',
    AWSLambdaDynamoDBExecutionRole: 'DynamoDB stream reads and log writes on "*"',
    AWSLambdaKinesisExecutionRole: 'Kinesis reads and log writes on "*"',
    AWSLambdaSQSQueueExecutionRole: 'sqs:ReceiveMessage, DeleteMessage, GetQueueAttributes and log writes on "*"',
    AmazonS3ReadOnlyAccess: 's3:Get*, s3:List*, s3:Describe* on "*" (every object of every bucket)',
    AmazonDynamoDBReadOnlyAccess: 'dynamodb:BatchGetItem, Query, Scan and more on "*" (every table)',
    CloudWatchLogsReadOnlyAccess: 'logs:Describe*, logs:Get*, logs:List*, queries on "*" (every log group)',
    ReadOnlyAccess: 'Get*/List*/Describe* of nearly every service on "*"',
};

/** AWS-managed policies that grant (near-)administrator, full-service or every-resource access. */
export function isBroadManagedPolicy(arn: string): boolean {
    const match = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn);
    if (!match) {
        return false;
    }
    const name = match[1];
    return (
        name === "AdministratorAccess" ||
        /FullAccess/.test(name) ||
        /PowerUser/.test(name) ||
        Object.hasOwn(broadManagedPolicyNames, name)
    );
}

const attachmentArns: Record<string, (props: any) => unknown[]> = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (p) => asArray(peek(p, "policyArn").value),
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": (p) => asArray(peek(p, "policyArn").value),
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": (p) => asArray(peek(p, "policyArn").value),
    "aws:iam/policyAttachment:PolicyAttachment": (p) => asArray(peek(p, "policyArn").value),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": (p) =>
        asArray(peek(p, "policyArns").value),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": (p) =>
        asArray(peek(p, "policyArns").value),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": (p) =>
        asArray(peek(p, "policyArns").value),
    "aws:iam/role:Role": (p) => asArray(peek(p, "managedPolicyArns").value),
};

export const noBroadManagedPolicies: ResourceValidationPolicy = {
    name: "no-broad-managed-policies",
    description:
        "No AWS-managed AdministratorAccess, *FullAccess*, *PowerUser* or other every-resource policy (AWSLambdaExecute, ReadOnlyAccess, ...) is attached (aws.lambda.CallbackFunction attaches nine of them when given no role).",
    severity: "critical",
    remediationSteps:
        "Give the function its own role with an inline least-privilege aws.iam.RolePolicy (CallbackFunction `role:`), and attach no broad AWS-managed policy.",
    validateResource: (args, reportViolation) => {
        const arns = attachmentArns[args.type];
        if (!arns) {
            args.notApplicable(`${args.type} attaches no managed policy`);
        }
        for (const arn of arns(args.props)) {
            if (typeof arn === "string" && isBroadManagedPolicy(arn)) {
                const grants = broadManagedPolicyNames[arn.slice(arn.lastIndexOf("/") + 1)];
                reportViolation(`attaches the AWS-managed policy ${arn}${grants ? ` (grants ${grants})` : ""}.`);
            }
        }
    },
};
