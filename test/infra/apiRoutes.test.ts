/**
 * The shipped program's API (index.ts composes producerRoutes + meRoutes into the Api component), both
 * stacks, from the preview the program loader records (outputs included): the route table with the
 * intended authorizer per route, the integrations, the scoped permissions, the access logs, the
 * throttling from the stack files, the producers' policy and the API's alarms.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { parseStatements } from "../../policy/iam";
import { loadProgram, type PreviewResult } from "../../toolkit/local-cloud/program";

const ROOT = path.resolve(__dirname, "..", "..");
const ACCOUNT = "123456789012";
const ROUTES: Record<string, "AWS_IAM" | "JWT"> = {
    "POST /v1/notifications": "AWS_IAM",
    "GET /v1/notifications/{id}": "AWS_IAM",
    "PUT /v1/me/devices/{deviceId}": "JWT",
    "DELETE /v1/me/devices/{deviceId}": "JWT",
    "GET /v1/me/preferences": "JWT",
    "PUT /v1/me/preferences": "JWT",
    "GET /v1/me/inbox": "JWT",
    "POST /v1/me/inbox/{id}/read": "JWT",
    "POST /v1/me/inbox/read-all": "JWT",
};

const ofType = (r: PreviewResult, type: string) => r.resources.filter((x) => x.type === type);
const stackConfig = (stack: string) =>
    YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config;

describe("the program's HTTPS API (both stacks)", function () {
    const results: Record<string, PreviewResult> = {};

    before(async function () {
        const [dev, prod] = await Promise.all([loadProgram({ stack: "dev" }), loadProgram({ stack: "prod" })]);
        results.dev = dev.result;
        results.prod = prod.result;
    });

    for (const stack of ["dev", "prod"]) {
        describe(stack, function () {
            const r = () => results[stack];
            const api = () => ofType(r(), "aws:apigatewayv2/api:Api")[0];
            const base = () => `arn:aws:execute-api:eu-west-1:${ACCOUNT}:${api().outputs.id}/${stack}`;

            it("has exactly the contract's routes: AWS_IAM for /v1/notifications*, the JWT authorizer for /v1/me/*", function () {
                expect(ofType(r(), "aws:apigatewayv2/api:Api")).to.have.length(1);
                const [authorizer] = ofType(r(), "aws:apigatewayv2/authorizer:Authorizer");
                const routes = ofType(r(), "aws:apigatewayv2/route:Route");
                const table = Object.fromEntries(routes.map((x) => [x.inputs.routeKey, x.inputs.authorizationType]));
                expect(table).to.deep.equal(ROUTES);
                for (const route of routes) {
                    const key = String(route.inputs.routeKey);
                    if (key.includes(" /v1/notifications")) expect(route.inputs.authorizerId, key).to.equal(undefined);
                    if (key.includes(" /v1/me/"))
                        expect(route.inputs.authorizerId, key).to.equal(authorizer.outputs.id);
                }
            });

            it("integrates every route AWS_PROXY, payload 2.0, with its own function, invocable from that route only", function () {
                const integrations = ofType(r(), "aws:apigatewayv2/integration:Integration");
                const functions = ofType(r(), "aws:lambda/function:Function");
                const permissions = ofType(r(), "aws:lambda/permission:Permission");
                const used = new Set<string>();
                for (const route of ofType(r(), "aws:apigatewayv2/route:Route")) {
                    const key = String(route.inputs.routeKey);
                    const integration = integrations.find(
                        (i) => route.inputs.target === `integrations/${i.outputs.id}`,
                    )!;
                    expect(integration.inputs).to.include({
                        integrationType: "AWS_PROXY",
                        payloadFormatVersion: "2.0",
                    });
                    const fn = functions.find((f) => f.outputs.arn === integration.inputs.integrationUri)!;
                    expect(fn, key).to.not.equal(undefined);
                    expect(used.has(fn.name), `${key}: a function of its own`).to.equal(false);
                    used.add(fn.name);
                    const [method, routePath] = key.split(" ");
                    const arnPath = routePath.replace(/\{[^}]+\}/g, "*");
                    const own = permissions.filter((p) => p.inputs.function === fn.outputs.name);
                    expect(
                        own.map((p) => p.inputs.sourceArn),
                        key,
                    ).to.deep.equal([`${base()}/${method}${arnPath}`]);
                    expect(own[0].inputs.principal).to.equal("apigateway.amazonaws.com");
                }
            });

            it("logs access to a log group encrypted with the stack key and throttles every route from the stack file", function () {
                const [stage] = ofType(r(), "aws:apigatewayv2/stage:Stage");
                const group = ofType(r(), "aws:cloudwatch/logGroup:LogGroup").find(
                    (g) => g.outputs.arn === stage.inputs.accessLogSettings.destinationArn,
                )!;
                const stackKey = ofType(r(), "aws:kms/key:Key").find((k) => k.name === "encryption-key")!;
                expect(group.inputs.kmsKeyId).to.equal(stackKey.outputs.arn);
                const config = stackConfig(stack);
                const expected = [config["notify:apiThrottleRateLimit"], config["notify:apiThrottleBurstLimit"]];
                expect(stage.inputs.routeSettings).to.have.length(Object.keys(ROUTES).length);
                for (const setting of stage.inputs.routeSettings)
                    expect([setting.throttlingRateLimit, setting.throttlingBurstLimit], setting.routeKey).to.deep.equal(
                        expected,
                    );
            });

            it("exports a producer policy allowing execute-api:Invoke on exactly the two producer routes", function () {
                const policy = ofType(r(), "aws:iam/policy:Policy").find((p) => p.name === "api-producer-policy")!;
                const [statement, ...rest] = parseStatements(policy.inputs.policy);
                expect(rest).to.have.length(0);
                expect(statement.action).to.deep.equal(["execute-api:Invoke"]);
                expect(statement.resource.sort()).to.deep.equal([
                    `${base()}/GET/v1/notifications/*`,
                    `${base()}/POST/v1/notifications`,
                ]);
                expect(r().outputs.producerApiPolicyArn).to.equal(policy.outputs.arn);
            });

            it("trusts the stack's Cognito user pool (no apiJwtIssuer in the stack files) and alarms on the API", function () {
                const [pool] = ofType(r(), "aws:cognito/userPool:UserPool");
                expect(r().outputs.apiJwtIssuer).to.equal(
                    `https://cognito-idp.eu-west-1.amazonaws.com/${pool.outputs.id}`,
                );
                expect(pool.inputs.deletionProtection).to.equal(stack === "prod" ? "ACTIVE" : "INACTIVE");
                const alarms = ofType(r(), "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs.name);
                for (const name of ["api-5xx", "api-4xx-rate", "api-latency-p99", "fn-api-post-notification-errors"])
                    expect(alarms).to.include(`notify-${stack}-${name}`);
            });
        });
    }
});
