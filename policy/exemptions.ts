/**
 * Per-policy exemptions, read from the policy's own config (`--policy-pack-config`):
 *
 *   "no-wildcard-iam": { "exemptions": [
 *       { "resource": "legacy-*", "reason": "JIRA-123: migrated in Q3", "expires": "2026-09-30" } ] }
 *
 * `resource` is a glob (`*`, `?`) matched against the resource's logical name and its URN. A matching,
 * unexpired exemption suppresses the violation and is recorded as used. An expired one does not
 * suppress anything: the violation is reported, and its message says the exemption expired, so an
 * expiry date is a promise the config cannot silently outlive.
 */
import type {
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    StackValidation,
    StackValidationArgs,
} from "@pulumi/policy";
import { globToRegExp } from "./lib/values";

export interface Exemption {
    /** Glob over the resource's logical name or its full URN. */
    resource: string;
    /** Why the resource may violate the policy (ticket, owner, plan). Required. */
    reason: string;
    /** Last day (UTC, YYYY-MM-DD) the exemption applies; absent = no expiry. */
    expires?: string;
}

/** One suppressed violation. */
export interface ExemptionUse {
    policy: string;
    resourceUrn: string;
    resourceName: string;
    exemption: Exemption;
    /** The violation message the exemption suppressed. */
    message: string;
}

export interface ExemptionHooks {
    /** Called for every violation an exemption suppresses. Without it (the CLI), the pack reports the
     *  suppression as an advisory notice so the preview still shows it. */
    onExemptionUsed?: (use: ExemptionUse) => void;
    /** The current time (tests and the offline gate pin it); defaults to the clock. */
    now?: () => Date;
}

/** The JSON schema of the `exemptions` setting every policy accepts. */
export const exemptionsSchema = {
    type: "array",
    description:
        "Resources this policy does not apply to: name or URN glob, a required reason, an optional expiry date.",
    default: [],
    items: {
        type: "object",
        properties: {
            resource: { type: "string", minLength: 1 },
            reason: { type: "string", minLength: 1 },
            expires: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$" },
        },
        required: ["resource", "reason"],
        additionalProperties: false,
    },
} as const;

/** Adds `exemptions` to a policy's config schema. */
export function withExemptionsSchema(schema?: PolicyConfigSchema): PolicyConfigSchema {
    return { ...schema, properties: { ...(schema?.properties ?? {}), exemptions: exemptionsSchema as any } };
}

/** Throws a clear error for an exemption the schema would reject (the gate's config is not schema-checked by a CLI). */
export function validateExemption(policy: string, value: unknown, index: number): Exemption {
    const where = `policy "${policy}", exemptions[${index}]`;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new Error(`${where}: must be an object { resource, reason, expires? }`);
    }
    const e = value as Record<string, unknown>;
    for (const key of Object.keys(e)) {
        if (!["resource", "reason", "expires"].includes(key)) {
            throw new Error(`${where}: unknown property "${key}" (allowed: resource, reason, expires)`);
        }
    }
    if (typeof e.resource !== "string" || e.resource.trim() === "") {
        throw new Error(`${where}: "resource" (a name or URN glob) is required`);
    }
    if (typeof e.reason !== "string" || e.reason.trim() === "") {
        throw new Error(`${where}: "reason" is required; say why the resource may violate the policy`);
    }
    if (e.expires !== undefined && (typeof e.expires !== "string" || expiryEnd(e.expires) === undefined)) {
        throw new Error(`${where}: "expires" must be a date YYYY-MM-DD, got ${JSON.stringify(e.expires)}`);
    }
    return { resource: e.resource, reason: e.reason, expires: e.expires as string | undefined };
}

/** The first instant after the expiry day (the exemption holds through the whole day, UTC). */
function expiryEnd(expires: string): number | undefined {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(expires)) {
        return undefined;
    }
    const start = Date.parse(`${expires}T00:00:00Z`);
    if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== expires) {
        return undefined; // e.g. 2026-02-30
    }
    return start + 24 * 60 * 60 * 1000;
}

