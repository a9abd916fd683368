import { expect } from "chai";
import * as path from "node:path";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { findExemption, isExpired } from "../../policy/exemptions";
import { formatGateReport, runGate } from "../../toolkit/gate/gate";
import { createPolicies } from "../../policy/policies";
import { configFile, gate, previewOf, res, urnOf, violationsOf } from "./harness";

const star = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
const legacy = () => res("aws:iam/policy:Policy", "legacy-admin", { policy: star });
const withExemptions = (...exemptions: object[]) => ({ all: "mandatory", "no-wildcard-iam": { exemptions } });
const now = new Date("2026-11-21T12:00:00Z");

describe("exemptions", () => {
    it("match a resource by name glob or URN glob", () => {
        const e = [{ resource: "legacy-*", reason: "r" }];
        expect(findExemption(e, "legacy-admin", "urn:x")).to.equal(e[0]);
        expect(findExemption(e, "admin", "urn:x")).to.equal(undefined);
        const byUrn = [{ resource: "urn:pulumi:prod::*::aws:iam/policy:Policy::*", reason: "r" }];
        expect(findExemption(byUrn, "anything", urnOf("prod", "aws:iam/policy:Policy", "anything"))).to.equal(byUrn[0]);
        expect(findExemption(byUrn, "anything", urnOf("dev", "aws:iam/policy:Policy", "anything"))).to.equal(undefined);
    });

    it("suppress the violation and are listed as used", () => {
        const report = gate(
            [legacy()],
            withExemptions({ resource: "legacy-*", reason: "SEC-42: removed with the v1 API", expires: "2026-12-31" }),
            { now },
        );
        expect(violationsOf(report, "no-wildcard-iam")).to.deep.equal([]);
        expect(report.exitCode).to.equal(0);
        expect(report.exemptionsUsed).to.have.length(1);
        expect(report.exemptionsUsed[0]).to.deep.include({ policy: "no-wildcard-iam", resourceName: "legacy-admin" });
        expect(report.exemptionsUsed[0].exemption.reason).to.equal("SEC-42: removed with the v1 API");
    });

    it("hold through their expiry day and become a violation after it", () => {
        const e = { resource: "legacy-admin", reason: "SEC-42", expires: "2026-11-21" };
        expect(isExpired(e, new Date("2026-11-21T23:59:59Z"))).to.equal(false);
        expect(isExpired(e, new Date("2026-11-22T00:00:00Z"))).to.equal(true);
        const report = gate([legacy()], withExemptions(e), { now: new Date("2026-11-22T08:00:00Z") });
        const found = violationsOf(report, "no-wildcard-iam");
        expect(found).to.have.length(1);
        expect(found[0]).to.contain('(exemption "legacy-admin" expired on 2026-11-21: SEC-42)');
        expect(report.exemptionsUsed).to.deep.equal([]);
        expect(report.exitCode).to.equal(1);
    });

    it("apply to stack policies (by the URN the policy reports)", () => {
        const queue = res("aws:sqs/queue:Queue", "legacy-queue", { kmsMasterKeyId: "alias/k" });
        const report = gate(
            [queue],
            {
                all: "disabled",
                "tls-only-access": {
                    enforcementLevel: "mandatory",
                    exemptions: [{ resource: "legacy-*", reason: "consumer needs HTTP until Q1" }],
                },
            },
            { now },
        );
        expect(violationsOf(report, "tls-only-access")).to.deep.equal([]);
        expect(report.exemptionsUsed.map((u) => `${u.policy}/${u.resourceName}`)).to.deep.equal([
            "tls-only-access/legacy-queue",
        ]);
    });

    it("reject a missing reason, a bad date or an unknown field with a clear error", () => {
        expect(() => gate([legacy()], withExemptions({ resource: "x" }))).to.throw(
            /exemptions\[0\]\.reason is required/,
        );
        expect(() => gate([legacy()], withExemptions({ resource: "x", reason: "r", expires: "2026-02-30" }))).to.throw(
            /"expires" must be a date YYYY-MM-DD/,
        );
        expect(() => gate([legacy()], withExemptions({ resource: "x", reason: "r", until: "2026-01-01" }))).to.throw(
            /until is not a known setting/,
        );
    });

    it("show as advisory notices under the CLI, where no gate collects them", () => {
        const policy = createPolicies({ now: () => now }).find(
            (p) => p.name === "no-wildcard-iam",
        ) as ResourceValidationPolicy;
        const reported: unknown[] = [];
        const args: any = {
            type: "aws:iam/policy:Policy",
            name: "legacy-admin",
            urn: urnOf("prod", "aws:iam/policy:Policy", "legacy-admin"),
            props: { policy: star },
            getConfig: () => ({ exemptions: [{ resource: "legacy-*", reason: "SEC-42" }] }),
            notApplicable: () => {
                throw new Error("n/a");
            },
        };
        (policy.validateResource as any)(args, (m: unknown) => reported.push(m));
        expect(reported).to.have.length(1);
        expect(reported[0]).to.deep.include({ enforcementLevel: "advisory" });
        expect((reported[0] as any).message).to.match(/^exempted \(SEC-42\): policy: Statement\[0\]/);
    });
});

