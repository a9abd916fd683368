import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { formatGateReport, type GateReport, type GateViolation, runGate } from "../../toolkit/gate/gate";
import { createPolicies } from "../../policy/policies";
import { awsPackageDir, collectTaggableTypes, taggableTypesFile } from "../../policy/tools/taggable-types";
import { previewProgram } from "../../toolkit/preview/preview";
import type { PreviewResult } from "../../toolkit/preview/types";
import { analyzeRequests, analyzeStackRequest, diagnosticLines } from "./analyzer-requests";
import { configFile, gate, res, violationsOf } from "./harness";

const repo = path.join(__dirname, "..", "..");
const fixtureDir = path.join(repo, "test", "fixtures", "violations");
const pairs = (report: GateReport) => report.violations.map((v) => `${v.level} ${v.policy} ${v.resourceName}`);

describe("offline policy gate", function () {
    this.timeout(120000);

    describe("over the project's own program", () => {
        const results: Record<string, PreviewResult> = {};
        before(async () => {
            [results.dev, results.prod] = await Promise.all([
                previewProgram({ programDir: repo, stack: "dev" }),
                previewProgram({ programDir: repo, stack: "prod" }),
            ]);
        });

        it("passes prod with zero violations and no exemptions", () => {
            const report = runGate(results.prod, { stack: "prod", programDir: repo });
            expect(pairs(report)).to.deep.equal([]);
            expect(report.exemptionsUsed).to.deep.equal([]);
            expect(report.exitCode).to.equal(0);
            expect(report.resourcesChecked).to.equal(results.prod.resources.length);
        });

        it("passes dev (no mandatory violation)", () => {
            const report = runGate(results.dev, { stack: "dev", programDir: repo });
            expect(report.violations.filter((v) => v.level === "mandatory")).to.deep.equal([]);
            expect(report.exitCode).to.equal(0);
        });

        it("is not vacuous: the same program without its provider's tags or a topic's key fails", () => {
            const broken: PreviewResult = JSON.parse(JSON.stringify(results.prod));
            const provider = broken.resources.find((r) => r.type === "pulumi:providers:aws")!;
            delete provider.inputs.defaultTags;
            const topic = broken.resources.find((r) => r.type === "aws:sns/topic:Topic")!;
            delete topic.inputs.kmsMasterKeyId;
            const report = runGate(broken, { stack: "prod" });
            const tagged = broken.resources.filter(
                (r) =>
                    r.custom &&
                    r.type.startsWith("aws:") &&
                    violationsOf(report, "required-tags").some((v) => v.startsWith(`${r.name}:`)),
            );
            expect(tagged.length).to.be.greaterThan(30);
            expect(violationsOf(report, "encryption-at-rest-cmk")).to.deep.equal([
                `${topic.name}: kmsMasterKeyId is not set.`,
            ]);
            expect(report.exitCode).to.equal(1);
        });
    });

    describe("over the violations fixture (--program test/fixtures/violations --stack prod)", () => {
        let report: GateReport;
        before(async () => {
            const result = await previewProgram({ programDir: fixtureDir, stack: "prod" });
            report = runGate(result, { stack: "prod", programDir: fixtureDir });
        });

        it("finds exactly the known violations (test/fixtures/violations/index.ts lists them) and exits 1", () => {
            expect(
                report.violations
                    .map((v) => `${v.level} ${v.policy} ${v.resourceType} ${v.resourceName}`)
                    .filter((v) => !v.includes("no-broad-managed-policies"))
                    .sort(),
            ).to.deep.equal([
                "mandatory encryption-at-rest-cmk aws:secretsmanager/secret:Secret default-key-secret",
                "mandatory encryption-at-rest-cmk aws:sns/topic:Topic unencrypted-topic",
                "mandatory no-wildcard-iam aws:iam/policy:Policy wildcard-policy",
                "mandatory no-wildcard-iam aws:iam/rolePolicy:RolePolicy wildcard-arn-policy",
                "mandatory required-tags aws:s3/bucket:Bucket untagged-bucket",
                "mandatory sqs-consumer-dlq aws:sqs/queue:Queue no-dlq-queue",
            ]);
            expect(report.exitCode).to.equal(1);
        });

        it("finds CallbackFunction's eight broad default attachments and the AWSLambdaExecute one", () => {
            const attachments = report.violations.filter((v) => v.policy === "no-broad-managed-policies");
            const named = (v: GateViolation) =>
                `${v.resourceName.startsWith("default-policies-fn-") ? "default-policies-fn" : v.resourceName} ${v.message
                    .replace(/^attaches the AWS-managed policy arn:aws:iam::aws:policy\//, "")
                    .replace(/ \(grants .*$/, "")
                    .replace(/\.$/, "")}`;
            expect(attachments.map(named)).to.deep.equal([
                "default-policies-fn AWSLambda_FullAccess",
                "default-policies-fn CloudWatchFullAccessV2",
                "default-policies-fn CloudWatchEventsFullAccess",
                "default-policies-fn AmazonS3FullAccess",
                "default-policies-fn AmazonDynamoDBFullAccess",
                "default-policies-fn AmazonSQSFullAccess",
                "default-policies-fn AmazonKinesisFullAccess",
                "default-policies-fn AmazonCognitoPowerUser",
                "lambda-execute-attachment AWSLambdaExecute",
            ]);
            expect(attachments.every((v) => v.level === "mandatory")).to.equal(true);
        });

        it('explains the ARN wildcard it judged like "*"', () => {
            expect(violationsOf(report, "no-wildcard-iam")).to.include(
                'wildcard-arn-policy: policy: Statement[0]: Resource "arn:aws:logs:*:*:*" (every region, account, resource, judged like "*") with actions that support resource-level permissions (logs:CreateLogStream, logs:PutLogEvents).',
            );
        });

        it("prints each violation like the CLI (level, policy, resource, message), then a summary", () => {
            const text = formatGateReport(report);
            expect(text).to.contain("❌ notify-guard@v0.1.0 (local: policy)");
            expect(text).to.contain("- [mandatory]  required-tags  (aws:s3/bucket:Bucket: untagged-bucket)");
            expect(text).to.contain("Missing tags: Environment, Application, Owner, CostCenter.");
            expect(text).to.contain("- [mandatory]  sqs-consumer-dlq  (aws:sqs/queue:Queue: no-dlq-queue)");
            expect(text.split("\n").pop()).to.match(
                /^Policy gate \(stack prod, config .*config\.prod\.json\): 12 policies over \d+ resources; 15 mandatory, 0 advisory violations; 0 exemptions used -> FAIL$/,
            );
        });

        it("gives the same verdicts as @pulumi/policy's own analyzer functions fed the engine's requests", async () => {
            const result = await previewProgram({ programDir: fixtureDir, stack: "prod" });
            const engine = await analyzeLikeTheEngine(result);
            const gateOnly = runGate(result, { stack: "prod", configFile: configFile({}) });
            const fromGate = gateOnly.violations
                .map((v) => `${v.level} ${v.policy} ${v.resourceUrn} ${v.message}`)
                .sort();
            expect(fromGate).to.deep.equal(engine.sort());
            expect(fromGate).to.have.length(15);
        });
    });

    it("treats values unknown during preview like the engine: set-ness judged, unreadable documents advisory", () => {
        const unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const report = gate(
            [
                res("aws:sns/topic:Topic", "topic", { kmsMasterKeyId: unknownString }),
                res("aws:iam/rolePolicy:RolePolicy", "policy", { role: "r", policy: unknownString }),
            ],
            { all: "disabled", "encryption-at-rest-cmk": "mandatory", "no-wildcard-iam": "mandatory" },
        );
        expect(violationsOf(report, "encryption-at-rest-cmk")).to.deep.equal([]);
        expect(report.violations.map((v) => `${v.level} ${v.policy} ${v.resourceName}`)).to.deep.equal([
            "advisory no-wildcard-iam policy",
        ]);
        expect(report.violations[0].message).to.match(
            /can't run policy 'no-wildcard-iam' .* during preview: string value at \.policy can't be known during preview/,
        );
        expect(report.exitCode).to.equal(0);
    });

    it("gives resources without an explicit provider the default provider, configured from the stack file", () => {
        const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "gate-program-"));
        fs.writeFileSync(
            path.join(dir, "Pulumi.prod.yaml"),
            "config:\n  aws:region: eu-west-1\n  aws:defaultTags:\n    tags:\n      Environment: prod\n      Application: a\n      Owner: o\n      CostCenter: c\n",
        );
        const topic = {
            ...res("aws:sns/topic:Topic", "topic", { kmsMasterKeyId: "alias/notify" }),
            provider: undefined,
        };
        const preview = require("./harness").previewOf([topic]);
        expect(
            violationsOf(
                runGate(preview, { stack: "prod", configFile: configFile({}), programDir: dir }),
                "required-tags",
            ),
        ).to.deep.equal([]);
        expect(
            violationsOf(runGate(preview, { stack: "prod", configFile: configFile({}) }), "required-tags"),
        ).to.have.length(1);
    });

    it("keeps policy/taggable-types.json in step with the installed @pulumi/aws", () => {
        const file = JSON.parse(fs.readFileSync(taggableTypesFile, "utf8"));
        expect(file.types, "regenerate: npx ts-node --transpile-only policy/tools/taggable-types.ts").to.deep.equal(
            collectTaggableTypes(awsPackageDir()),
        );
    });
});

/**
 * Runs the pack through @pulumi/policy's analyzer RPC handlers (what the CLI calls over gRPC), with
 * requests built from the preview the way the engine builds them; returns "level policy urn message".
 */
async function analyzeLikeTheEngine(result: PreviewResult): Promise<string[]> {
    const server = require("@pulumi/policy/server");
    const policies = createPolicies();
    const call = (fn: any, request: any) =>
        new Promise<any>((resolve, reject) =>
            fn({ request }, (err: any, response: any) => (err ? reject(err) : resolve(response))),
        );
    const lines: string[] = [];
    const analyze = server.makeAnalyzeRpcFun("notify-guard", "0.1.0", "mandatory", policies);
    for (const req of analyzeRequests(result)) {
        lines.push(...diagnosticLines(await call(analyze, req), req.getUrn()));
    }
    const analyzeStack = server.makeAnalyzeStackRpcFun("notify-guard", "0.1.0", "mandatory", policies);
    lines.push(...diagnosticLines(await call(analyzeStack, analyzeStackRequest(result)), ""));
    return lines;
}
