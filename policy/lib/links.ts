/**
 * Which resource a split resource belongs to, as the engine's stack validation sees it.
 *
 * With @pulumi/aws v7 a bucket's encryption, public access block and policy are separate resources
 * whose `bucket` input is the bucket's id. During preview that id is unknown, so the reliable link is
 * the property dependency (`propertyDependencies.bucket` contains the bucket), which the engine and
 * the offline gate both provide; equal known values are accepted as a fallback.
 */
import type { PolicyResource } from "@pulumi/policy";
import { peek } from "./values";

/** True if `child.props[property]` refers to `target` (by dependency, or by equal known value). */
export function refersTo(
    child: PolicyResource,
    property: string,
    target: PolicyResource,
    targetKeys: string[],
): boolean {
    const deps = child.propertyDependencies?.[property] ?? [];
    if (deps.some((d) => d.urn === target.urn)) {
        return true;
    }
    const value = peek(child.props, property);
    if (!value.present || !value.known) {
        return false;
    }
    return targetKeys.some((key) => {
        const own = peek(target.props, key);
        return own.present && own.known && own.value === value.value;
    });
}

/** Resources of `types` whose `property` refers to `target`. */
export function resourcesReferring(
    resources: PolicyResource[],
    types: string[],
    property: string,
    target: PolicyResource,
    targetKeys: string[],
): PolicyResource[] {
    return resources.filter((r) => types.includes(r.type) && refersTo(r, property, target, targetKeys));
}

export const bucketTypes = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
/** A bucket's identity as a split resource's `bucket` input may hold it. */
export const bucketKeys = ["bucket", "id"];
