import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { formatGateReport, type GateReport, runGate } from "../../toolkit/gate/gate";
import { createPolicies } from "../../policy/policies";
import { awsPackageDir, collectTaggableTypes, taggableTypesFile } from "../../policy/tools/taggable-types";
import { previewProgram } from "../../toolkit/preview/preview";
import type { PreviewResult } from "../../toolkit/preview/types";
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

        it("finds exactly the five known violations and exits 1", () => {
            const broad = [
                "AWSLambda_FullAccess",
                "CloudWatchFullAccessV2",
                "CloudWatchEventsFullAccess",
                "AmazonS3FullAccess",
                "AmazonDynamoDBFullAccess",
                "AmazonSQSFullAccess",
                "AmazonKinesisFullAccess",
                "AmazonCognitoPowerUser",
            ];
            expect(
                report.violations
                    .map((v) => `${v.level} ${v.policy} ${v.resourceType} ${v.resourceName}`)
                    .filter((v) => !v.includes("no-broad-managed-policies")),
            ).to.deep.equal([
                "mandatory encryption-at-rest-cmk aws:sns/topic:Topic unencrypted-topic",
                "mandatory no-wildcard-iam aws:iam/policy:Policy wildcard-policy",
                "mandatory required-tags aws:s3/bucket:Bucket untagged-bucket",
                "mandatory sqs-consumer-dlq aws:sqs/queue:Queue no-dlq-queue",
            ]);
            const attachments = report.violations.filter((v) => v.policy === "no-broad-managed-policies");
            expect(
                attachments.map((v) =>
                    v.message
                        .replace(/^attaches the AWS-managed policy arn:aws:iam::aws:policy\//, "")
                        .replace(/\.$/, ""),
                ),
            ).to.deep.equal(broad);
            expect(
                attachments.every((v) => v.level === "mandatory" && v.resourceName.startsWith("default-policies-fn-")),
            ).to.equal(true);
            expect(report.exitCode).to.equal(1);
        });

        it("prints each violation like the CLI (level, policy, resource, message), then a summary", () => {
            const text = formatGateReport(report);
            expect(text).to.contain("❌ notify-guard@v0.1.0 (local: policy)");
            expect(text).to.contain("- [mandatory]  required-tags  (aws:s3/bucket:Bucket: untagged-bucket)");
            expect(text).to.contain("Missing tags: Environment, Application, Owner, CostCenter.");
            expect(text).to.contain("- [mandatory]  sqs-consumer-dlq  (aws:sqs/queue:Queue: no-dlq-queue)");
            expect(text.split("\n").pop()).to.match(
                /^Policy gate \(stack prod, config .*config\.prod\.json\): 11 policies over \d+ resources; 12 mandatory, 0 advisory violations; 0 exemptions used -> FAIL$/,
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
            expect(fromGate).to.have.length(12);
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
    const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    const pb = require(path.join(pulumiDir, "proto", "analyzer_pb"));
    const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] }));
    const server = require("@pulumi/policy/server");
    const policies = createPolicies();
    const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
    const levels = ["advisory", "mandatory", "disabled", "remediate"];

    const options = (r: PreviewResult["resources"][number]) => {
        const o = new pb.AnalyzerResourceOptions();
        o.setProtect(false);
        o.setIgnorechangesList([]);
        o.setAliasesList([]);
        o.setAdditionalsecretoutputsList([]);
        if (r.parent) o.setParent(r.parent);
        return o;
    };
    const provider = (r: PreviewResult["resources"][number]) => {
        const p = r.provider ? byUrn.get(r.provider) : undefined;
        if (!p) return undefined;
        const msg = new pb.AnalyzerProviderResource();
        msg.setType(p.type);
        msg.setName(p.name);
        msg.setUrn(p.urn);
        msg.setProperties(Struct.fromJavaScript(p.inputs));
        return msg;
    };
    const call = (fn: any, request: any) =>
        new Promise<any>((resolve, reject) =>
            fn({ request }, (err: any, response: any) => (err ? reject(err) : resolve(response))),
        );
    const lines: string[] = [];
    const collect = (response: any, fallbackUrn: string) => {
        for (const d of response.getDiagnosticsList()) {
            const message = d.getMessage().split("\n").slice(1).join("\n");
            lines.push(
                `${levels[d.getEnforcementlevel()]} ${d.getPolicyname()} ${d.getUrn() || fallbackUrn} ${message}`,
            );
        }
    };

    const analyze = server.makeAnalyzeRpcFun("notify-guard", "0.1.0", "mandatory", policies);
    for (const r of result.resources) {
        const req = new pb.AnalyzeRequest();
        req.setType(r.type);
        req.setUrn(r.urn);
        req.setName(r.name);
        req.setProperties(Struct.fromJavaScript(r.inputs));
        req.setOptions(options(r));
        const p = provider(r);
        if (p) req.setProvider(p);
        collect(await call(analyze, req), r.urn);
    }
    const analyzeStack = server.makeAnalyzeStackRpcFun("notify-guard", "0.1.0", "mandatory", policies);
    const stackReq = new pb.AnalyzeStackRequest();
    stackReq.setResourcesList(
        result.resources.map((r) => {
            const ar = new pb.AnalyzerResource();
            ar.setType(r.type);
            ar.setUrn(r.urn);
            ar.setName(r.name);
            ar.setProperties(Struct.fromJavaScript(r.inputs));
            ar.setOptions(options(r));
            if (r.parent) ar.setParent(r.parent);
            ar.setDependenciesList(r.dependencies);
            for (const [key, urns] of Object.entries(r.propertyDependencies)) {
                const deps = new pb.AnalyzerPropertyDependencies();
                deps.setUrnsList(urns);
                ar.getPropertydependenciesMap().set(key, deps);
            }
            const p = provider(r);
            if (p) ar.setProvider(p);
            return ar;
        }),
    );
    collect(await call(analyzeStack, stackReq), "");
    return lines;
}
