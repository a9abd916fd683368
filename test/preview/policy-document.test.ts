/**
 * aws.iam.getPolicyDocument as the provider computes it, checked against the documents the provider
 * documents (terraform-provider-aws website/docs/d/iam_policy_document.html.markdown, "will evaluate to")
 * and against the provider model's marshalling rules (internal/service/iam/policy_model.go).
 *
 * The documented outputs predate the provider's `omitempty` on `Sid` (policy_model.go: `Sid string
 * json:",omitempty"`), so they show `"Sid": ""` where today's provider writes nothing; the comparison
 * drops empty Sids from the documented text and changes nothing else.
 */
import { expect } from "chai";
import { computePolicyDocument } from "../../toolkit/preview/policy-document";

const documented = (text: string) => {
    const doc = JSON.parse(text);
    for (const s of doc.Statement) if (s.Sid === "") delete s.Sid;
    return doc;
};
/** The documented examples' statement that a source or override document's statement meets by Sid. */
const BUCKET_STATEMENT = {
    sid: "SidToOverride",
    actions: ["s3:*"],
    resources: ["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"],
};
const json = (args: Parameters<typeof computePolicyDocument>[0]) => computePolicyDocument(args).json;

describe("getPolicyDocument computed as the provider does", function () {
    it("merges a source document, its Sid replaced by the statement (documented example)", function () {
        const source = json({
            statements: [
                { actions: ["ec2:*"], resources: ["*"] },
                { sid: "SidToOverride", actions: ["s3:*"], resources: ["*"] },
            ],
        });
        const result = json({
            sourcePolicyDocuments: [source],
            statements: [BUCKET_STATEMENT],
        });
        expect(JSON.parse(result)).to.deep.equal(
            documented(`{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "", "Effect": "Allow", "Action": "ec2:*", "Resource": "*" },
    { "Sid": "SidToOverride", "Effect": "Allow", "Action": "s3:*",
      "Resource": ["arn:aws:s3:::somebucket/*", "arn:aws:s3:::somebucket"] }
  ]
}`),
        );
    });

    it("lets an override document replace the statement with its Sid (documented example)", function () {
        const override = json({ statements: [{ sid: "SidToOverride", actions: ["s3:*"], resources: ["*"] }] });
        const result = json({
            overridePolicyDocuments: [override],
            statements: [{ actions: ["ec2:*"], resources: ["*"] }, BUCKET_STATEMENT],
        });
        expect(JSON.parse(result)).to.deep.equal(
            documented(`{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "", "Effect": "Allow", "Action": "ec2:*", "Resource": "*" },
    { "Sid": "SidToOverride", "Effect": "Allow", "Action": "s3:*", "Resource": "*" }
  ]
}`),
        );
    });

    it("combines source and override documents without statements of its own (documented example)", function () {
        const source = json({
            statements: [{ sid: "OverridePlaceholder", actions: ["ec2:DescribeAccountAttributes"], resources: ["*"] }],
        });
        const override = json({
            statements: [{ sid: "OverridePlaceholder", actions: ["s3:GetObject"], resources: ["*"] }],
        });
        const result = json({ sourcePolicyDocuments: [source], overridePolicyDocuments: [override] });
        expect(result).to.equal(`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "OverridePlaceholder",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*"
    }
  ]
}`);
    });

    it("keeps every statement of several source documents in order (documented example)", function () {
        const one = json({
            statements: [
                { actions: ["ec2:*"], resources: ["*"] },
                { sid: "UniqueSidOne", actions: ["s3:*"], resources: ["*"] },
            ],
        });
        const two = json({
            statements: [
                { sid: "UniqueSidTwo", actions: ["iam:*"], resources: ["*"] },
                { actions: ["lambda:*"], resources: ["*"] },
            ],
        });
        expect(JSON.parse(json({ sourcePolicyDocuments: [one, two] }))).to.deep.equal(
            documented(`{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "", "Effect": "Allow", "Action": "ec2:*", "Resource": "*" },
    { "Sid": "UniqueSidOne", "Effect": "Allow", "Action": "s3:*", "Resource": "*" },
    { "Sid": "UniqueSidTwo", "Effect": "Allow", "Action": "iam:*", "Resource": "*" },
    { "Sid": "", "Effect": "Allow", "Action": "lambda:*", "Resource": "*" }
  ]
}`),
        );
    });

    it("rejects a Sid repeated across source documents with the provider's message", function () {
        const doc = json({ statements: [{ sid: "Same", actions: ["s3:GetObject"], resources: ["*"] }] });
        expect(() => json({ sourcePolicyDocuments: [doc, doc] })).to.throw(
            "writing IAM Policy Document: merging source document 1: duplicate Sid (Same) in source_policy_documents (statement 0). Remove the Sid or ensure Sids are unique.",
        );
    });

    it('renders principals as a map by type, several identifiers in reverse order, and * alone as "*"', function () {
        const doc = JSON.parse(
            json({
                statements: [
                    {
                        actions: ["sts:AssumeRole"],
                        principals: [
                            { type: "Service", identifiers: ["firehose.amazonaws.com"] },
                            { type: "AWS", identifiers: ["arn:aws:iam::123456789012:role/trusted"] },
                            {
                                type: "Federated",
                                identifiers: [
                                    "arn:aws:iam::123456789012:saml-provider/corp",
                                    "cognito-identity.amazonaws.com",
                                ],
                            },
                        ],
                    },
                    { actions: ["s3:GetObject"], resources: ["*"], principals: [{ type: "*", identifiers: ["*"] }] },
                    { actions: ["s3:GetObject"], resources: ["*"], principals: [{ type: "AWS", identifiers: ["*"] }] },
                ],
            }),
        );
        expect(doc.Statement[0].Principal).to.deep.equal({
            AWS: "arn:aws:iam::123456789012:role/trusted",
            Federated: ["cognito-identity.amazonaws.com", "arn:aws:iam::123456789012:saml-provider/corp"],
            Service: "firehose.amazonaws.com",
        });
        expect(Object.keys(doc.Statement[0].Principal)).to.deep.equal(["AWS", "Federated", "Service"]);
        expect(doc.Statement[1].Principal).to.equal("*");
        expect(doc.Statement[2].Principal).to.deep.equal({ AWS: "*" });
    });

    it("writes NotAction, NotResource, conditions and &{} policy variables as IAM reads them", function () {
        const doc = JSON.parse(
            json({
                statements: [
                    {
                        effect: "Deny",
                        notActions: ["iam:*", "sts:GetCallerIdentity", "iam:*"],
                        notResources: ["arn:aws:s3:::home/&{aws:username}/*"],
                        conditions: [
                            {
                                test: "StringLike",
                                variable: "s3:prefix",
                                values: ["", "home/", "home/&{aws:username}/"],
                            },
                            { test: "Bool", variable: "aws:SecureTransport", values: ["false"] },
                        ],
                    },
                ],
            }),
        );
        // IAM policy variables are literal `${...}` text in the document, not template placeholders.
        const variable = (v: string) => `$\{${v}}`;
        expect(doc.Statement[0]).to.deep.equal({
            Effect: "Deny",
            NotAction: ["sts:GetCallerIdentity", "iam:*"],
            NotResource: `arn:aws:s3:::home/${variable("aws:username")}/*`,
            Condition: {
                Bool: { "aws:SecureTransport": "false" },
                StringLike: { "s3:prefix": ["", "home/", `home/${variable("aws:username")}/`] },
            },
        });
    });

    it("answers json, minifiedJson and the id the provider derives from the json", function () {
        const result = computePolicyDocument({ statements: [{ actions: ["s3:GetObject"], resources: ["*"] }] });
        expect(result.minifiedJson).to.equal(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
        );
        expect(JSON.parse(result.json)).to.deep.equal(JSON.parse(result.minifiedJson));
        expect(result.id).to.match(/^\d+$/);
        expect(
            computePolicyDocument({ statements: [{ actions: ["s3:PutObject"], resources: ["*"] }] }).id,
        ).to.not.equal(result.id);
    });
});
