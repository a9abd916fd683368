import { expect } from "chai";
import { gate, res, violationsOf } from "./harness";

const only = { all: "disabled", "api-gateway-guarded": "mandatory" };

describe("policy api-gateway-guarded", () => {
    it("accepts IAM, JWT and REST-authorized routes; refuses NONE and a route without an authorization type", () => {
        const report = gate(
            [
                res("aws:apigatewayv2/route:Route", "iam", { routeKey: "POST /v1/x", authorizationType: "AWS_IAM" }),
                res("aws:apigatewayv2/route:Route", "jwt", {
                    routeKey: "GET /v1/me",
                    authorizationType: "JWT",
                    authorizerId: "a",
                }),
                res("aws:apigatewayv2/route:Route", "open", { routeKey: "GET /v1/open", authorizationType: "NONE" }),
                res("aws:apigatewayv2/route:Route", "unset", { routeKey: "$default" }),
                res("aws:apigateway/method:Method", "rest-iam", { httpMethod: "GET", authorization: "AWS_IAM" }),
                res("aws:apigateway/method:Method", "rest-open", { httpMethod: "GET", authorization: "NONE" }),
            ],
            only,
        );
        expect(violationsOf(report, "api-gateway-guarded")).to.deep.equal([
            "open: authorizationType is NONE: the route is open to anyone who finds it.",
            "unset: authorizationType is not set (NONE): the route is open to anyone who finds it.",
            "rest-open: authorization is NONE: the route is open to anyone who finds it.",
        ]);
    });

    it("requires access logs on every stage", () => {
        const report = gate(
            [
                res("aws:apigatewayv2/stage:Stage", "logged", {
                    name: "prod",
                    accessLogSettings: { destinationArn: "arn:aws:logs:eu-west-1:1:log-group:/a", format: "{}" },
                }),
                res("aws:apigatewayv2/stage:Stage", "silent", { name: "prod" }),
                res("aws:apigateway/stage:Stage", "rest-silent", { stageName: "prod" }),
            ],
            only,
        );
        expect(violationsOf(report, "api-gateway-guarded")).to.deep.equal([
            "silent: accessLogSettings.destinationArn is not set: requests leave no access log.",
            "rest-silent: accessLogSettings.destinationArn is not set: requests leave no access log.",
        ]);
    });
});
