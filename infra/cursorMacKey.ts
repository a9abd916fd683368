import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CURSOR_MAC_ALGORITHM } from "../handlers/core/api/inbox";
import { ADMINISTRATION_ACTIONS } from "./encryption";

export interface CursorMacKeyArgs {
    /** The stack name, for the key's description. */
    stack: string;
    /** Alias suffix: the key is `alias/<aliasName>`. */
    aliasName: string;
    /** Days a scheduled deletion waits (7-30). Deleting the key invalidates every cursor in flight. */
    deletionWindowInDays?: number;
}

/** Rotation does not apply to HMAC keys (KMS refuses it): administration without those actions. */
const MAC_KEY_ADMINISTRATION = ADMINISTRATION_ACTIONS.filter((a) => !/Rotation|Rotate/.test(a));

/**
 * The KMS HMAC key (HMAC_256, GENERATE_VERIFY_MAC) from which the inbox list route derives its cursor
 * MAC key: once per cold start it calls GenerateMac over a fixed label and uses the 32-byte MAC as its
 * local HMAC key (handlers/api/me.ts). No key material in config, state or the function's environment;
 * nobody has to generate a secret before the API works. HMAC keys cannot rotate (the policy pack's
 * kms-key-rotation exempts them); a new key (a replaced resource) invalidates the cursors in flight only,
 * which an app recovers from by listing again from the top.
 */
export class CursorMacKey extends pulumi.ComponentResource {
    public readonly key: aws.kms.Key;
    public readonly alias: aws.kms.Alias;
    public readonly keyArn: pulumi.Output<string>;

    constructor(name: string, args: CursorMacKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:encryption:CursorMacKey", name, {}, opts);

        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        this.key = new aws.kms.Key(
            `${name}-key`,
            {
                description: `Derives the inbox cursor MAC key of stack ${args.stack} (GenerateMac over a fixed label)`,
                customerMasterKeySpec: "HMAC_256",
                keyUsage: "GENERATE_VERIFY_MAC",
                deletionWindowInDays: args.deletionWindowInDays ?? 30,
                policy: account.apply((accountId) => JSON.stringify(macKeyPolicy(accountId))),
            },
            { parent: this },
        );
        this.alias = new aws.kms.Alias(
            `${name}-alias`,
            { name: `alias/${args.aliasName}`, targetKeyId: this.key.keyId },
            { parent: this },
        );
        this.keyArn = this.key.arn;
        this.registerOutputs({ keyArn: this.key.arn, aliasName: this.alias.name });
    }
}

/**
 * The account root administers the key (so it is never orphaned) and lets this account's principals
 * make HMAC-SHA-256 MACs with it where their own IAM policy allows (only the inbox list route's role
 * does: infra/routes/me.ts). No VerifyMac, no other algorithm, nothing for other accounts.
 */
export function macKeyPolicy(accountId: string) {
    const root = { AWS: `arn:aws:iam::${accountId}:root` };
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersKey",
                Effect: "Allow",
                Principal: root,
                Action: MAC_KEY_ADMINISTRATION,
                Resource: "*", // in a key policy "*" is this key
            },
            {
                Sid: "AccountRolesGenerateCursorMacs",
                Effect: "Allow",
                Principal: root,
                Action: ["kms:GenerateMac"],
                Resource: "*",
                Condition: {
                    StringEquals: { "kms:CallerAccount": accountId, "kms:MacAlgorithm": CURSOR_MAC_ALGORITHM },
                },
            },
        ],
    };
}
