import type * as pulumi from "@pulumi/pulumi";

/**
 * The actions a TLS-only Deny must cover per service. A Deny grants nothing, so `sqs:*` and `s3:*` widen
 * protection; SNS topics take the three actions a principal can use on a topic's data path.
 */
const INSECURE_TRANSPORT_ACTIONS = {
    sqs: "sqs:*",
    sns: ["sns:Publish", "sns:Subscribe", "sns:Receive"],
    s3: "s3:*",
} as const;

/**
 * The resource-policy statement denying every principal any access over plain HTTP to a queue, topic or
 * bucket (and its objects): the one place this platform writes it.
 */
export function denyInsecureTransport(
    service: keyof typeof INSECURE_TRANSPORT_ACTIONS,
    resource: pulumi.Input<string> | pulumi.Input<string>[],
) {
    const action = INSECURE_TRANSPORT_ACTIONS[service];
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: typeof action === "string" ? action : [...action],
        Resource: resource,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}