export function isExpired(exemption: Exemption, now: Date): boolean {
    if (exemption.expires === undefined) {
        return false;
    }
    const end = expiryEnd(exemption.expires);
    return end === undefined || now.getTime() >= end;
}

/** The first exemption whose pattern matches the resource's name or URN. */
export function findExemption(
    exemptions: Exemption[],
    resourceName: string,
    resourceUrn: string,
): Exemption | undefined {
    return exemptions.find((e) => {
        const pattern = globToRegExp(e.resource);
        return pattern.test(resourceName) || pattern.test(resourceUrn);
    });
}

function exemptionsOf(policy: string, config: unknown): Exemption[] {
    const list = (config as { exemptions?: unknown } | undefined)?.exemptions;
    if (list === undefined) {
        return [];
    }
    if (!Array.isArray(list)) {
        throw new Error(`policy "${policy}": "exemptions" must be an array`);
    }
    return list.map((e, i) => validateExemption(policy, e, i));
}

/** Wraps `report` so that exempted resources are filtered out (or flagged as expired). */
function exemptingReporter(
    policy: string,
    exemptions: Exemption[],
    hooks: ExemptionHooks,
    report: ReportViolation,
    resolve: (urn: string | undefined) => { name: string; urn: string } | undefined,
): ReportViolation {
    return (message: string, urn?: string) => {
        const resource = resolve(urn);
        const exemption = resource ? findExemption(exemptions, resource.name, resource.urn) : undefined;
        if (!resource || !exemption) {
            report(message, urn);
            return;
        }
        const now = hooks.now ? hooks.now() : new Date();
        if (isExpired(exemption, now)) {
            report(
                `${message} (exemption "${exemption.resource}" expired on ${exemption.expires}: ${exemption.reason})`,
                urn,
            );
            return;
        }
        const use: ExemptionUse = {
            policy,
            resourceUrn: resource.urn,
            resourceName: resource.name,
            exemption,
            message,
        };
        if (hooks.onExemptionUsed) {
            hooks.onExemptionUsed(use);
        } else {
            // The CLI has no channel for "suppressed": an advisory notice keeps the exemption visible
            // in the preview (and in the PR comment) without blocking.
            (report as any)({
                message: `exempted (${exemption.reason}${exemption.expires ? `, until ${exemption.expires}` : ""}): ${message}`,
                enforcementLevel: "advisory",
                urn,
            });
        }
    };
}

/** Keeps the engine's fast type filter (`__pulumiType`) that validateResourceOfType attached. */
// biome-ignore lint/complexity/noBannedTypes: any function (a policy's validate callback) may carry the brand.
function keepPulumiType<T extends Function>(from: Function, to: T): T {
    const pulumiType = (from as any).__pulumiType;
    if (pulumiType) {
        (to as any).__pulumiType = pulumiType;
    }
    return to;
}

export function exemptResourceValidation(
    policy: string,
    validate: ResourceValidation,
    hooks: ExemptionHooks,
): ResourceValidation {
    return keepPulumiType(validate, (args: ResourceValidationArgs, report: ReportViolation) => {
        const exemptions = exemptionsOf(policy, args.getConfig());
        const wrapped = exemptingReporter(policy, exemptions, hooks, report, () => ({
            name: args.name,
            urn: args.urn,
        }));
        return validate(args, wrapped);
    });
}

export function exemptStackValidation(
    policy: string,
    validate: StackValidation,
    hooks: ExemptionHooks,
): StackValidation {
    return keepPulumiType(validate, (args: StackValidationArgs, report: ReportViolation) => {
        const exemptions = exemptionsOf(policy, args.getConfig());
        const byUrn = new Map<string, PolicyResource>(args.resources.map((r) => [r.urn, r]));
        const wrapped = exemptingReporter(policy, exemptions, hooks, report, (urn) => {
            const r = urn ? byUrn.get(urn) : undefined;
            return r ? { name: r.name, urn: r.urn } : undefined;
        });
        return validate(args, wrapped);
    });
}
