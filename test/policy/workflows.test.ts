/**
 * The CI/CD workflows do what the README promises: checked structurally (they run only on GitHub).
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

const dir = path.join(__dirname, "..", "..", ".github", "workflows");
const load = (file: string) => YAML.parse(fs.readFileSync(path.join(dir, file), "utf8"));
const runs = (job: any): string[] => job.steps.filter((s: any) => s.run).map((s: any) => s.run.trim());
const pulumiSteps = (job: any) => job.steps.filter((s: any) => String(s.uses ?? "").startsWith("pulumi/actions@"));

describe("CI/CD workflows", () => {
    it("pull requests run npm ci, npm test and the offline prod gate before any preview", () => {
        const wf = load("pull-request.yml");
        expect(Object.keys(wf.on)).to.deep.equal(["pull_request"]);
        expect(runs(wf.jobs["test-and-gate"])).to.deep.equal([
            "npm ci",
            "npm test",
            "npm start -- --stack prod --strict",
        ]);
        expect(wf.jobs.preview.needs).to.equal("test-and-gate");
    });

    it("pull requests preview dev and prod with the pack and that stack's config, commented on the PR", () => {
        const preview = load("pull-request.yml").jobs.preview;
        expect(preview.strategy.matrix.stack).to.deep.equal(["dev", "prod"]);
        const [step] = pulumiSteps(preview);
        expect(step.with).to.deep.include({
            command: "preview",
            policyPacks: "policy",
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template.
            policyPackConfigs: "policy/config.${{ matrix.stack }}.json",
            "comment-on-pr": true,
        });
        expect(preview.permissions).to.deep.include({ "id-token": "write", "pull-requests": "write" });
    });

    it("main updates dev with the pack; prod waits for the protected environment (or a v* tag)", () => {
        const wf = load("deploy.yml");
        expect(wf.on.push).to.deep.equal({ branches: ["main"], tags: ["v*"] });
        for (const stack of ["dev", "prod"]) {
            const job = wf.jobs[stack];
            expect(job.environment).to.equal(stack);
            const [step] = pulumiSteps(job);
            expect(step.with).to.deep.include({
                command: "up",
                policyPacks: "policy",
                policyPackConfigs: `policy/config.${stack}.json`,
            });
            expect(step.with["stack-name"]).to.equal(`\${{ vars.PULUMI_STACK_PREFIX }}${stack}`);
        }
        expect(wf.jobs.prod.needs).to.deep.equal(["test-and-gate", "dev"]);
        expect(runs(wf.jobs["test-and-gate"])).to.include("npm start -- --stack prod --strict");
    });

    it("run every job on Node 22, the Node of the functions' nodejs22.x runtime", () => {
        for (const file of fs.readdirSync(dir)) {
            for (const [name, job] of Object.entries<any>(load(file).jobs)) {
                const setup = job.steps.filter((s: any) => String(s.uses ?? "").startsWith("actions/setup-node@"));
                expect(setup, `${file} ${name}`).to.have.length(1);
                expect(setup[0].with["node-version"], `${file} ${name}`).to.equal(22);
            }
        }
    });

    it("use the current major of every action (Node 24 action runtimes)", () => {
        // Checked 2026-12: actions/checkout v7.0.1 (2026-07), actions/setup-node v7.0.0 (2026-07),
        // aws-actions/configure-aws-credentials v6 (node24), pulumi/actions v7.0.0 (2026-05, node24).
        const current: Record<string, string> = {
            "actions/checkout": "v7",
            "actions/setup-node": "v7",
            "aws-actions/configure-aws-credentials": "v6",
            "pulumi/actions": "v7",
        };
        for (const file of fs.readdirSync(dir)) {
            for (const job of Object.values<any>(load(file).jobs)) {
                for (const step of job.steps.filter((s: any) => s.uses)) {
                    const [action, version] = String(step.uses).split("@");
                    expect(current, `${file}: ${step.uses} is an action this test knows`).to.have.property(action);
                    expect(version, `${file}: ${action}`).to.equal(current[action]);
                }
            }
        }
    });

    it("take credentials only from secrets, variables and OIDC: nothing secret in the repository", () => {
        for (const file of fs.readdirSync(dir)) {
            const text = fs.readFileSync(path.join(dir, file), "utf8");
            expect(text, file).not.to.match(/AKIA[0-9A-Z]{16}/);
            expect(text, file).not.to.match(/aws-secret-access-key|aws-access-key-id/);
            for (const match of text.matchAll(/(PULUMI_ACCESS_TOKEN|PULUMI_CONFIG_PASSPHRASE):\s*(.+)/g)) {
                expect(match[2].trim(), `${file} ${match[1]}`).to.equal(`\${{ secrets.${match[1]} }}`);
            }
            expect(text, file).to.contain("role-to-assume: ${{ vars.AWS_");
        }
    });
});
