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
import {
    defaultPolicyConfig,
    loadPolicyConfig,
    type ResolvedPolicyConfig,
    resolvePolicyConfig,
} from "../../policy/lib/config";
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
    /** The config file read, or the one looked for when `usesDefaultConfig`. */
    configFile: string;
    /** True when the stack has no policy/config.<stack>.json and `defaultPolicyConfig` applied. */
    usesDefaultConfig: boolean;
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
    /**
     * Defaults to policy/config.<stack>.json of this repository, whatever program is gated; a stack
     * without that file runs with `defaultPolicyConfig` (all mandatory). A given file must exist.
     */
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

/** What one gate run shares between its steps. */
interface GateRun {
    config: Map<string, ResolvedPolicyConfig>;
    resources: RecordedResource[];
    byUrn: Map<string, RecordedResource>;
    stackTags: ReadonlyMap<string, string>;
    providerOf: (r: RecordedResource) => PolicyProviderResource | undefined;
    violations: GateViolation[];
}

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

/**
 * The config the gate runs with: the given file (which must exist), else policy/config.<stack>.json,
 * else — for a stack without one — `defaultPolicyConfig` (every policy mandatory, schema defaults),
 * which is what the engine applies to a pack run without `--policy-pack-config`.
 */
function loadGateConfig(options: GateOptions): {
    configFile: string;
    usesDefault: boolean;
    config: Map<string, ResolvedPolicyConfig>;
} {
    const configFile = options.configFile ?? defaultConfigFile(options.stack);
    const usesDefault = options.configFile === undefined && !fs.existsSync(configFile);
    if (!usesDefault && !fs.existsSync(configFile)) {
        throw new Error(`no policy config for stack "${options.stack}": ${configFile} does not exist`);
    }
    // Checked against the schemas the pack declares (each policy's settings plus `exemptions`), as the CLI does.
    const schemas = basePolicies.map((p) => ({ name: p.name, configSchema: withExemptionsSchema(p.configSchema) }));
    const config = usesDefault
        ? resolvePolicyConfig(defaultPolicyConfig, schemas, "default policy config")
        : loadPolicyConfig(configFile, schemas);
    for (const [policy, c] of config) {
        const exemptions = c.settings.exemptions;
        if (Array.isArray(exemptions)) {
            exemptions.forEach((e, i) => {
                validateExemption(policy, e, i);
            });
        }
    }
    return { configFile, usesDefault, config };
}

/** The provider the engine passes with each resource: its explicit one, else the package's default provider. */
function providerResolver(
    result: PreviewResult,
    byUrn: Map<string, RecordedResource>,
    programDir: string | undefined,
): (r: RecordedResource) => PolicyProviderResource | undefined {
    const defaultAws: PolicyProviderResource = {
        type: "pulumi:providers:aws",
        name: "default",
        urn: `urn:pulumi:${result.stack}::${result.project}::pulumi:providers:aws::default`,
        props: unknownCheckingProxy(programDir ? defaultProviderProps(programDir, result.stack) : {}),
    };
    return (r) => {
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
}

/** The `reportViolation` a policy gets: records a violation at its level, on the resource it names or `fallback`. */
function reporter(run: GateRun, policy: AnyPolicy, level: EnforcementLevel, fallback: RecordedResource | undefined) {
    return (
        message: string | { message?: string; enforcementLevel?: EnforcementLevel; urn?: string },
        urn?: string,
    ) => {
        const detail = typeof message === "string" ? message : (message.message ?? "");
        const levelHere = typeof message === "string" ? level : (message.enforcementLevel ?? level);
        const target =
            (urn ? run.byUrn.get(urn) : undefined) ??
            (typeof message === "object" && message.urn ? run.byUrn.get(message.urn) : undefined) ??
            fallback;
        run.violations.push({
            level: levelHere === "advisory" ? "advisory" : "mandatory",
            policy: policy.name,
            resourceUrn: target?.urn ?? "",
            resourceType: target?.type ?? "",
            resourceName: target?.name ?? "",
            message: detail,
            description: policy.description,
        });
    };
}

/** The level a policy runs at, undefined when disabled (remediate reports like mandatory during preview). */
function activeLevel(run: GateRun, policy: AnyPolicy): EnforcementLevel | undefined {
    const level = levelOf(policy, run.config.get(policy.name));
    return level === "disabled" ? undefined : level === "remediate" ? "mandatory" : level;
}

/**
 * The one place a policy is called, with the analyzer's handling of what it throws: not applicable →
 * nothing; a value unknown during preview → the advisory "can't run policy ... during preview";
 * anything else → the error, naming what was validated and by which policy (the engine fails the run).
 */
function invokePolicy(
    run: GateRun,
    policy: AnyPolicy,
    target: RecordedResource | undefined,
    call: (report: ReturnType<typeof reporter>) => unknown,
): void {
    const level = activeLevel(run, policy);
    if (level === undefined) {
        return;
    }
    try {
        assertSync(call(reporter(run, policy, level, target)), policy.name);
    } catch (err) {
        if (err instanceof GateNotApplicable) {
            return;
        }
        if (isUnknownValueError(err)) {
            reporter(
                run,
                policy,
                "advisory",
                target,
            )(
                `can't run policy '${policy.name}' from policy pack '${policyPackName}@v${policyPackVersion}' during preview: ${(err as Error).message}`,
            );
            return;
        }
        const where = target ? `resource ${target.urn}` : "stack";
        throw new Error(`Error validating ${where} with policy '${policy.name}': ${(err as Error).message}`);
    }
}

function validationsOf(policy: ResourceValidationPolicy) {
    return Array.isArray(policy.validateResource)
        ? policy.validateResource
        : policy.validateResource
          ? [policy.validateResource]
          : [];
}

/** `ResourceValidationArgs` as the analyzer builds them from an AnalyzeRequest. */
function resourceArgs(run: GateRun, resource: RecordedResource, policy: AnyPolicy): ResourceValidationArgs {
    const props = unknownCheckingProxy(structuredClone(resource.inputs));
    const args: ResourceValidationArgs = {
        type: resource.type,
        props,
        urn: resource.urn,
        name: resource.name,
        opts: optionsOf(resource),
        stackTags: run.stackTags,
        isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
        asType: ((resourceClass: any) => (isTypeOf(resource.type, resourceClass) ? props : undefined)) as any,
        getConfig: <T extends object>() => structuredClone(run.config.get(policy.name)?.settings ?? {}) as T,
        notApplicable: throwNotApplicable,
    };
    const provider = run.providerOf(resource);
    if (provider) {
        args.provider = provider;
    }
    return args;
}

/** Every resource as a `PolicyResource`, with parent, dependencies and property dependencies resolved. */
function policyResources(run: GateRun): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    for (const r of run.resources) {
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
        const provider = run.providerOf(r);
        if (provider) {
            pr.provider = provider;
        }
        byUrn.set(r.urn, pr);
    }
    const resolve = (urns: string[]) =>
        urns.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
    for (const r of run.resources) {
        const pr = byUrn.get(r.urn)!;
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) {
            pr.parent = parent;
        }
        pr.dependencies = resolve(r.dependencies ?? []);
        for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
            pr.propertyDependencies[key] = resolve(urns);
        }
    }
    return [...byUrn.values()];
}

