/**
 * The pack's policies, in one list shared by the CrossGuard pack (policy/index.ts) and the offline
 * gate (toolkit/gate/gate.ts). Every policy accepts `exemptions` in its config (see exemptions.ts).
 */
import type { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { apiGuarded } from "./api";
import { encryptionAtRest, kmsKeyRotation, s3BucketEncryption } from "./encryption";
import {
    exemptResourceValidation,
    type ExemptionHooks,
    exemptStackValidation,
    withExemptionsSchema,
} from "./exemptions";
import { lambdaRuntime, logGroupRetention, s3PublicAccessBlocked, sqsConsumerDlq, tlsOnlyAccess } from "./hygiene";
import { noBroadManagedPolicies, noWildcardIam } from "./iam";
import { requiredTags } from "./tagging";

export const policyPackName = "notify-guard";
/** The version PolicyPack reads from policy/package.json (the CLI runs the pack with policy/ as cwd). */
export const policyPackVersion: string = require("./package.json").version;

/** The policies without exemption handling, in report order. */
export const basePolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    requiredTags,
    encryptionAtRest,
    kmsKeyRotation,
    s3BucketEncryption,
    noWildcardIam,
    noBroadManagedPolicies,
    lambdaRuntime,
    logGroupRetention,
    sqsConsumerDlq,
    s3PublicAccessBlocked,
    tlsOnlyAccess,
    apiGuarded,
];

/** The policies with exemptions applied; `hooks` let the gate collect the exemptions used. */
export function createPolicies(hooks: ExemptionHooks = {}): Policies {
    return basePolicies.map((policy) => {
        const configSchema = withExemptionsSchema(policy.configSchema);
        // Every policy is mandatory unless the stack's config says otherwise (policy/config.<stack>.json).
        const common = { enforcementLevel: "mandatory" as const, configSchema };
        if ("validateStack" in policy) {
            return {
                ...policy,
                ...common,
                validateStack: exemptStackValidation(policy.name, policy.validateStack, hooks),
            };
        }
        const validations = Array.isArray(policy.validateResource)
            ? policy.validateResource
            : policy.validateResource
              ? [policy.validateResource]
              : [];
        const wrapped = validations.map((v) => exemptResourceValidation(policy.name, v, hooks));
        return { ...policy, ...common, validateResource: wrapped.length === 1 ? wrapped[0] : wrapped };
    });
}
