/**
 * Powertools for AWS Lambda (TypeScript): the one place that pins it. The functions load the packages
 * from AWS's official layer at run time (so no function archive carries them); tests, the local cloud
 * and the bench load the same version from node_modules. test/infra/powertools.test.ts checks that
 * package.json and package-lock.json hold exactly POWERTOOLS_NPM_VERSION.
 *
 * Source (checked 2026-12-04): the Powertools docs, getting-started/lambda-layers — layer
 * AWSLambdaPowertoolsTypeScriptV2 version 48 in every commercial region, GovCloud and cn-north-1
 * (me-south-1 and me-central-1 paused at 46 and 45), compatible runtimes nodejs22.x/nodejs24.x,
 * compatible architectures arm64 and x86_64 (one layer for both: the packages are pure JavaScript).
 * Before moving either pin, confirm the pair with
 *   aws ssm get-parameter --name /aws/service/powertools/typescript/generic/all/<npm version>
 * whose value is the layer version ARN built from that release.
 */

/** The npm version of @aws-lambda-powertools/{logger,metrics} (and their commons) the layer ships. */
export const POWERTOOLS_NPM_VERSION = "2.36.0";
/** The official layer's version in the regions that publish it at POWERTOOLS_NPM_VERSION. */
export const POWERTOOLS_LAYER_VERSION = 48;
/** The Powertools packages the handlers import: provided by the layer, excluded from every archive. */
export const POWERTOOLS_PACKAGES = [
    "@aws-lambda-powertools/commons",
    "@aws-lambda-powertools/logger",
    "@aws-lambda-powertools/metrics",
] as const;

/** AWS accounts that publish the layer outside the commercial partition. */
const PUBLISHERS: Record<string, { partition: string; account: string }> = {
    "us-gov-west-1": { partition: "aws-us-gov", account: "165093116878" },
    "us-gov-east-1": { partition: "aws-us-gov", account: "165087284144" },
    "cn-north-1": { partition: "aws-cn", account: "498634801083" },
};
const COMMERCIAL = { partition: "aws", account: "094274105915" };
/** Regions whose newest layer is older than the pin: it would ship another npm version than the tests ran. */
const BEHIND: Record<string, number> = { "me-south-1": 46, "me-central-1": 45 };

/** The layer version ARN for a region, or a clear error where the pinned layer version is not published. */
export function powertoolsLayerArn(region: string): string {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`not an AWS region: "${region}"`);
    if (region.startsWith("cn-") && !PUBLISHERS[region])
        throw new Error(`the Powertools layer is published in cn-north-1 only, not in ${region}`);
    const behind = BEHIND[region];
    if (behind !== undefined)
        throw new Error(
            `the Powertools layer in ${region} is at version ${behind}, not ${POWERTOOLS_LAYER_VERSION} (npm ${POWERTOOLS_NPM_VERSION}): pin the matching npm version for this region`,
        );
    const { partition, account } = PUBLISHERS[region] ?? COMMERCIAL;
    return `arn:${partition}:lambda:${region}:${account}:layer:AWSLambdaPowertoolsTypeScriptV2:${POWERTOOLS_LAYER_VERSION}`;
}
