/**
 * The CrossGuard policy pack. Constructing a PolicyPack starts the analyzer's gRPC server, so this is
 * the only module that does it; tests and the offline gate import ./policies instead.
 *
 *   pulumi preview --policy-pack policy --policy-pack-config policy/config.<stack>.json
 */
import { PolicyPack } from "@pulumi/policy";
import { createPolicies, policyPackName } from "./policies";

new PolicyPack(policyPackName, {
    description:
        "Notification platform guardrails: tagging, CMK encryption at rest, no wildcard IAM, DLQs, retention, TLS-only, no public buckets.",
    enforcementLevel: "mandatory",
    provider: "aws",
    policies: createPolicies(),
});
