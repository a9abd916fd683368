/**
 * The offline policy gate: runs this pack over the resources an offline preview recorded, with a
 * stack's enforcement config, the way the Pulumi engine runs an analyzer — per-resource policies get
 * `ResourceValidationArgs` (props behind the SDK's unknown-checking proxy, urn, name, opts, the
 * provider resource's props, stackTags, isType/asType, getConfig, notApplicable), stack policies get
 * every resource with parent, provider, dependencies and property dependencies resolved to resources.
 *
 * Deviations from the engine, all because there is no engine: stack policies see resource *inputs*
 * (the engine gives outputs; during preview those are the inputs plus unknowns), and secrets are
 * "[secret]" placeholders.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import type {
    EnforcementLevel,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import type { PreviewResource, PreviewResult } from "../preview/types";
import { type ExemptionUse, validateExemption, withExemptionsSchema } from "../../policy/exemptions";
import { loadPolicyConfig, type ResolvedPolicyConfig } from "../../policy/lib/config";
import { isUnknownValueError } from "../../policy/lib/values";
import { basePolicies, createPolicies, policyPackName, policyPackVersion } from "../../policy/policies";

export interface GateViolation {
    level: "mandatory" | "advisory";
    policy: string;
    /** Empty for a violation of the stack as a whole. */
    resourceUrn: string;
    resourceType: string;
    resourceName: string;
    message: string;
    /** The policy's description (the CLI prints it above the message). */
    description: string;
}

export interface GateReport {
    stack: string;
    configFile: string;
    policyPack: string;
    violations: GateViolation[];
    exemptionsUsed: ExemptionUse[];
    policiesRun: number;
    resourcesChecked: number;
    /** 1 iff a mandatory policy is violated. */
    exitCode: 0 | 1;
}

export interface GateOptions {
    stack: string;
    /** Defaults to policy/config.<stack>.json of this repository, whatever program is gated. */
    configFile?: string;
    /** Pins the clock for exemption expiry. */
    now?: Date;
    /**
     * The gated program's directory. When given, resources without an explicit provider get the
     * default provider the engine would create, configured from `aws:*` keys of Pulumi.<stack>.yaml
     * (so `aws:defaultTags` set in stack config counts for tagging).
     */
    programDir?: string;
}

/** Optional fields a preview may record beyond PreviewResource (the engine passes them as opts). */
type RecordedResource = PreviewResource & { ignoreChanges?: string[]; protect?: boolean; aliases?: string[] };

export function defaultConfigFile(stack: string): string {
    return path.join(__dirname, "..", "..", "policy", `config.${stack}.json`);
}

// The same proxy the analyzer wraps props in (internal to @pulumi/policy, hence no typings): policies
// then behave here exactly as under the engine, including on values unknown during preview.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { unknownCheckingProxy } = require("@pulumi/policy/proxy") as { unknownCheckingProxy<T>(value: T): T };

class GateNotApplicable extends Error {}

function throwNotApplicable(reason?: string): never {
    throw new GateNotApplicable(reason ?? "Policy does not apply");
}

/** The props of the default provider the engine would create from the stack's `aws:` config. */
function defaultProviderProps(programDir: string, stack: string): Record<string, any> {
    const file = path.join(programDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        return {};
    }
    const config = YAML.parse(fs.readFileSync(file, "utf8"))?.config ?? {};
    const props: Record<string, any> = {};
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith("aws:")) {
            // Provider inputs travel as strings; complex config values as JSON (as @pulumi/aws does).
            props[key.slice(4)] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return props;
}