/** Per-resource policies, in registration order, as the engine calls Analyze for each registration. */
function runResourcePolicies(run: GateRun, policies: ResourceValidationPolicy[]): void {
    for (const resource of run.resources) {
        for (const policy of policies) {
            const validations = validationsOf(policy);
            // A single typed validation (validateResourceOfType) is not called for other types.
            const only = validations.length === 1 ? (validations[0] as any).__pulumiType : undefined;
            if (only && only !== resource.type) {
                continue;
            }
            for (const validation of validations) {
                invokePolicy(run, policy, resource, (report) =>
                    validation(resourceArgs(run, resource, policy), report as any),
                );
            }
        }
    }
}

/** Stack policies, once over all resources, as the engine calls AnalyzeStack. */
function runStackPolicies(run: GateRun, policies: StackValidationPolicy[]): void {
    for (const policy of policies) {
        const pulumiType = (policy.validateStack as any).__pulumiType;
        if (pulumiType && !run.resources.some((r) => r.type === pulumiType)) {
            continue;
        }
        invokePolicy(run, policy, undefined, (report) => {
            // Fresh resources per policy, as each AnalyzeStack call deserializes its own.
            const args: StackValidationArgs = {
                resources: policyResources(run),
                getConfig: <T extends object>() => structuredClone(run.config.get(policy.name)?.settings ?? {}) as T,
                stackTags: run.stackTags,
                notApplicable: throwNotApplicable,
            };
            return policy.validateStack(args, report as any);
        });
    }
}

export function runGate(result: PreviewResult, options: GateOptions): GateReport {
    const { configFile, usesDefault, config } = loadGateConfig(options);
    const now = options.now ?? new Date();
    const exemptionsUsed: ExemptionUse[] = [];
    const policies = createPolicies({ now: () => now, onExemptionUsed: (use) => exemptionsUsed.push(use) });
    const resources = result.resources as RecordedResource[];
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const run: GateRun = {
        config,
        resources,
        byUrn,
        stackTags: new Map([
            ["pulumi:project", result.project],
            ["pulumi:runtime", "nodejs"],
        ]),
        providerOf: providerResolver(result, byUrn, options.programDir),
        violations: [],
    };
    runResourcePolicies(
        run,
        policies.filter((p): p is ResourceValidationPolicy => "validateResource" in p),
    );
    runStackPolicies(
        run,
        policies.filter((p): p is StackValidationPolicy => "validateStack" in p),
    );
    return {
        stack: options.stack,
        configFile,
        usesDefaultConfig: usesDefault,
        policyPack: `${policyPackName}@v${policyPackVersion}`,
        violations: run.violations,
        exemptionsUsed,
        policiesRun: policies.filter((p) => levelOf(p, config.get(p.name)) !== "disabled").length,
        resourcesChecked: resources.length,
        exitCode: run.violations.some((v) => v.level === "mandatory") ? 1 : 0,
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
    const config = report.usesDefaultConfig
        ? `default: all mandatory, no ${path.relative(process.cwd(), report.configFile) || report.configFile}`
        : path.relative(process.cwd(), report.configFile) || report.configFile;
    lines.push(
        "",
        `Policy gate (stack ${report.stack}, config ${config}): ${report.policiesRun} policies over ${report.resourcesChecked} resources; ` +
            `${mandatory} mandatory, ${advisory} advisory violation${report.violations.length === 1 ? "" : "s"}; ` +
            `${report.exemptionsUsed.length} exemption${report.exemptionsUsed.length === 1 ? "" : "s"} used -> ${report.exitCode === 0 ? "PASS" : "FAIL"}`,
    );
    return lines.join("\n");
}
