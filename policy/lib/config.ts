/**
 * The `--policy-pack-config` file: `{ "all": <level>, "<policy>": <level> | { enforcementLevel?, ...settings } }`.
 * The CLI checks each policy's settings against its configSchema and fills in defaults; the offline
 * gate has no CLI, so this module does the same for the subset of JSON schema the pack uses.
 */
import * as fs from "node:fs";
import type { EnforcementLevel, PolicyConfigSchema } from "@pulumi/policy";

export const enforcementLevels: EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

/**
 * The config of a stack without `policy/config.<stack>.json`: every policy mandatory, each setting at
 * its schema default, no exemptions. It is what the engine applies when a pack runs without
 * `--policy-pack-config` (the pack declares every policy mandatory), so a new stack is held to the
 * strictest level until someone writes its file.
 */
export const defaultPolicyConfig: Readonly<Record<string, EnforcementLevel>> = Object.freeze({ all: "mandatory" });

export interface ResolvedPolicyConfig {
    /** Level from the file (policy entry, else "all"), undefined when the file says nothing. */
    enforcementLevel?: EnforcementLevel;
    /** Settings (schema defaults filled in), without enforcementLevel: what getConfig() returns. */
    settings: Record<string, unknown>;
}

export interface PolicyInfo {
    name: string;
    configSchema?: PolicyConfigSchema;
}

/** Checks `value` against a JSON schema; returns the problems (path-prefixed). */
export function schemaProblems(schema: any, value: unknown, at: string): string[] {
    if (!schema || typeof schema !== "object") {
        return [];
    }
    const problems: string[] = [];
    const type = schema.type as string | undefined;
    const typeOk =
        type === undefined ||
        (type === "array" && Array.isArray(value)) ||
        (type === "object" && typeof value === "object" && value !== null && !Array.isArray(value)) ||
        (type === "integer" && Number.isInteger(value)) ||
        (type === "number" && typeof value === "number") ||
        (type === "string" && typeof value === "string") ||
        (type === "boolean" && typeof value === "boolean");
    if (!typeOk) {
        return [
            `${at} must be ${type === "array" || type === "object" || type === "integer" ? "an" : "a"} ${type}, got ${JSON.stringify(value)}`,
        ];
    }
    if (schema.enum && !schema.enum.includes(value)) {
        problems.push(`${at} must be one of ${schema.enum.join(", ")}`);
    }
    if (typeof value === "string") {
        if (schema.minLength !== undefined && value.length < schema.minLength) {
            problems.push(`${at} must not be empty`);
        }
        if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
            problems.push(`${at} must match ${schema.pattern}, got ${JSON.stringify(value)}`);
        }
    }
    if (typeof value === "number" && schema.minimum !== undefined && value < schema.minimum) {
        problems.push(`${at} must be >= ${schema.minimum}`);
    }
    if (Array.isArray(value) && schema.items) {
        value.forEach((item, i) => {
            problems.push(...schemaProblems(schema.items, item, `${at}[${i}]`));
        });
    }
    if (type === "object" && value && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        for (const key of schema.required ?? []) {
            if (obj[key] === undefined) {
                problems.push(`${at}.${key} is required`);
            }
        }
        for (const [key, v] of Object.entries(obj)) {
            const sub = schema.properties?.[key];
            if (sub) {
                problems.push(...schemaProblems(sub, v, `${at}.${key}`));
            } else if (schema.additionalProperties === false) {
                problems.push(
                    `${at}.${key} is not a known setting (known: ${Object.keys(schema.properties ?? {}).join(", ")})`,
                );
            }
        }
    }
    return problems;
}

/** Reads and checks a config file; throws one error naming the file and every problem. */
export function loadPolicyConfig(file: string, policies: PolicyInfo[]): Map<string, ResolvedPolicyConfig> {
    let raw: unknown;
    try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new Error(`policy config ${file}: ${(err as Error).message}`);
    }
    return resolvePolicyConfig(raw, policies, file);
}

export function resolvePolicyConfig(
    raw: unknown,
    policies: PolicyInfo[],
    source = "policy config",
): Map<string, ResolvedPolicyConfig> {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new Error(`${source}: must be a JSON object { "all": level, "<policy>": level | { ... } }`);
    }
    const entries = raw as Record<string, unknown>;
    const problems: string[] = [];
    const known = new Map(policies.map((p) => [p.name, p]));
    for (const key of Object.keys(entries)) {
        if (key !== "all" && !known.has(key)) {
            problems.push(`"${key}" is not a policy of this pack (policies: ${[...known.keys()].join(", ")})`);
        }
    }
    const all = entries.all;
    if (all !== undefined && !enforcementLevels.includes(all as EnforcementLevel)) {
        problems.push(`"all" must be one of ${enforcementLevels.join(", ")}`);
    }
    const resolved = new Map<string, ResolvedPolicyConfig>();
    for (const policy of policies) {
        const entry = entries[policy.name];
        let level: EnforcementLevel | undefined = all as EnforcementLevel | undefined;
        let given: Record<string, unknown> = {};
        if (typeof entry === "string") {
            if (!enforcementLevels.includes(entry as EnforcementLevel)) {
                problems.push(`"${policy.name}" must be one of ${enforcementLevels.join(", ")} or an object`);
            }
            level = entry as EnforcementLevel;
        } else if (entry !== undefined) {
            if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
                problems.push(`"${policy.name}" must be an enforcement level or an object`);
            } else {
                const { enforcementLevel, ...settings } = entry as Record<string, unknown>;
                if (enforcementLevel !== undefined) {
                    if (!enforcementLevels.includes(enforcementLevel as EnforcementLevel)) {
                        problems.push(
                            `"${policy.name}".enforcementLevel must be one of ${enforcementLevels.join(", ")}`,
                        );
                    }
                    level = enforcementLevel as EnforcementLevel;
                }
                given = settings;
                const schema = {
                    type: "object",
                    properties: policy.configSchema?.properties ?? {},
                    required: policy.configSchema?.required,
                    additionalProperties: false,
                };
                problems.push(...schemaProblems(schema, settings, `"${policy.name}"`));
            }
        }
        const settings: Record<string, unknown> = {};
        for (const [key, prop] of Object.entries(policy.configSchema?.properties ?? {})) {
            if ((prop as any).default !== undefined) {
                settings[key] = structuredClone((prop as any).default);
            }
        }
        Object.assign(settings, given);
        resolved.set(policy.name, { enforcementLevel: level, settings });
    }
    if (problems.length > 0) {
        throw new Error(`${source}:\n  - ${problems.join("\n  - ")}`);
    }
    return resolved;
}
