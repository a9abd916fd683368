/**
 * The pack as the CLI runs it: policy/index.ts started with policy/ as working directory serves the
 * analyzer over gRPC on 127.0.0.1 and prints its port; this test talks to it the way the engine does.
 */
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { basePolicies } from "../../policy/policies";

const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [pulumiDir] }));
const analyzerRpc = require(path.join(pulumiDir, "proto", "analyzer_grpc_pb"));
const pb = require(path.join(pulumiDir, "proto", "analyzer_pb"));
const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] }));
const { Empty } = require(require.resolve("google-protobuf/google/protobuf/empty_pb", { paths: [pulumiDir] }));

describe("policy pack served as the CLI runs it (policy/index.ts)", function () {
    this.timeout(60000);
    let child: ChildProcess;
    let client: any;

    before(async () => {
        child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "index.ts"], {
            cwd: path.join(__dirname, "..", "..", "policy"),
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        child.stderr!.on("data", (d) => (stderr += d));
        const port = await new Promise<number>((resolve, reject) => {
            child.stdout!.once("data", (d) => resolve(Number(String(d).trim())));
            child.once("exit", (code) => reject(new Error(`pack exited with ${code}: ${stderr}`)));
        });
        expect(port).to.be.greaterThan(0);
        client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        child?.kill();
    });

    const rpc = (method: string, request: any) =>
        new Promise<any>((resolve, reject) =>
            client[method](request, (err: any, response: any) => (err ? reject(err) : resolve(response))),
        );

    it("announces every policy, mandatory by default, with exemptions in each config schema", async () => {
        const info = await rpc("getAnalyzerInfo", new Empty());
        expect(info.getName()).to.equal("notify-guard");
        expect(info.getVersion()).to.equal("0.1.0");
        const policies = info.getPoliciesList();
        expect(policies.map((p: any) => p.getName())).to.deep.equal(basePolicies.map((p) => p.name));
        for (const p of policies) {
            expect(p.getEnforcementlevel(), p.getName()).to.equal(1); // MANDATORY
            expect(Object.keys(p.getConfigschema().getProperties().toJavaScript()), p.getName()).to.include(
                "exemptions",
            );
        }
    });

    it("reports an untagged, unencrypted topic when the engine analyzes it", async () => {
        const req = new pb.AnalyzeRequest();
        req.setType("aws:sns/topic:Topic");
        req.setName("t");
        req.setUrn("urn:pulumi:prod::notify::aws:sns/topic:Topic::t");
        req.setProperties(Struct.fromJavaScript({}));
        const options = new pb.AnalyzerResourceOptions();
        options.setProtect(false);
        req.setOptions(options);
        const response = await rpc("analyze", req);
        const found = response
            .getDiagnosticsList()
            .map((d: any) => `${d.getPolicyname()}: ${d.getMessage().split("\n")[1]}`);
        expect(found).to.deep.equal([
            "required-tags: Missing tags: Environment, Application, Owner, CostCenter.",
            "encryption-at-rest-cmk: kmsMasterKeyId is not set.",
        ]);
    });
});
