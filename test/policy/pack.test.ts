/**
 * The pack as the engine runs it, installed alone. `pulumi policy publish` ships the folder as
 * `npm pack` makes it, and the CLI installs a published pack with `npm install` in the unpacked
 * `package/` folder (pulumi/pulumi pkg/backend/httpstate/policypack.go, installRequiredPolicy). So this
 * test packs policy/, unpacks it in a temporary folder outside the repository, installs it from the npm
 * registry, and starts it exactly as the CLI's analyzer plugin does: `node
 * <pack>/node_modules/@pulumi/pulumi/cmd/run-policy-pack <engine address> .` in the pack's folder with
 * PULUMI_CONFIG and PULUMI_NODEJS_{PROJECT,STACK,DRY_RUN,ORGANIZATION} (pkg/resource/plugin
 * analyzer_plugin.go, constructEnv). run-policy-pack type-checks the pack with ts-node and the
 * TypeScript it resolves from there. The test then plays the engine over gRPC on 127.0.0.1:
 * GetAnalyzerInfo, Configure with policy/config.prod.json, ConfigureStack, Analyze per resource and
 * AnalyzeStack, and compares the verdicts with the offline gate's.
 */
import { expect } from "chai";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { basePolicies } from "../../policy/policies";
import { runGate } from "../../toolkit/gate/gate";
import { previewProgram } from "../../toolkit/preview/preview";
import type { PreviewResult } from "../../toolkit/preview/types";
import {
    Empty,
    analyzeRequests,
    analyzeStackRequest,
    configureRequest,
    diagnosticLines,
    pb,
    policiesOfInfo,
    Struct,
} from "./analyzer-requests";

const repo = path.join(__dirname, "..", "..");
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [pulumiDir] }));
const analyzerRpc = require(path.join(pulumiDir, "proto", "analyzer_grpc_pb"));
const engineRpc = require(path.join(pulumiDir, "proto", "engine_grpc_pb"));
const prodConfig = path.join(repo, "policy", "config.prod.json");

/** npm pack policy/ → unpack → npm install, as publish + the CLI's install do. Returns the pack folder. */
function installPackAlone(root: string): string {
    const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", root], {
        cwd: path.join(repo, "policy"),
        encoding: "utf8",
    }).trim();
    execFileSync("tar", ["-xzf", path.join(root, tarball), "-C", root]);
    const dir = path.join(root, "package");
    // --prefer-offline only skips re-validating what npm's cache already holds; resolution is the same.
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
        cwd: dir,
        stdio: ["ignore", "ignore", "pipe"],
    });
    return dir;
}

/** A minimal Engine service: the analyzer is given its address; every call it makes is recorded. */
async function startEngine(calls: string[]): Promise<{ address: string; server: any }> {
    const server = new grpc.Server();
    const record = (method: string) => (_call: any, callback: any) => {
        calls.push(method);
        callback(null, new Empty());
    };
    server.addService(engineRpc.EngineService, {
        log: record("log"),
        getRootResource: record("getRootResource"),
        setRootResource: record("setRootResource"),
        startDebugging: record("startDebugging"),
        requirePulumiVersion: record("requirePulumiVersion"),
    });
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err: Error | null, p: number) =>
            err ? reject(err) : resolve(p),
        ),
    );
    return { address: `127.0.0.1:${port}`, server };
}