describe("per-stack enforcement", () => {
    const oldRuntime = (stack = "prod") =>
        res("aws:lambda/function:Function", "fn", { runtime: "nodejs18.x" }, { stack });
    const stackConfig = (stack: string) => path.join(__dirname, "..", "..", "policy", `config.${stack}.json`);

    it("makes hygiene advisory in dev and mandatory in prod", () => {
        const dev = runGate(previewOf([oldRuntime("dev")], { stack: "dev" }), {
            stack: "dev",
            configFile: stackConfig("dev"),
        });
        expect(dev.violations.map((v) => `${v.level} ${v.policy}`)).to.deep.equal(["advisory lambda-runtime-pinned"]);
        expect(dev.exitCode).to.equal(0);
        const prod = runGate(previewOf([oldRuntime()], { stack: "prod" }), {
            stack: "prod",
            configFile: stackConfig("prod"),
        });
        expect(prod.violations.map((v) => `${v.level} ${v.policy}`)).to.deep.equal(["mandatory lambda-runtime-pinned"]);
        expect(prod.exitCode).to.equal(1);
    });

    it("keeps prod all mandatory with no exemptions", () => {
        const config = require("../../policy/config.prod.json");
        expect(config.all).to.equal("mandatory");
        for (const [name, entry] of Object.entries<any>(config)) {
            if (name !== "all") {
                expect(typeof entry === "string" ? entry : entry.enforcementLevel, name).to.be.oneOf([
                    undefined,
                    "mandatory",
                ]);
                expect(entry.exemptions ?? [], name).to.deep.equal([]);
            }
        }
    });

    it("reads the default config of the stack, and lets a policy be disabled", () => {
        const report = runGate(previewOf([oldRuntime()], { stack: "prod" }), { stack: "prod" });
        expect(report.configFile).to.equal(stackConfig("prod"));
        const disabled = gate([oldRuntime()], { all: "mandatory", "lambda-runtime-pinned": "disabled" });
        expect(disabled.violations).to.deep.equal([]);
    });

    it("rejects config naming an unknown policy or level", () => {
        expect(() => gate([], { all: "mandatory", "no-such-policy": "advisory" })).to.throw(
            /"no-such-policy" is not a policy of this pack/,
        );
        expect(() => gate([], { all: "strict" })).to.throw(
            /"all" must be one of advisory, mandatory, remediate, disabled/,
        );
        expect(() => gate([], { "required-tags": { requiredKeys: "Owner" } })).to.throw(
            /requiredKeys must be an array/,
        );
    });

    it("rejects a given config file that does not exist", () => {
        expect(() => runGate(previewOf([]), { stack: "prod", configFile: `${configFile({})}.missing` })).to.throw(
            /does not exist/,
        );
    });

    it("runs a stack without policy/config.<stack>.json with the documented default: every policy mandatory", () => {
        const report = runGate(previewOf([oldRuntime("qa")], { stack: "qa" }), { stack: "qa" });
        expect(report.usesDefaultConfig).to.equal(true);
        expect(report.configFile).to.equal(stackConfig("qa"));
        expect(report.violations.map((v) => `${v.level} ${v.policy}`)).to.deep.equal([
            "mandatory lambda-runtime-pinned",
        ]);
        expect(report.policiesRun).to.equal(12);
        expect(report.exitCode).to.equal(1);
        expect(formatGateReport(report).split("\n").pop()).to.contain(
            "config default: all mandatory, no policy/config.qa.json",
        );
    });
});
