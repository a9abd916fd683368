/**
 * The engine's side of the analyzer protocol, built from an offline preview: the AnalyzeRequest per
 * resource, the AnalyzeStackRequest, the ConfigureAnalyzerRequest from a `--policy-pack-config` file,
 * and the diagnostics read back. Shared by the parity test in gate.test.ts (the SDK's RPC handlers
 * called in-process) and pack.test.ts (the pack served over gRPC by run-policy-pack).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { PreviewResource, PreviewResult } from "../../toolkit/preview/types";

const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
export const pb = require(path.join(pulumiDir, "proto", "analyzer_pb"));
export const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] }));
export const { Empty } = require(require.resolve("google-protobuf/google/protobuf/empty_pb", { paths: [pulumiDir] }));

/** proto EnforcementLevel: ADVISORY 0, MANDATORY 1, DISABLED 2, REMEDIATE 3. */
export const levels = ["advisory", "mandatory", "disabled", "remediate"];

function options(r: PreviewResource) {
    const o = new pb.AnalyzerResourceOptions();
    o.setProtect(false);
    o.setIgnorechangesList([]);
    o.setAliasesList([]);
    o.setAdditionalsecretoutputsList([]);
    if (r.parent) o.setParent(r.parent);
    return o;
}

/** The provider the engine sends with a resource: its explicit provider (with the provider's inputs). */
function provider(byUrn: Map<string, PreviewResource>, r: PreviewResource) {
    const p = r.provider ? byUrn.get(r.provider) : undefined;
    if (!p) return undefined;
    const msg = new pb.AnalyzerProviderResource();
    msg.setType(p.type);
    msg.setName(p.name);
    msg.setUrn(p.urn);
    msg.setProperties(Struct.fromJavaScript(p.inputs));
    return msg;
}

/** One AnalyzeRequest per registered resource, in registration order (what the engine sends during preview). */
export function analyzeRequests(result: PreviewResult): any[] {
    const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
    return result.resources.map((r) => {
        const req = new pb.AnalyzeRequest();
        req.setType(r.type);
        req.setUrn(r.urn);
        req.setName(r.name);
        req.setProperties(Struct.fromJavaScript(r.inputs));
        req.setOptions(options(r));
        const p = provider(byUrn, r);
        if (p) req.setProvider(p);
        return req;
    });
}

/** The AnalyzeStackRequest with every resource, its parent, dependencies and property dependencies. */
export function analyzeStackRequest(result: PreviewResult): any {
    const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
    const req = new pb.AnalyzeStackRequest();
    req.setResourcesList(
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
            const p = provider(byUrn, r);
            if (p) ar.setProvider(p);
            return ar;
        }),
    );
    return req;
}

/** A policy as GetAnalyzerInfo describes it (what the engine reconciles the config file against). */
export interface AnalyzerPolicy {
    name: string;
    enforcementLevel: string;
    defaults: Record<string, unknown>;
}

export function policiesOfInfo(info: any): AnalyzerPolicy[] {
    return info.getPoliciesList().map((p: any) => {
        const properties = p.getConfigschema()?.getProperties()?.toJavaScript() ?? {};
        const defaults: Record<string, unknown> = {};
        for (const [key, schema] of Object.entries<any>(properties)) {
            if (schema && "default" in schema) defaults[key] = schema.default;
        }
        return { name: p.getName(), enforcementLevel: levels[p.getEnforcementlevel()], defaults };
    });
}

/**
 * The ConfigureAnalyzerRequest the engine sends for `--policy-pack-config <file>`: a port of
 * pulumi/pulumi pkg/resource/analyzer `parsePolicyPackConfig` + `ReconcilePolicyPackConfig`
 * (schema defaults first, then "all", then each policy's level and properties from the file).
 */
export function configureRequest(policies: AnalyzerPolicy[], configFile: string): any {
    const raw = JSON.parse(fs.readFileSync(configFile, "utf8")) as Record<string, unknown>;
    const given = new Map<string, { level?: string; properties: Record<string, unknown> }>();
    for (const [key, value] of Object.entries(raw)) {
        if (typeof value === "string") {
            given.set(key, { level: value, properties: {} });
        } else {
            const { enforcementLevel, ...properties } = value as Record<string, unknown>;
            given.set(key, { level: enforcementLevel as string | undefined, properties });
        }
    }
    const all = given.get("all")?.level;
    const req = new pb.ConfigureAnalyzerRequest();
    for (const policy of policies) {
        const entry = given.get(policy.name);
        const level = entry?.level ?? all ?? policy.enforcementLevel;
        const config = new pb.PolicyConfig();
        config.setEnforcementlevel(levels.indexOf(level));
        config.setProperties(Struct.fromJavaScript({ ...policy.defaults, ...(entry?.properties ?? {}) }));
        req.getPolicyconfigMap().set(policy.name, config);
    }
    return req;
}

/** The diagnostics of an Analyze/AnalyzeStack response as "level policy urn message" (the message without its description line). */
export function diagnosticLines(response: any, fallbackUrn: string): string[] {
    return response.getDiagnosticsList().map((d: any) => {
        const message = d.getMessage().split("\n").slice(1).join("\n");
        return `${levels[d.getEnforcementlevel()]} ${d.getPolicyname()} ${d.getUrn() || fallbackUrn} ${message}`;
    });
}
