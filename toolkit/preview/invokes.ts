/**
 * Answers to provider functions (invokes) in the offline preview. Three kinds, and the report says which:
 *
 * - computed: what the provider computes without calling AWS — `aws.iam.getPolicyDocument` (the provider's
 *   own algorithm, policy-document.ts), `getRegion` / `getPartition` (from the stack's `aws:region`), and
 *   `getCallerIdentity`, which names the preview's one account: the account every mock ARN carries;
 * - stand-in: lookups of cloud state (availability zones, AMIs, VPCs, subnets, hosted zones) answered with
 *   plausible values of the right shape — a real preview may see other values: partial coverage;
 * - unanswered: any other invoke gets its own inputs back (the mock runtime's default) — partial coverage.
 */
import { computePolicyDocument } from "./policy-document";

export const ACCOUNT_ID = "123456789012";

export type InvokeKind = "computed" | "stand-in" | "unanswered";

type Answer = (inputs: Record<string, any>, region: string) => Record<string, any>;

const zoneLetters = ["a", "b", "c"];

const COMPUTED: Record<string, Answer> = {
    "aws:iam/getPolicyDocument:getPolicyDocument": (inputs) => ({ ...inputs, ...computePolicyDocument(inputs) }),
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({
        accountId: ACCOUNT_ID,
        arn: `arn:aws:iam::${ACCOUNT_ID}:user/preview`,
        userId: "AIDAPREVIEWPREVIEW0001",
        id: ACCOUNT_ID,
    }),
    "aws:index/getRegion:getRegion": (_inputs, region) => ({
        name: region,
        region,
        id: region,
        description: region,
        endpoint: `ec2.${region}.amazonaws.com`,
    }),
    "aws:index/getPartition:getPartition": (_inputs, region) => {
        const partition = region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
        return {
            partition,
            id: partition,
            dnsSuffix: partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com",
            reverseDnsPrefix: partition === "aws-cn" ? "cn.com.amazonaws" : "com.amazonaws",
        };
    },
};

const STAND_INS: Record<string, Answer> = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": (inputs, region) => ({
        ...inputs,
        id: region,
        names: zoneLetters.map((l) => `${region}${l}`),
        zoneIds: zoneLetters.map((_, i) => `${regionCode(region)}-az${i + 1}`),
        groupNames: [region],
    }),
    "aws:ec2/getAmi:getAmi": (inputs, region) => ({
        ...inputs,
        id: "ami-0123456789abcdef0",
        imageId: "ami-0123456789abcdef0",
        arn: `arn:aws:ec2:${region}::image/ami-0123456789abcdef0`,
        architecture: "x86_64",
        name: "al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64",
        ownerId: inputs.owners?.[0] ?? "137112412989",
        rootDeviceName: "/dev/xvda",
        rootDeviceType: "ebs",
        virtualizationType: "hvm",
        state: "available",
        public: true,
    }),
    "aws:ec2/getVpc:getVpc": (inputs, region) => ({
        ...inputs,
        id: inputs.id ?? "vpc-0123456789abcdef0",
        arn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:vpc/${inputs.id ?? "vpc-0123456789abcdef0"}`,
        cidrBlock: "172.31.0.0/16",
        default: inputs.default ?? true,
        ownerId: ACCOUNT_ID,
        mainRouteTableId: "rtb-0123456789abcdef0",
        dhcpOptionsId: "dopt-0123456789abcdef0",
        enableDnsHostnames: true,
        enableDnsSupport: true,
        instanceTenancy: "default",
        state: "available",
        tags: inputs.tags ?? {},
    }),
    "aws:ec2/getSubnets:getSubnets": (inputs, region) => ({
        ...inputs,
        id: region,
        ids: zoneLetters.map((_, i) => `subnet-0123456789abcdef${i}`),
    }),
    "aws:ec2/getSubnet:getSubnet": (inputs, region) => ({
        ...inputs,
        id: inputs.id ?? "subnet-0123456789abcdef0",
        arn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:subnet/${inputs.id ?? "subnet-0123456789abcdef0"}`,
        availabilityZone: `${region}a`,
        availabilityZoneId: `${regionCode(region)}-az1`,
        cidrBlock: "172.31.0.0/20",
        vpcId: inputs.vpcId ?? "vpc-0123456789abcdef0",
        ownerId: ACCOUNT_ID,
        mapPublicIpOnLaunch: true,
        state: "available",
    }),
    "aws:route53/getZone:getZone": (inputs) => {
        const zoneId = inputs.zoneId ?? "Z0123456789ABCDEFGHIJ";
        return {
            ...inputs,
            id: zoneId,
            zoneId,
            name: String(inputs.name ?? "example.com").replace(/\.$/, ""),
            arn: `arn:aws:route53:::hostedzone/${zoneId}`,
            privateZone: inputs.privateZone ?? false,
            callerReference: "preview",
            nameServers: ["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk", "ns-3.awsdns-03.com", "ns-4.awsdns-04.net"],
            resourceRecordSetCount: 2,
        };
    },
};

/** `eu-west-1` → `euw1`, the prefix of its zone ids. */
function regionCode(region: string): string {
    const [area, direction, n] = region.split("-");
    const dir = { north: "n", south: "s", east: "e", west: "w", central: "c", northeast: "ne", southeast: "se" };
    return `${area}${(dir as Record<string, string>)[direction] ?? direction?.[0] ?? ""}${n ?? ""}`;
}

/** The invokes the preview computes or stands in for (the README lists them). */
export const COMPUTED_INVOKES = Object.keys(COMPUTED);
export const STAND_IN_INVOKES = Object.keys(STAND_INS);

export function answerInvoke(
    token: string,
    inputs: Record<string, any>,
    region: string,
): { kind: InvokeKind; result: Record<string, any> } {
    if (COMPUTED[token]) return { kind: "computed", result: COMPUTED[token](inputs, region) };
    if (STAND_INS[token]) return { kind: "stand-in", result: STAND_INS[token](inputs, region) };
    return { kind: "unanswered", result: inputs };
}
