/**
 * Tagging: every taggable AWS resource carries the required tag keys, counting the tags the provider
 * adds through `defaultTags` (those are not in the resource's `tags` input), and `Environment` names
 * the stack.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { parseMaybeJson, peek, stackOfUrn } from "./lib/values";

export const defaultRequiredTagKeys = ["Environment", "Application", "Owner", "CostCenter"];

// Loaded with require rather than `import ... from "./taggable-types.json"`: a JSON import compiles
// only under resolveJsonModule, and run-policy-pack type-checks the pack with whatever compiler options
// it finds (its own defaults when a copy of the pack lost its tsconfig.json).
const taggable: { types: string[] } = require("./taggable-types.json");
const taggableTypes = new Set<string>(taggable.types);

/** Resource types whose constructor takes `tags` (generated from @pulumi/aws, see policy/tools). */
export function isTaggableType(type: string): boolean {
    return taggableTypes.has(type);
}

export interface TaggingConfig {
    requiredKeys?: string[];
    /** The tag whose value must equal the stack name; empty string turns the check off. */
    environmentKey?: string;
}

/**
 * The tags a provider adds to every resource. Providers receive complex inputs as JSON strings
 * (@pulumi/aws serializes `defaultTags` with JSON.stringify), so both forms are accepted.
 */
export function providerDefaultTags(provider: ResourceValidationArgs["provider"]): Record<string, unknown> {
    if (!provider?.type.startsWith("pulumi:providers:aws")) {
        return {};
    }
    const defaultTags = peek(provider.props, "defaultTags");
    if (!defaultTags.present || !defaultTags.known) {
        return {};
    }
    const parsed = parseMaybeJson(defaultTags.value) as { tags?: unknown } | undefined;
    const tags = parsed && typeof parsed === "object" ? parseMaybeJson(parsed.tags) : undefined;
    return tags && typeof tags === "object" ? (tags as Record<string, unknown>) : {};
}

export const requiredTags: ResourceValidationPolicy = {
    name: "required-tags",
    description:
        "Every taggable AWS resource carries the required tags (resource tags or the provider's defaultTags), and Environment names the stack.",
    severity: "medium",
    remediationSteps:
        "Pass the stack's explicit aws.Provider (with defaultTags { Environment, Application, Owner, CostCenter }) to the resource " +
        "or its component (`provider`/`providers`), or set the missing keys in its `tags`.",
    configSchema: {
        properties: {
            requiredKeys: { type: "array", items: { type: "string" }, default: defaultRequiredTagKeys },
            environmentKey: { type: "string", default: "Environment" },
        },
    },
    validateResource: (args, reportViolation) => {
        if (!isTaggableType(args.type)) {
            args.notApplicable(`${args.type} takes no tags`);
        }
        const config = args.getConfig<TaggingConfig>();
        const requiredKeys = config.requiredKeys ?? defaultRequiredTagKeys;
        const environmentKey = config.environmentKey ?? "Environment";

        // Values from the resource win over the provider's, as in AWS's tags_all.
        const tags = new Map<string, { known: boolean; value: unknown }>();
        for (const [key, value] of Object.entries(providerDefaultTags(args.provider))) {
            tags.set(key, { known: true, value });
        }
        const own = peek(args.props, "tags");
        if (own.present && !own.known) {
            return; // the whole map is computed: nothing to judge until the update
        }
        if (own.present) {
            for (const key of Object.keys(own.value)) {
                const v = peek(own.value, key);
                tags.set(key, { known: v.known, value: v.value });
            }
        }

        const missing = requiredKeys.filter((key) => {
            const tag = tags.get(key);
            return !tag || (tag.known && (typeof tag.value !== "string" || tag.value.trim() === ""));
        });
        if (missing.length > 0) {
            reportViolation(`Missing tag${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}.`);
        }
        const stack = stackOfUrn(args.urn);
        const environment = environmentKey ? tags.get(environmentKey) : undefined;
        if (
            stack &&
            environment?.known &&
            typeof environment.value === "string" &&
            environment.value.trim() !== "" &&
            environment.value !== stack
        ) {
            reportViolation(`Tag ${environmentKey}="${environment.value}" does not name the stack "${stack}".`);
        }
    },
};