function optionsOf(r: RecordedResource): PolicyResourceOptions {
    const opts: PolicyResourceOptions = {
        protect: r.protect ?? false,
        ignoreChanges: r.ignoreChanges ?? [],
        aliases: r.aliases ?? [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
    };
    if (r.parent) {
        opts.parent = r.parent;
    }
    return opts;
}

function isTypeOf(type: string, resourceClass: any): boolean {
    const pulumiType = resourceClass?.__pulumiType;
    if (pulumiType) {
        return type === pulumiType;
    }
    return typeof resourceClass?.isInstance === "function" && resourceClass.isInstance({ __pulumiType: type }) === true;
}

function assertSync(result: unknown, policy: string): void {
    if (result && typeof (result as Promise<void>).then === "function") {
        throw new Error(`policy "${policy}" returned a promise: the offline gate runs policies synchronously`);
    }
}

function levelOf(
    policy: { enforcementLevel?: EnforcementLevel },
    config: ResolvedPolicyConfig | undefined,
): EnforcementLevel {
    return config?.enforcementLevel ?? policy.enforcementLevel ?? "advisory";
}

export function runGate(result: PreviewResult, options: GateOptions): GateReport {
    const configFile = options.configFile ?? defaultConfigFile(options.stack);
    if (!fs.existsSync(configFile)) {
        throw new Error(`no policy config for stack "${options.stack}": ${configFile} does not exist`);
    }
    // Checked against the schemas the pack declares (each policy's settings plus `exemptions`), as the CLI does.
    const config = loadPolicyConfig(
        configFile,
        basePolicies.map((p) => ({ name: p.name, configSchema: withExemptionsSchema(p.configSchema) })),
    );
    for (const [policy, c] of config) {
        const exemptions = c.settings.exemptions;
        if (Array.isArray(exemptions)) {
            exemptions.forEach((e, i) => {
                validateExemption(policy, e, i);
            });
        }
    }
    const now = options.now ?? new Date();
    const exemptionsUsed: ExemptionUse[] = [];
    const policies = createPolicies({ now: () => now, onExemptionUsed: (use) => exemptionsUsed.push(use) });
    const violations: GateViolation[] = [];
    const stackTags: ReadonlyMap<string, string> = new Map([
        ["pulumi:project", result.project],
        ["pulumi:runtime", "nodejs"],
    ]);

    const resources = result.resources as RecordedResource[];
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const defaultAws: PolicyProviderResource = {
        type: "pulumi:providers:aws",
        name: "default",
        urn: `urn:pulumi:${result.stack}::${result.project}::pulumi:providers:aws::default`,
        props: unknownCheckingProxy(options.programDir ? defaultProviderProps(options.programDir, result.stack) : {}),
    };
    const providerOf = (r: RecordedResource): PolicyProviderResource | undefined => {
        const explicit = r.provider ? byUrn.get(r.provider) : undefined;
        if (explicit) {
            return {
                type: explicit.type,
                name: explicit.name,
                urn: explicit.urn,
                props: unknownCheckingProxy(structuredClone(explicit.inputs)),
            };
        }
        // The engine gives custom resources of a package without an explicit provider that package's default provider.
        return r.custom && r.type.startsWith("aws:") ? defaultAws : undefined;
    };

    const report =
        (
            policy: { name: string; description: string },
            level: EnforcementLevel,
            fallback: RecordedResource | undefined,
        ) =>
        (message: string | { message?: string; enforcementLevel?: EnforcementLevel; urn?: string }, urn?: string) => {
            const detail = typeof message === "string" ? message : (message.message ?? "");
            const levelHere = typeof message === "string" ? level : (message.enforcementLevel ?? level);
            const target =
                (urn ? byUrn.get(urn) : undefined) ??
                (typeof message === "object" && message.urn ? byUrn.get(message.urn) : undefined) ??
                fallback;
            violations.push({
                level: levelHere === "advisory" ? "advisory" : "mandatory",
                policy: policy.name,
                resourceUrn: target?.urn ?? "",
                resourceType: target?.type ?? "",
                resourceName: target?.name ?? "",
                message: detail,
                description: policy.description,
            });
        };

    const cannotRunDuringPreview = (
        policy: { name: string; description: string },
        target: RecordedResource | undefined,
        err: Error,
    ) =>
        report(
            policy,
            "advisory",
            target,
        )(
            `can't run policy '${policy.name}' from policy pack '${policyPackName}@v${policyPackVersion}' during preview: ${err.message}`,
        );

    // Per-resource policies, in registration order, as the engine calls Analyze for each registration.
    for (const resource of resources) {
        for (const policy of policies.filter((p): p is ResourceValidationPolicy => "validateResource" in p)) {
            let level = levelOf(policy, config.get(policy.name));
            if (level === "disabled") {
                continue;
            }
            if (level === "remediate") {
                level = "mandatory";
            }
            const validations = Array.isArray(policy.validateResource)
                ? policy.validateResource
                : policy.validateResource
                  ? [policy.validateResource]
                  : [];
            if (
                validations.length === 1 &&
                (validations[0] as any).__pulumiType &&
                (validations[0] as any).__pulumiType !== resource.type
            ) {
                continue;
            }
            for (const validation of validations) {
                const props = unknownCheckingProxy(structuredClone(resource.inputs));
                const args: ResourceValidationArgs = {
                    type: resource.type,
                    props,
                    urn: resource.urn,
                    name: resource.name,
                    opts: optionsOf(resource),
                    stackTags,
                    isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
                    asType: ((resourceClass: any) =>
                        isTypeOf(resource.type, resourceClass) ? props : undefined) as any,
                    getConfig: <T extends object>() => structuredClone(config.get(policy.name)?.settings ?? {}) as T,
                    notApplicable: throwNotApplicable,
                };
                const provider = providerOf(resource);
                if (provider) {
                    args.provider = provider;
                }
                try {
                    assertSync(validation(args, report(policy, level, resource) as any), policy.name);
                } catch (err) {
                    if (err instanceof GateNotApplicable) {
                        continue;
                    }
                    if (isUnknownValueError(err)) {
                        cannotRunDuringPreview(policy, resource, err as Error);
                        continue;
                    }
                    throw new Error(
                        `Error validating resource ${resource.urn} with policy '${policy.name}': ${(err as Error).message}`,
                    );
                }
            }
        }
    }

    // Stack policies, once over all resources, as the engine calls AnalyzeStack.
    const stackPolicies = policies.filter((p): p is StackValidationPolicy => "validateStack" in p);
    for (const policy of stackPolicies) {
        let level = levelOf(policy, config.get(policy.name));
        if (level === "disabled") {
            continue;
        }
        if (level === "remediate") {
            level = "mandatory";
        }
        const pulumiType = (policy.validateStack as any).__pulumiType;
        if (pulumiType && !resources.some((r) => r.type === pulumiType)) {
            continue;
        }
        const policyResources = new Map<string, PolicyResource>();
        for (const r of resources) {
            const props = unknownCheckingProxy(structuredClone(r.inputs));
            const pr: PolicyResource = {
                type: r.type,
                props,
                urn: r.urn,
                name: r.name,
                opts: optionsOf(r),
                dependencies: [],
                propertyDependencies: {},
                isType: (resourceClass) => isTypeOf(r.type, resourceClass),
                asType: ((resourceClass: any) => (isTypeOf(r.type, resourceClass) ? props : undefined)) as any,
            };
            const provider = providerOf(r);
            if (provider) {
                pr.provider = provider;
            }
            policyResources.set(r.urn, pr);
        }
        const resolve = (urns: string[]) =>
            urns.map((u) => policyResources.get(u)).filter((x): x is PolicyResource => x !== undefined);
        for (const r of resources) {
            const pr = policyResources.get(r.urn)!;
            const parent = r.parent ? policyResources.get(r.parent) : undefined;
            if (parent) {
                pr.parent = parent;
            }
            pr.dependencies = resolve(r.dependencies ?? []);
            for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
                pr.propertyDependencies[key] = resolve(urns);
            }
        }
        const args: StackValidationArgs = {
            resources: [...policyResources.values()],
            getConfig: <T extends object>() => structuredClone(config.get(policy.name)?.settings ?? {}) as T,
            stackTags,
            notApplicable: throwNotApplicable,
        };
        try {
            assertSync(policy.validateStack(args, report(policy, level, undefined) as any), policy.name);
        } catch (err) {
            if (err instanceof GateNotApplicable) {
                continue;
            }
            if (isUnknownValueError(err)) {
                cannotRunDuringPreview(policy, undefined, err as Error);
                continue;
            }
            throw new Error(`Error validating stack with policy '${policy.name}': ${(err as Error).message}`);
        }
    }

    return {
        stack: options.stack,
        configFile,
        policyPack: `${policyPackName}@v${policyPackVersion}`,
        violations,
        exemptionsUsed,
        policiesRun: policies.filter((p) => levelOf(p, config.get(p.name)) !== "disabled").length,
        resourcesChecked: resources.length,
        exitCode: violations.some((v) => v.level === "mandatory") ? 1 : 0,
    };
}