/** The stack's config as the engine passes it in PULUMI_CONFIG: `<namespace>:<key>` → string. */
function stackConfigEnv(programDir: string, stack: string): string {
    const config = YAML.parse(fs.readFileSync(path.join(programDir, `Pulumi.${stack}.yaml`), "utf8"))?.config ?? {};
    const flat: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
        flat[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return JSON.stringify(flat);
}

interface RunningPack {
    child: ChildProcess;
    client: any;
    stderr: () => string;
}

/** Starts the installed pack as the CLI's analyzer shim does, for one program and stack. */
async function startPack(packDir: string, engine: string, project: string, programDir: string): Promise<RunningPack> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // Nothing of this test process's own TypeScript setup may leak into the child.
    for (const key of Object.keys(env)) {
        if (key.startsWith("TS_NODE_") || key === "NODE_OPTIONS") delete env[key];
    }
    Object.assign(env, {
        PULUMI_CONFIG: stackConfigEnv(programDir, "prod"),
        PULUMI_NODEJS_ORGANIZATION: "organization",
        PULUMI_NODEJS_PROJECT: project,
        PULUMI_NODEJS_STACK: "prod",
        PULUMI_NODEJS_DRY_RUN: "true",
        PULUMI_ORGANIZATION: "organization",
        PULUMI_PROJECT: project,
        PULUMI_STACK: "prod",
        PULUMI_DRY_RUN: "true",
    });
    const runner = path.join(packDir, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
    const child = spawn(process.execPath, [runner, engine, "."], {
        cwd: packDir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
        child.stdout!.once("data", (d) => resolve(Number(String(d).trim())));
        child.once("exit", (code) => reject(new Error(`run-policy-pack exited with ${code}:\n${stderr}`)));
    });
    expect(port, stderr).to.be.greaterThan(0);
    const client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return { child, client, stderr: () => stderr };
}

const rpc = (client: any, method: string, request: any) =>
    new Promise<any>((resolve, reject) =>
        client[method](request, (err: any, response: any) => (err ? reject(err) : resolve(response))),
    );

/** The engine's half of one preview: info, Configure (config.prod.json), ConfigureStack, Analyze each, AnalyzeStack. */
async function analyzeOverGrpc(client: any, result: PreviewResult): Promise<string[]> {
    const info = await rpc(client, "getAnalyzerInfo", new Empty());
    await rpc(client, "configure", configureRequest(policiesOfInfo(info), prodConfig));
    const stack = new pb.AnalyzerStackConfigureRequest();
    stack.setStack(result.stack);
    stack.setProject(result.project);
    stack.setOrganization("organization");
    stack.setDryRun(true);
    stack.getTagsMap().set("pulumi:project", result.project);
    stack.getTagsMap().set("pulumi:runtime", "nodejs");
    await rpc(client, "configureStack", stack);
    const lines: string[] = [];
    for (const req of analyzeRequests(result)) {
        lines.push(...diagnosticLines(await rpc(client, "analyze", req), req.getUrn()));
    }
    lines.push(...diagnosticLines(await rpc(client, "analyzeStack", analyzeStackRequest(result)), ""));
    return lines.sort();
}

const gateLines = (result: PreviewResult, programDir: string) =>
    runGate(result, { stack: "prod", configFile: prodConfig, programDir })
        .violations.map((v) => `${v.level} ${v.policy} ${v.resourceUrn} ${v.message}`)
        .sort();

describe("policy pack installed alone and served by run-policy-pack, as the CLI runs it", function () {
    this.timeout(600000);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "notify-guard-"));
    const engineCalls: string[] = [];
    let packDir: string;
    let engine: { address: string; server: any };
    const running: RunningPack[] = [];

    before(async () => {
        const started = Date.now();
        packDir = installPackAlone(root);
        console.log(`      (npm pack + npm install of policy/ alone: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
        engine = await startEngine(engineCalls);
    });

    after(() => {
        for (const pack of running) {
            pack.client.close();
            pack.child.kill();
        }
        engine?.server.forceShutdown();
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("resolves its own TypeScript and ts-node from the installed pack, not the vendored fallbacks", () => {
        const runnerDir = path.join(packDir, "node_modules", "@pulumi", "pulumi");
        const ts = require.resolve("typescript/package.json", { paths: [runnerDir] });
        const tsNode = require.resolve("ts-node/package.json", { paths: [runnerDir] });
        expect(ts.startsWith(packDir)).to.equal(true);
        expect(tsNode.startsWith(packDir)).to.equal(true);
        expect(JSON.parse(fs.readFileSync(ts, "utf8")).version).to.equal("5.9.3");
    });

    describe("the prod stack of this program", () => {
        let pack: RunningPack;
        let result: PreviewResult;
        before(async () => {
            [pack, result] = await Promise.all([
                startPack(packDir, engine.address, "notify", repo),
                previewProgram({ programDir: repo, stack: "prod" }),
            ]);
            running.push(pack);
        });

        it("announces every policy, mandatory by default, with exemptions in each config schema", async () => {
            const info = await rpc(pack.client, "getAnalyzerInfo", new Empty());
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

        it("gives the gate's verdict: no violation", async () => {
            const overGrpc = await analyzeOverGrpc(pack.client, result);
            expect(overGrpc).to.deep.equal(gateLines(result, repo));
            expect(overGrpc).to.deep.equal([]);
        });

        it("reports an untagged, unencrypted topic when the engine analyzes it", async () => {
            const req = new pb.AnalyzeRequest();
            req.setType("aws:sns/topic:Topic");
            req.setName("t");
            req.setUrn("urn:pulumi:prod::notify::aws:sns/topic:Topic::t");
            req.setProperties(Struct.fromJavaScript({}));
            req.setOptions(new pb.AnalyzerResourceOptions());
            const response = await rpc(pack.client, "analyze", req);
            const found = diagnosticLines(response, req.getUrn()).map((l) => l.replace(` ${req.getUrn()}`, ""));
            expect(found).to.deep.equal([
                "mandatory required-tags Missing tags: Environment, Application, Owner, CostCenter.",
                "mandatory encryption-at-rest-cmk kmsMasterKeyId is not set.",
            ]);
        });
    });

    describe("the violations fixture (test/fixtures/violations, stack prod)", () => {
        const fixtureDir = path.join(repo, "test", "fixtures", "violations");
        let pack: RunningPack;
        let result: PreviewResult;
        before(async () => {
            [pack, result] = await Promise.all([
                startPack(packDir, engine.address, "violations-fixture", fixtureDir),
                previewProgram({ programDir: fixtureDir, stack: "prod" }),
            ]);
            running.push(pack);
        });

        it("gives the gate's verdicts, violation for violation", async () => {
            const overGrpc = await analyzeOverGrpc(pack.client, result);
            const gate = gateLines(result, fixtureDir);
            expect(overGrpc).to.deep.equal(gate);
            expect(overGrpc.filter((l) => l.startsWith("mandatory "))).to.have.length(gate.length);
            expect(gate.length).to.be.greaterThan(10);
        });
    });

    // Last, once both packs have served a whole preview (mocha runs nested suites in order).
    describe("after both previews", () => {
        it("never dialled the engine address it was given (run-policy-pack drops it) and wrote nothing to stderr", () => {
            expect(running).to.have.length(2);
            expect(engineCalls).to.deep.equal([]);
            for (const pack of running) {
                expect(pack.stderr()).to.equal("");
            }
        });
    });
});
