import { expect } from "chai";
import { actionsWithoutResourceLevelPermissions, documentProblems, isBroadManagedPolicy } from "../../policy/iam";
import { parseStatements } from "../../policy/lib/statements";
import { gate, res, violationsOf } from "./harness";

const policy = "no-wildcard-iam";
const only = (name: string) => ({ all: "disabled", [name]: "mandatory" });
const doc = (...Statement: object[]) => ({ Version: "2012-10-17", Statement });
const queueArn = "arn:aws:sqs:eu-west-1:123456789012:q";

describe("IAM document analysis", () => {
    it("parses JSON strings and objects, a single Statement object, string or array Action/Resource", () => {
        const single = JSON.stringify({
            Statement: { Effect: "Allow", Action: "sqs:SendMessage", Resource: queueArn },
        });
        expect(parseStatements(single)[0]).to.deep.include({
            effect: "Allow",
            action: ["sqs:SendMessage"],
            resource: [queueArn],
        });
        expect(
            parseStatements(doc({ Effect: "Allow", Action: ["a:B", "c:D"], Resource: ["x", "y"] }))[0].action,
        ).to.deep.equal(["a:B", "c:D"]);
        expect(documentProblems("{not json", "identity")).to.deep.equal([
            "cannot be checked: the policy document is not a JSON object",
        ]);
    });

    it("accepts named actions on named resources", () => {
        expect(
            documentProblems(doc({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: queueArn }), "identity"),
        ).to.deep.equal([]);
    });

    it('rejects "*" and "service:*" actions, NotAction and NotResource allows', () => {
        expect(
            documentProblems(doc({ Sid: "All", Effect: "Allow", Action: "*", Resource: "*" }), "identity"),
        ).to.deep.equal(['Statement "All": wildcard Action "*"; Resource "*" for every action']);
        expect(
            documentProblems(doc({ Effect: "Allow", Action: "sqs:*", Resource: queueArn }), "identity"),
        ).to.deep.equal(['Statement[0]: wildcard Action "sqs:*"']);
        expect(
            documentProblems(doc({ Effect: "Allow", NotAction: "iam:*", Resource: queueArn }), "identity")[0],
        ).to.contain("NotAction in an Allow");
        expect(
            documentProblems(doc({ Effect: "Allow", Action: "sqs:SendMessage", NotResource: queueArn }), "identity")[0],
        ).to.contain("NotResource in an Allow");
    });

    it('allows Resource "*" only for actions without resource-level permissions, with the condition AWS offers', () => {
        expect(
            documentProblems(
                doc({
                    Effect: "Allow",
                    Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "sns:CheckIfPhoneNumberIsOptedOut"],
                    Resource: "*",
                }),
                "identity",
            ),
        ).to.deep.equal([]);
        expect(
            documentProblems(doc({ Effect: "Allow", Action: "sqs:SendMessage", Resource: "*" }), "identity"),
        ).to.deep.equal([
            'Statement[0]: Resource "*" with actions that support resource-level permissions (sqs:SendMessage)',
        ]);
        expect(
            documentProblems(doc({ Effect: "Allow", Action: "ses:SendEmail", Resource: "*" }), "identity")[0],
        ).to.contain("ses:SendEmail");
        expect(
            documentProblems(doc({ Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*" }), "identity"),
        ).to.deep.equal(['Statement[0]: cloudwatch:PutMetricData on "*" without a Condition on cloudwatch:namespace']);
        const scoped = doc({
            Effect: "Allow",
            Action: "cloudwatch:PutMetricData",
            Resource: "*",
            Condition: { StringEquals: { "cloudwatch:namespace": "Notify" } },
        });
        expect(documentProblems(scoped, "identity")).to.deep.equal([]);
        for (const action of [
            "cloudwatch:putmetricdata",
            "xray:getsamplingrules",
            "xray:getsamplingtargets",
            "sns:listphonenumbersoptedout",
            "sns:getsmsattributes",
            "sns:setsmsattributes",
        ]) {
            expect(actionsWithoutResourceLevelPermissions).to.have.property(action);
        }
        expect(actionsWithoutResourceLevelPermissions).not.to.have.property("ses:sendemail");
        expect(actionsWithoutResourceLevelPermissions).not.to.have.property("sns:publish");
    });

    describe("ARN patterns in Resource", () => {
        const judgedLikeStar: [string, string][] = [
            ["arn:aws:logs:*:*:*", "every region, account, resource"],
            ["arn:aws:s3:::*", "every resource"],
            ["arn:aws:dynamodb:*:*:table/*", "every region, account, table name"],
            ["arn:aws:dynamodb:eu-west-1:123456789012:table/*", "every table name"],
            ["arn:aws:dynamodb:eu-west-1:123456789012:table/*/index/*", "every table name"],
            ["arn:aws:sqs:eu-west-1:123456789012:*", "every resource"],
            ["arn:aws:lambda:eu-west-1:123456789012:function:*", "every function name"],
            ["arn:aws:logs:eu-west-1:123456789012:log-group:*", "every log-group name"],
            ["arn:aws:iam::*:role/deployer", "every account"],
            ["arn:aws:ec2:eu-west-1:123456789012:*/i-1234", "every resource type"],
            ["arn:aws:*:eu-west-1:123456789012:thing", "every service"],
            ["arn:aws:sns:*", "every region and resource"],
        ];
        for (const [arn, reason] of judgedLikeStar) {
            it(`judges ${arn} like "*" (${reason})`, () => {
                const found = documentProblems(
                    doc({ Effect: "Allow", Action: "dynamodb:GetItem", Resource: arn }),
                    "identity",
                );
                expect(found).to.deep.equal([
                    `Statement[0]: Resource "${arn}" (${reason}, judged like "*") with actions that support resource-level permissions (dynamodb:GetItem)`,
                ]);
            });
        }

        const named = [
            "arn:aws:dynamodb:eu-west-1:123456789012:table/users/index/*",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/users/stream/*",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/notify-prod-*",
            "arn:aws:s3:::notify-archive/*",
            "arn:aws:s3:::notify-archive/2026/*",
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/sender:*",
            "arn:aws:lambda:eu-west-1:123456789012:function:sender:*",
            "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/notify-ios/*",
            "arn:*:s3:::notify-archive/*",
        ];
        for (const arn of named) {
            it(`accepts the documented sub-resource pattern ${arn} of a named resource`, () => {
                expect(
                    documentProblems(doc({ Effect: "Allow", Action: "s3:GetObject", Resource: arn }), "identity"),
                ).to.deep.equal([]);
            });
        }

        it("rejects a service wildcard on a wildcard ARN as every action", () => {
            expect(
                documentProblems(
                    doc({ Effect: "Allow", Action: "logs:*", Resource: "arn:aws:logs:*:*:*" }),
                    "identity",
                ),
            ).to.deep.equal([
                'Statement[0]: wildcard Action "logs:*"; Resource "arn:aws:logs:*:*:*" (every region, account, resource, judged like "*") for every action',
            ]);
        });

        it("does not extend the SMS exception of sns:Publish to an SNS ARN pattern", () => {
            const deny = { Effect: "Deny", Action: "sns:Publish", Resource: "arn:aws:sns:*:*:*" };
            expect(
                documentProblems(
                    doc({ Effect: "Allow", Action: "sns:Publish", Resource: "arn:aws:sns:*:*:*" }, deny),
                    "identity",
                ),
            ).to.have.length(1);
        });

        it("accepts wildcard ARNs in Deny statements and in KMS key policies", () => {
            const deny = { Effect: "Deny", Action: "s3:*", Resource: "arn:aws:s3:::*", Principal: "*" };
            expect(documentProblems(doc(deny), "resource")).to.deep.equal([]);
            expect(
                documentProblems(
                    doc({
                        Effect: "Allow",
                        Action: "kms:Decrypt",
                        Resource: "arn:aws:kms:*:*:key/*",
                        Principal: { AWS: "arn:aws:iam::123456789012:root" },
                    }),
                    "key",
                ),
            ).to.deep.equal([]);
        });
    });

    it('allows sns:Publish on "*" (SMS to a phone number) only with a Deny of publishing to every SNS ARN', () => {
        const sms = { Sid: "Sms", Effect: "Allow", Action: "sns:Publish", Resource: "*" };
        expect(documentProblems(doc(sms), "identity")[0]).to.contain("sns:Publish");
        const confined = doc(sms, { Effect: "Deny", Action: "sns:Publish", Resource: "arn:aws:sns:*:*:*" });
        expect(documentProblems(confined, "identity")).to.deep.equal([]);
    });

    it('judges wildcards in Allow only: TLS-only Deny statements with Principal "*" pass', () => {
        const tls = {
            Effect: "Deny",
            Principal: "*",
            Action: "sqs:*",
            Resource: queueArn,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        };
        expect(documentProblems(doc(tls), "resource")).to.deep.equal([]);
    });

    it('rejects Principal "*" without a condition in resource policies', () => {
        expect(
            documentProblems(
                doc({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sqs:SendMessage", Resource: queueArn }),
                "resource",
            ),
        ).to.deep.equal(['Statement[0]: Principal "*" without a Condition']);
        const conditioned = doc({
            Effect: "Allow",
            Principal: "*",
            Action: "sqs:SendMessage",
            Resource: queueArn,
            Condition: { ArnEquals: { "aws:SourceArn": "arn:aws:sns:eu-west-1:1:t" } },
        });
        expect(documentProblems(conditioned, "resource")).to.deep.equal([]);
    });

    it('accepts Resource "*" in a KMS key policy but still requires named actions', () => {
        const admin = {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::123456789012:root" },
            Action: ["kms:Describe*", "kms:PutKeyPolicy"],
            Resource: "*",
        };
        expect(documentProblems(doc(admin), "key")).to.deep.equal([]);
        expect(documentProblems(doc({ ...admin, Action: "kms:*" }), "key")).to.deep.equal([
            'Statement[0]: wildcard Action "kms:*"',
        ]);
    });
});

describe("policy no-wildcard-iam", () => {
    const star = JSON.stringify(doc({ Effect: "Allow", Action: "*", Resource: "*" }));
    const fine = JSON.stringify(doc({ Effect: "Allow", Action: "sqs:SendMessage", Resource: queueArn }));
    const types: [string, string, string][] = [
        ["aws:iam/policy:Policy", "policy", "policy"],
        ["aws:iam/rolePolicy:RolePolicy", "policy", "policy"],
        ["aws:iam/userPolicy:UserPolicy", "policy", "policy"],
        ["aws:iam/groupPolicy:GroupPolicy", "policy", "policy"],
        ["aws:sns/topicPolicy:TopicPolicy", "policy", "policy"],
        ["aws:sqs/queuePolicy:QueuePolicy", "policy", "policy"],
        ["aws:s3/bucketPolicy:BucketPolicy", "policy", "policy"],
        ["aws:kms/key:Key", "policy", "policy"],
    ];
    for (const [type, property, label] of types) {
        it(`checks ${type}.${property}`, () => {
            const report = gate(
                [
                    res(type, "good", { [property]: fine, enableKeyRotation: true }),
                    res(type, "bad", { [property]: star, enableKeyRotation: true }),
                ],
                only(policy),
            );
            const found = violationsOf(report, policy);
            expect(found).to.have.length(1);
            expect(found[0]).to.match(new RegExp(`^bad: ${label}: Statement\\[0\\]: wildcard Action "\\*"`));
        });
    }

    it("checks a role's inline policies and its trust policy", () => {
        const trust = JSON.stringify(doc({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }));
        const report = gate(
            [
                res("aws:iam/role:Role", "role", {
                    assumeRolePolicy: trust,
                    inlinePolicies: [
                        { name: "p", policy: fine },
                        { name: "q", policy: star },
                    ],
                }),
            ],
            only(policy),
        );
        expect(violationsOf(report, policy)).to.deep.equal([
            'role: assumeRolePolicy: Statement[0]: Principal "*" without a Condition.',
            'role: inlinePolicies[1].policy: Statement[0]: wildcard Action "*"; Resource "*" for every action.',
        ]);
    });

    it('rejects a Lambda permission for principal "*" without a source', () => {
        const report = gate(
            [
                res("aws:lambda/permission:Permission", "open", {
                    action: "lambda:InvokeFunction",
                    function: "f",
                    principal: "*",
                }),
                res("aws:lambda/permission:Permission", "scoped", {
                    action: "lambda:InvokeFunction",
                    function: "f",
                    principal: "*",
                    sourceArn: "arn:aws:sns:eu-west-1:1:t",
                }),
            ],
            only(policy),
        );
        expect(violationsOf(report, policy)).to.deep.equal([
            'open: principal "*" without sourceArn, sourceAccount or principalOrgId.',
        ]);
    });
});

describe("policy no-broad-managed-policies", () => {
    it("rejects AdministratorAccess, *FullAccess* and *PowerUser* AWS-managed attachments, not customer policies", () => {
        expect(isBroadManagedPolicy("arn:aws:iam::aws:policy/AdministratorAccess")).to.equal(true);
        expect(isBroadManagedPolicy("arn:aws:iam::aws:policy/CloudWatchFullAccessV2")).to.equal(true);
        expect(isBroadManagedPolicy("arn:aws:iam::aws:policy/AmazonCognitoPowerUser")).to.equal(true);
        expect(isBroadManagedPolicy("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")).to.equal(
            false,
        );
        expect(isBroadManagedPolicy("arn:aws:iam::123456789012:policy/AdministratorAccess")).to.equal(false);
        const report = gate(
            [
                res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "admin", {
                    role: "r",
                    policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
                }),
                res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "xray", {
                    role: "r",
                    policyArn: "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
                }),
                res("aws:iam/role:Role", "role", {
                    assumeRolePolicy: "{}",
                    managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonSQSFullAccess"],
                }),
            ],
            only("no-broad-managed-policies"),
        );
        expect(violationsOf(report, "no-broad-managed-policies")).to.deep.equal([
            "admin: attaches the AWS-managed policy arn:aws:iam::aws:policy/AdministratorAccess.",
            "role: attaches the AWS-managed policy arn:aws:iam::aws:policy/AmazonSQSFullAccess.",
        ]);
    });

    it("rejects AWSLambdaExecute and the other managed policies granting every resource of a service, naming the grant", () => {
        for (const name of [
            "AWSLambdaExecute",
            "service-role/AWSLambdaSQSQueueExecutionRole",
            "AmazonS3ReadOnlyAccess",
            "ReadOnlyAccess",
        ]) {
            expect(isBroadManagedPolicy(`arn:aws:iam::aws:policy/${name}`), name).to.equal(true);
        }
        const report = gate(
            [
                res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "execute", {
                    role: "r",
                    policyArn: "arn:aws:iam::aws:policy/AWSLambdaExecute",
                }),
            ],
            only("no-broad-managed-policies"),
        );
        expect(violationsOf(report, "no-broad-managed-policies")).to.deep.equal([
            "execute: attaches the AWS-managed policy arn:aws:iam::aws:policy/AWSLambdaExecute (grants logs:* on arn:aws:logs:*:*:*, s3:GetObject and s3:PutObject on arn:aws:s3:::*).",
        ]);
    });
});
