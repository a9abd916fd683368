/** `npm start` as a user runs it: the CLI in its own process, its exit code and what it prints. */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");

function npmStart(...args: string[]) {
    const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/preview.ts", ...args], {
        cwd: ROOT,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("npm start (offline preview CLI)", function () {
    it("previews prod with --strict (complete coverage), passes the gate, and writes the JSON", function () {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "notify-cli-")), "out.json");
        const run = npmStart("--stack", "prod", "--json", out, "--strict");
        expect(run.status, run.stderr).to.equal(0);
        expect(run.stdout).to.include("Coverage: complete").and.to.include("-> PASS");
        expect(run.stdout).to.include("pulumi:pulumi:Stack").and.to.include("notify:messaging:Messaging");
        expect(run.stdout).to.match(/\+ \d+ to create/);
        expect(run.stdout).to.include("ingressTopicArn");
        const json = JSON.parse(fs.readFileSync(out, "utf8"));
        expect(json.stack).to.equal("prod");
        expect(json.resources.length).to.be.greaterThan(100);
        expect(Object.keys(json.resources[1])).to.have.members(["type", "name", "parent", "inputs"]);
        expect(json.outputs.ingressTopicArn).to.match(/^arn:aws:sns:/);
    });

    it("previews dev with --strict: complete coverage, the gate passes", function () {
        const run = npmStart("--strict");
        expect(run.status, run.stderr).to.equal(0);
        expect(run.stdout).to.include("Coverage: complete").and.to.include("Policy gate (stack dev");
    });

    it("exits 1 naming the key and the stack file when a required setting is missing", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "notify-broken-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        const config = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")).config;
        delete config["notify:sesSenderDomain"];
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), YAML.stringify({ config }));
        const run = npmStart("--program", dir);
        expect(run.status).to.equal(1);
        expect(run.stderr).to.include("Stack 'dev' is missing configuration value 'sesSenderDomain'"); // the engine's words
        expect(run.stderr).to.include("notify:sesSenderDomain").and.to.include("Pulumi.dev.yaml");
    });

    it("exits 1 on a value of the wrong type, an invalid value the program checks, and an unknown stack", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "notify-broken-"));
        const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
        project.main = path.join(ROOT, "index.ts"); // this program, with a stack file of the test's
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify(project));
        const config = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")).config;
        config["notify:lambdaMemoryMb"] = "lots";
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), YAML.stringify({ config }));
        const wrongType = npmStart("--program", dir);
        expect(wrongType.status).to.equal(1);
        expect(wrongType.stderr).to.include(
            "Stack 'dev' with configuration key 'lambdaMemoryMb' must be of type 'integer'",
        );
        expect(wrongType.stderr).to.include("notify:lambdaMemoryMb");
        config["notify:lambdaMemoryMb"] = 256;
        config["notify:campaignId"] = "x".repeat(102);
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), YAML.stringify({ config }));
        const longCampaign = npmStart("--program", dir, "--no-gate");
        expect(longCampaign.status).to.equal(1);
        expect(longCampaign.stderr).to.include("notify:campaignId").and.to.include("Pulumi.dev.yaml");
        const unknown = npmStart("--stack", "staging");
        expect(unknown.status).to.equal(1);
        expect(unknown.stderr).to.include("Pulumi.staging.yaml");
    });
});
