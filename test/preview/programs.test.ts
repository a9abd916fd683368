/**
 * `npm start -- --program <fixture>` on one small program per class of real-world program the offline
 * preview used to get wrong (test/fixtures/programs/): each run ends with the full report or a non-zero
 * exit naming the cause, never a silent exit 0. The runs are started together in `before` (each costs
 * a Node process that loads @pulumi/aws) and judged one behaviour per `it`.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures", "programs");

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

function npmStart(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", "scripts/preview.ts", ...args],
            { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
            (err, stdout, stderr) => resolve({ status: err ? ((err.code as number) ?? 1) : 0, stdout, stderr }),
        );
    });
}

const program = (name: string, ...extra: string[]) =>
    npmStart("--program", path.join(FIXTURES, name), "--stack", "dev", ...extra);

/** The report's sections, in the order the CLI prints them. */
function expectFullReport(run: Run): void {
    expect(run.stdout, run.stderr).to.include("pulumi:pulumi:Stack");
    expect(run.stdout).to.match(/\+ \d+ to create/);
    expect(run.stdout).to.include("Outputs:");
    expect(run.stdout).to.match(/Policy gate \(stack dev, .*\): \d+ policies over \d+ resources/);
}

describe("npm start on real-world program shapes (test/fixtures/programs)", function () {
    const runs: Record<string, Run> = {};

    before(async function () {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "notify-no-project-"));
        const started: Record<string, Promise<Run>> = {
            unknownExport: program("unknown-export"),
            policyDocument: program("policy-document-wildcard"),
            relativeFile: program("relative-file-read"),
            esm: program("esm-nodenext"),
            remoteStrict: program("remote-component", "--strict"),
            lookup: program("lookup"),
            neverSettles: program("never-settles"),
            entryThrows: program("entry-throws"),
            badStackYaml: program("bad-stack-yaml"),
            noProject: npmStart("--program", empty, "--stack", "dev"),
        };
        for (const [key, run] of Object.entries(started)) runs[key] = await run;
        runs.noProject.stderr = runs.noProject.stderr.replace(empty, "<empty dir>");
    });

    it("prints an export unknown at preview time as output<string> and still gives the verdict", function () {
        const run = runs.unknownExport;
        expectFullReport(run);
        expect(run.stdout).to.match(/publicIp\s+: output<string>\n/);
        expect(run.stdout).to.match(/url\s+: output<string>\n/);
        expect(run.stdout).to.match(/instanceType\s+: "t3.micro"/);
        expect(run.status).to.equal(0);
    });

    it("computes getPolicyDocument, so a * on * policy built with it fails the gate", function () {
        const run = runs.policyDocument;
        expectFullReport(run);
        expect(run.stdout).to.include("aws:iam/getPolicyDocument:getPolicyDocument ×1");
        expect(run.stdout).to.match(/\[mandatory\]\s+no-wildcard-iam\s+\(aws:iam\/policy:Policy: admin\)/);
        expect(run.stdout).to.include("-> FAIL");
        expect(run.status).to.equal(1);
    });

    it("runs the program in its own folder, so a relative file read finds the program's file", function () {
        const run = runs.relativeFile;
        expectFullReport(run);
        expect(run.stdout).to.include(
            'bootScript                  : "#!/bin/sh\\necho \\"hello from the fixture folder\\"',
        );
        expect(run.status).to.equal(0);
    });

    it("imports an ES-module program with its tsconfig and a NodeNext .js specifier, with the engine's env", function () {
        const run = runs.esm;
        expectFullReport(run);
        expect(run.stdout).to.match(/type\s+: "t4g.micro"/); // from names.ts, imported as ./names.js
        expect(run.stdout).to.match(/project\s+: "esm-nodenext"/); // PULUMI_NODEJS_PROJECT
        expect(run.stdout).to.match(/dryRun\s+: "true"/); // PULUMI_NODEJS_DRY_RUN
        expect(run.status).to.equal(0);
    });

    it("lists a remote component as partial coverage, and --strict makes that exit 1", function () {
        const run = runs.remoteStrict;
        expectFullReport(run);
        expect(run.stdout).to.include("Partial coverage (1)");
        expect(run.stdout).to.include("remote component awsx:ec2:Vpc 'network'");
        expect(run.stdout).to.include("--strict: partial coverage");
        expect(run.status).to.equal(1);
    });

    it("answers lookups with values of the right shape, lists them as stand-ins, and passes without --strict", function () {
        const run = runs.lookup;
        expectFullReport(run);
        expect(run.stdout).to.include('zoneNames                   : ["eu-west-1a","eu-west-1b","eu-west-1c"]');
        expect(run.stdout).to.match(/amiId\s+: "ami-[0-9a-f]{17}"/);
        expect(run.stdout).to.include("stand-in invoke aws:index/getAvailabilityZones:getAvailabilityZones ×1");
        expect(run.stdout).to.include("stand-in invoke aws:ec2/getAmi:getAmi ×1");
        expect(run.status).to.equal(0);
    });

    it("names what was awaited when a promise never settles, and exits 1", function () {
        const run = runs.neverSettles;
        expect(run.stderr).to.include("waiting for stack output 'forever' (a promise that never settles)");
        expect(run.status).to.equal(1);
    });

    it("names the entry that threw and its error, and exits 1", function () {
        const run = runs.entryThrows;
        expect(run.stderr).to.include("entry-throws/index.ts").and.to.include("the program refuses to run");
        expect(run.status).to.equal(1);
    });

    it("names a stack file that is not YAML, and exits 1", function () {
        const run = runs.badStackYaml;
        expect(run.stderr).to.include("bad-stack-yaml/Pulumi.dev.yaml is not valid YAML");
        expect(run.status).to.equal(1);
    });

    it("names a program folder without Pulumi.yaml, and exits 1", function () {
        const run = runs.noProject;
        expect(run.stderr).to.include("no Pulumi.yaml in <empty dir>");
        expect(run.status).to.equal(1);
    });
});
