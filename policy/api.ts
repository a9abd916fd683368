/**
 * API Gateway: no route open to the world and no stage without access logs. An HTTP/WebSocket API
 * route (apigatewayv2 Route) must name an authorizer type (AWS_IAM, JWT or CUSTOM), and a REST API method
 * (apigateway Method) an authorization other than NONE; every stage of either kind writes access logs.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { peek } from "./lib/values";

const ROUTE_TYPES = ["aws:apigatewayv2/route:Route", "aws:apigateway/method:Method"];
const STAGE_TYPES = ["aws:apigatewayv2/stage:Stage", "aws:apigateway/stage:Stage"];

export const apiGuarded: ResourceValidationPolicy = {
    name: "api-gateway-guarded",
    description:
        "Every API Gateway route or method has an authorizer (IAM, JWT, Cognito or a Lambda authorizer; never NONE), and every stage writes access logs.",
    severity: "high",
    remediationSteps:
        'Set authorizationType "AWS_IAM" or "JWT" (with authorizerId) on the apigatewayv2 Route, or authorization on the REST method; ' +
        "set accessLogSettings.destinationArn on the stage to a KMS-encrypted log group with a retention.",
    validateResource: (args, reportViolation) => {
        if (ROUTE_TYPES.includes(args.type)) {
            const field = args.type === "aws:apigateway/method:Method" ? "authorization" : "authorizationType";
            const auth = peek(args.props, field);
            if (!auth.present || (auth.known && String(auth.value).toUpperCase() === "NONE")) {
                reportViolation(
                    `${field} is ${auth.present ? auth.value : "not set (NONE)"}: the route is open to anyone who finds it.`,
                );
            }
            return;
        }
        if (STAGE_TYPES.includes(args.type)) {
            const settings = peek(args.props, "accessLogSettings");
            const destination = settings.known && settings.present ? peek(settings.value, "destinationArn") : settings;
            if (!destination.present)
                reportViolation("accessLogSettings.destinationArn is not set: requests leave no access log.");
            return;
        }
        args.notApplicable();
    },
};
