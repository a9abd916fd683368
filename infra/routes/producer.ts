import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { notificationStatus, postNotification } from "../../handlers/api/producer";
import { STATUS_ATTRIBUTES } from "../../handlers/core/api/notifications";
import { environmentVariables, PROCESSOR_ENV } from "../../handlers/lib/env";
import { METRIC_NAMESPACE, serviceName } from "../../handlers/lib/telemetry-names";
import type { ApiRouteSpec } from "../apiRoute";

/** Each route's handler factory (handlers/api/producer.ts); the bench finds a route function's code by it. */
export const PRODUCER_ROUTE_FACTORIES = {
    "api-post-notification": postNotification,
    "api-notification-status": notificationStatus,
} satisfies Record<string, ApiRouteSpec["callbackFactory"]>;

export interface ProducerRoutesArgs {
    /** The stack's name (service name, log level). */
    stack: string;
    /** The SNS ingress topic requests are published to. */
    ingressTopicArn: pulumi.Input<string>;
    /** The stack key the ingress topic is encrypted with (SNS SSE needs the publisher's kms permissions). */
    kmsKeyArn: pulumi.Input<string>;
    /** The region of the topic (the kms:ViaService condition names sns.<region>.amazonaws.com). */
    region: pulumi.Input<string>;
    idempotencyTable: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
    deliveryLogTable: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
    /** Per-route throttling; the API's defaults when absent. */
    throttle?: { post?: ApiRouteSpec["throttle"]; status?: ApiRouteSpec["throttle"] };
}

type Statement = pulumi.Input<aws.iam.PolicyStatement>;

/**
 * The producer routes (IAM / SigV4 auth): `POST /v1/notifications` and `GET /v1/notifications/{id}`,
 * each with exactly the actions its adapter (handlers/api/producer.ts) calls, on exactly the resources it
 * uses, and the environment PROCESSOR_ENV declares for it.
 */
export function producerRoutes(args: ProducerRoutesArgs): ApiRouteSpec[] {
    const base = {
        stage: args.stack,
        serviceName: serviceName(args.stack),
        metricsNamespace: METRIC_NAMESPACE,
        logLevel: args.stack === "prod" ? "INFO" : "DEBUG",
    };
    const publish: Statement[] = [
        { Sid: "PublishRequests", Effect: "Allow", Action: "sns:Publish", Resource: args.ingressTopicArn },
        {
            // The topic is encrypted with the stack key: SNS uses it on the publisher's behalf.
            Sid: "EncryptRequests",
            Effect: "Allow",
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: args.kmsKeyArn,
            Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`sns.${args.region}.amazonaws.com` } },
        },
    ];
    return [
        {
            routeKey: "POST /v1/notifications",
            auth: "iam",
            name: "api-post-notification",
            description:
                "POST /v1/notifications: validates, claims the idempotency key and publishes to the ingress topic",
            callbackFactory: PRODUCER_ROUTE_FACTORIES["api-post-notification"],
            statements: [
                {
                    // Claim (conditional PutItem), read back a refused claim (GetItem), record the answer or
                    // release the claim (UpdateItem): rows `api#<caller>#<key>` only.
                    Sid: "IdempotencyClaims",
                    Effect: "Allow",
                    Action: ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"],
                    Resource: args.idempotencyTable.arn,
                    Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["api#*"] } },
                },
                ...publish,
            ],
            environment: environmentVariables(PROCESSOR_ENV.producerPost, {
                ...base,
                idempotencyTable: args.idempotencyTable.name,
                ingressTopicArn: args.ingressTopicArn,
            }),
            throttle: args.throttle?.post,
        },
        {
            routeKey: "GET /v1/notifications/{id}",
            auth: "iam",
            name: "api-notification-status",
            description: "GET /v1/notifications/{id}: every recipient's status from the delivery log",
            callbackFactory: PRODUCER_ROUTE_FACTORIES["api-notification-status"],
            statements: [
                {
                    // Query by notificationId on the table itself (no index), only the status attributes.
                    Sid: "ReadDeliveryLog",
                    Effect: "Allow",
                    Action: "dynamodb:Query",
                    Resource: args.deliveryLogTable.arn,
                    Condition: {
                        "ForAllValues:StringEquals": {
                            "dynamodb:Attributes": [...STATUS_ATTRIBUTES, "notificationId"],
                        },
                        StringEqualsIfExists: { "dynamodb:Select": "SPECIFIC_ATTRIBUTES" },
                    },
                },
            ],
            environment: environmentVariables(PROCESSOR_ENV.producerStatus, {
                ...base,
                deliveryLogTable: args.deliveryLogTable.name,
            }),
            throttle: args.throttle?.status,
        },
    ];
}