/** The report as the CLI prints policy results: each violation (level, policy, resource, message), then a summary. */
export function formatGateReport(report: GateReport): string {
    const lines: string[] = ["Policies:"];
    const mandatory = report.violations.filter((v) => v.level === "mandatory").length;
    const advisory = report.violations.length - mandatory;
    lines.push(`    ${mandatory > 0 ? "❌" : advisory > 0 ? "⚠️" : "✅"} ${report.policyPack} (local: policy)`);
    for (const v of report.violations) {
        const where = v.resourceUrn ? `  (${v.resourceType}: ${v.resourceName})` : "";
        lines.push(`        - [${v.level}]  ${v.policy}${where}`);
        lines.push(`          ${v.description}`);
        for (const line of v.message.split("\n")) {
            lines.push(`          ${line}`);
        }
    }
    if (report.exemptionsUsed.length > 0) {
        lines.push("    Exemptions used:");
        for (const e of report.exemptionsUsed) {
            const until = e.exemption.expires ? `, until ${e.exemption.expires}` : "";
            lines.push(
                `        - ${e.policy}  (${e.resourceName})  "${e.exemption.resource}": ${e.exemption.reason}${until}`,
            );
        }
    }
    const config = path.relative(process.cwd(), report.configFile) || report.configFile;
    lines.push(
        "",
        `Policy gate (stack ${report.stack}, config ${config}): ${report.policiesRun} policies over ${report.resourcesChecked} resources; ` +
            `${mandatory} mandatory, ${advisory} advisory violation${report.violations.length === 1 ? "" : "s"}; ` +
            `${report.exemptionsUsed.length} exemption${report.exemptionsUsed.length === 1 ? "" : "s"} used -> ${report.exitCode === 0 ? "PASS" : "FAIL"}`,
    );
    return lines.join("\n");
}
