/**
 * The Api component (infra/api.ts) from the preview, on its fixture program (test/fixtures/api-program:
 * one IAM and one JWT route whose closures answer from the event), through the offline preview with the
 * project's Pulumi.yaml: the route table and its authorizers, integrations, permissions, the stage's
 * access logs and throttling from config, the producer policy, the Cognito path and the external-issuer
 * path, the gate on both, and the shipped closures invoked with payload 2.0 events.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { API_VERSION_PREFIX, parseRouteKey, routeArnPath } from "../../infra/api";
import { parseStatements } from "../../policy/iam";
import { runGate } from "../../toolkit/gate/gate";
import { loadProgram, type PreviewResource, type PreviewResult } from "../../toolkit/local-cloud/program";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURE = path.join(ROOT, "test", "fixtures", "api-program", "index.ts");
const ACCOUNT = "123456789012";

/** A program directory: this project's Pulumi.yaml with main = the fixture, and the stack's file plus overrides. */
function fixtureProgram(stack: string, overrides: Record<string, unknown> = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "notify-api-program-"));
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    project.main = FIXTURE;
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify(project));
    const config = YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config;
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), YAML.stringify({ config: { ...config, ...overrides } }));
    return dir;
}

const EXTERNAL = {
    "notify:apiJwtIssuer": "https://example.eu.auth0.com/",
    "notify:apiJwtAudience": "https://api.notify.example.com, mobile-app",
    "notify:apiDomainName": "api.notify.example.com",
    "notify:apiCertificateArn": `arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/0f0e1d2c-aaaa-bbbb-cccc-123456789abc`,
    "notify:apiThrottleRateLimit": 33,
    "notify:apiThrottleBurstLimit": 66,
};

const ofType = (r: PreviewResult, type: string) => r.resources.filter((x) => x.type === type);
const one = (r: PreviewResult, type: string, name?: string): PreviewResource => {
    const found = ofType(r, type).filter((x) => name === undefined || x.name === name);
    expect(found, `${type} ${name ?? ""}`).to.have.length(1);
    return found[0];
};
const routeNamed = (r: PreviewResult, routeKey: string) =>
    ofType(r, "aws:apigatewayv2/route:Route").find((x) => x.inputs.routeKey === routeKey)!;

describe("Api component (fixture program, offline preview)", function () {
    const dirs = {
        dev: fixtureProgram("dev"),
        prod: fixtureProgram("prod"),
        external: fixtureProgram("prod", EXTERNAL),
    };
    const results: Record<keyof typeof dirs, PreviewResult> = {} as never;

    before(async function () {
        // The program loader's preview: the offline preview plus the outputs the mock runtime gave each
        // resource (ids, ARNs), and the shipped closures of the functions.
        const [dev, prod, external] = await Promise.all([
            loadProgram({ programDir: dirs.dev, stack: "dev" }),
            loadProgram({ programDir: dirs.prod, stack: "prod" }),
            loadProgram({ programDir: dirs.external, stack: "prod" }),
        ]);
        Object.assign(results, { dev: dev.result, prod: prod.result, external: external.result });
    });
    after(() => {
        // The loader keeps its results per directory; the directories are only read while loading.
        for (const dir of Object.values(dirs)) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("parses route keys: /v1 only, path parameters become one '*' segment in the ARN", function () {
        expect(routeArnPath("POST /v1/notifications")).to.equal("POST/v1/notifications");
        expect(routeArnPath("GET /v1/notifications/{id}")).to.equal("GET/v1/notifications/*");
        expect(routeArnPath("POST /v1/me/inbox/{id}/read")).to.equal("POST/v1/me/inbox/*/read");
        expect(routeArnPath("ANY /v1/me/{proxy+}")).to.equal("*/v1/me/*");
        expect(() => parseRouteKey("GET /notifications")).to.throw(`not under ${API_VERSION_PREFIX}`);
        expect(() => parseRouteKey("$default")).to.throw("is not '<METHOD> /path'");
        expect(() => parseRouteKey("FETCH /v1/x")).to.throw("is not '<METHOD> /path'");
    });

    for (const variant of ["dev", "prod", "external"] as const) {
        describe(variant, function () {
            const r = () => results[variant];
            const stack = variant === "dev" ? "dev" : "prod";

            it("is one HTTP API with an explicit stage named after the stack (no $default stage or route)", function () {
                const api = one(r(), "aws:apigatewayv2/api:Api");
                expect(api.inputs.protocolType).to.equal("HTTP");
                const stage = one(r(), "aws:apigatewayv2/stage:Stage");
                expect(stage.inputs.name).to.equal(stack);
                expect(stage.inputs.autoDeploy).to.equal(true);
                const keys = ofType(r(), "aws:apigatewayv2/route:Route").map((x) => x.inputs.routeKey);
                expect(keys.sort()).to.deep.equal(["GET /v1/fixture/me/{item}", "POST /v1/fixture/echo"]);
            });

            it("guards every route: AWS_IAM for the IAM route, the JWT authorizer for the JWT route", function () {
                const routes = ofType(r(), "aws:apigatewayv2/route:Route");
                for (const route of routes)
                    expect(route.inputs.authorizationType, route.name).to.be.oneOf(["AWS_IAM", "JWT"]);
                const iam = routeNamed(r(), "POST /v1/fixture/echo");
                expect(iam.inputs.authorizationType).to.equal("AWS_IAM");
                expect(iam.inputs.authorizerId).to.equal(undefined);
                const jwt = routeNamed(r(), "GET /v1/fixture/me/{item}");
                const authorizer = one(r(), "aws:apigatewayv2/authorizer:Authorizer");
                expect(jwt.inputs.authorizationType).to.equal("JWT");
                expect(jwt.inputs.authorizerId).to.equal(authorizer.outputs.id);
                expect(authorizer.inputs.authorizerType).to.equal("JWT");
                expect(authorizer.inputs.identitySources).to.deep.equal(["$request.header.Authorization"]);
            });

            it("integrates each route with its own function: AWS_PROXY, payload format 2.0", function () {
                const integrations = ofType(r(), "aws:apigatewayv2/integration:Integration");
                const functions = ofType(r(), "aws:lambda/function:Function");
                expect(integrations).to.have.length(2);
                for (const [routeKey, fnName] of [
                    ["POST /v1/fixture/echo", "fixture-echo-fn"],
                    ["GET /v1/fixture/me/{item}", "fixture-whoami-fn"],
                ]) {
                    const route = routeNamed(r(), routeKey);
                    const integration = integrations.find(
                        (i) => route.inputs.target === `integrations/${i.outputs.id}`,
                    );
                    expect(integration, routeKey).to.not.equal(undefined);
                    expect(integration!.inputs.integrationType).to.equal("AWS_PROXY");
                    expect(integration!.inputs.payloadFormatVersion).to.equal("2.0");
                    const fn = functions.find((f) => f.name === fnName)!;
                    expect(integration!.inputs.integrationUri).to.equal(fn.outputs.arn);
                    expect(integration!.inputs.timeoutMilliseconds).to.be.at.most(30_000);
                }
            });

            it("lets API Gateway invoke each function from its own route of this stage only", function () {
                const api = one(r(), "aws:apigatewayv2/api:Api");
                const base = `arn:aws:execute-api:eu-west-1:${ACCOUNT}:${api.outputs.id}/${stack}`;
                const permissions = ofType(r(), "aws:lambda/permission:Permission");
                expect(permissions).to.have.length(2);
                const expected: Record<string, string> = {
                    "fixture-echo-fn": `${base}/POST/v1/fixture/echo`,
                    "fixture-whoami-fn": `${base}/GET/v1/fixture/me/*`,
                };
                const functions = ofType(r(), "aws:lambda/function:Function");
                for (const p of permissions) {
                    const fn = functions.find((f) => f.outputs.name === p.inputs.function)!;
                    expect(p.inputs.principal).to.equal("apigateway.amazonaws.com");
                    expect(p.inputs.action).to.equal("lambda:InvokeFunction");
                    expect(p.inputs.sourceArn, fn.name).to.equal(expected[fn.name]);
                }
            });

            it("writes JSON access logs to a log group encrypted with the stack key", function () {
                const stage = one(r(), "aws:apigatewayv2/stage:Stage");
                const group = one(r(), "aws:cloudwatch/logGroup:LogGroup", "api-access-logs");
                const key = one(r(), "aws:kms/key:Key");
                expect(stage.inputs.accessLogSettings.destinationArn).to.equal(group.outputs.arn);
                expect(group.inputs.kmsKeyId).to.equal(key.outputs.arn);
                expect(group.inputs.name).to.equal(`/notify/${stack}/api-access`);
                expect(group.inputs.retentionInDays).to.equal(stack === "dev" ? 14 : 365);
                const format = JSON.parse(stage.inputs.accessLogSettings.format);
                expect(format).to.include({ requestId: "$context.requestId", status: "$context.status" });
                expect(format.authorizerError).to.equal("$context.authorizer.error");
            });

            it("throttles every route from config; a route's own throttle wins", function () {
                const stage = one(r(), "aws:apigatewayv2/stage:Stage");
                const defaults = { dev: [20, 40], prod: [500, 1000], external: [33, 66] }[variant];
                const byKey = Object.fromEntries(
                    stage.inputs.routeSettings.map((s: any) => [
                        s.routeKey,
                        [s.throttlingRateLimit, s.throttlingBurstLimit],
                    ]),
                );
                expect(byKey).to.deep.equal({
                    "POST /v1/fixture/echo": [5, 7],
                    "GET /v1/fixture/me/{item}": defaults,
                });
                expect(stage.inputs.defaultRouteSettings.throttlingRateLimit).to.equal(defaults[0]);
                expect(stage.inputs.defaultRouteSettings.throttlingBurstLimit).to.equal(defaults[1]);
            });

            it("gives producers execute-api:Invoke on exactly the IAM routes", function () {
                const api = one(r(), "aws:apigatewayv2/api:Api");
                const policy = one(r(), "aws:iam/policy:Policy", "api-producer-policy");
                const statements = parseStatements(policy.inputs.policy);
                expect(statements).to.have.length(1);
                expect(statements[0].effect).to.equal("Allow");
                expect(statements[0].action).to.deep.equal(["execute-api:Invoke"]);
                expect(statements[0].resource).to.deep.equal([
                    `arn:aws:execute-api:eu-west-1:${ACCOUNT}:${api.outputs.id}/${stack}/POST/v1/fixture/echo`,
                ]);
                expect(r().outputs.producerApiPolicyArn).to.equal(policy.outputs.arn);
            });

            it("passes the policy gate", function () {
                const report = runGate(r(), { stack, programDir: dirs[variant] });
                expect(report.violations, JSON.stringify(report.violations, null, 2)).to.deep.equal([]);
                expect(report.exitCode).to.equal(0);
            });
        });
    }

    describe("JWT issuer", function () {
        for (const variant of ["dev", "prod"] as const) {
            it(`${variant}: without apiJwtIssuer, trusts a Cognito user pool of its own and its app client`, function () {
                const r = results[variant];
                const pool = one(r, "aws:cognito/userPool:UserPool");
                const client = one(r, "aws:cognito/userPoolClient:UserPoolClient");
                const authorizer = one(r, "aws:apigatewayv2/authorizer:Authorizer");
                const issuer = `https://cognito-idp.eu-west-1.amazonaws.com/${pool.outputs.id}`;
                expect(authorizer.inputs.jwtConfiguration).to.deep.equal({ issuer, audiences: [client.outputs.id] });
                expect(r.outputs.apiJwtIssuer).to.equal(issuer);
                expect(pool.inputs.deletionProtection).to.equal(variant === "prod" ? "ACTIVE" : "INACTIVE");
                expect(pool.inputs.passwordPolicy.minimumLength).to.be.at.least(12);
                expect(client.inputs.generateSecret).to.equal(false);
                expect(client.inputs.explicitAuthFlows.sort()).to.deep.equal([
                    "ALLOW_REFRESH_TOKEN_AUTH",
                    "ALLOW_USER_SRP_AUTH",
                ]);
                // Tagged like everything else: through the provider's defaultTags (a UserPool is taggable).
                expect(pool.provider).to.equal(one(r, "pulumi:providers:aws").urn);
            });
        }

        it("with apiJwtIssuer/apiJwtAudience, trusts that issuer and creates no user pool", function () {
            const r = results.external;
            expect(ofType(r, "aws:cognito/userPool:UserPool")).to.have.length(0);
            expect(ofType(r, "aws:cognito/userPoolClient:UserPoolClient")).to.have.length(0);
            const authorizer = one(r, "aws:apigatewayv2/authorizer:Authorizer");
            expect(authorizer.inputs.jwtConfiguration).to.deep.equal({
                issuer: "https://example.eu.auth0.com/",
                audiences: ["https://api.notify.example.com", "mobile-app"],
            });
        });
    });

    describe("custom domain", function () {
        it("without apiDomainName: the execute-api URL of the stage", function () {
            const api = one(results.dev, "aws:apigatewayv2/api:Api");
            expect(ofType(results.dev, "aws:apigatewayv2/domainName:DomainName")).to.have.length(0);
            expect(results.dev.outputs.apiEndpoint).to.equal(
                `https://${api.outputs.id}.execute-api.eu-west-1.amazonaws.com/dev`,
            );
        });

        it("with apiDomainName + apiCertificateArn: a regional TLS 1.2 domain mapped to the stage", function () {
            const r = results.external;
            const domain = one(r, "aws:apigatewayv2/domainName:DomainName");
            expect(domain.inputs.domainName).to.equal("api.notify.example.com");
            expect(domain.inputs.domainNameConfiguration).to.deep.equal({
                certificateArn: EXTERNAL["notify:apiCertificateArn"],
                endpointType: "REGIONAL",
                securityPolicy: "TLS_1_2",
            });
            const mapping = one(r, "aws:apigatewayv2/apiMapping:ApiMapping");
            expect(mapping.inputs.domainName).to.equal(domain.outputs.id);
            expect(mapping.inputs.stage).to.equal(one(r, "aws:apigatewayv2/stage:Stage").outputs.id);
            expect(mapping.inputs.apiMappingKey).to.equal(undefined);
            expect(r.outputs.apiEndpoint).to.equal("https://api.notify.example.com");
        });

        it("refuses half a custom domain or half an external issuer, naming the key", async function () {
            const halfDomain = fixtureProgram("dev", { "notify:apiDomainName": "api.dev.notify.example.com" });
            const halfIssuer = fixtureProgram("dev", { "notify:apiJwtIssuer": "https://issuer.example.com/" });
            try {
                const errors = await Promise.all(
                    [halfDomain, halfIssuer].map((programDir) =>
                        loadProgram({ programDir, stack: "dev" }).then(
                            () => "",
                            (err: Error) => err.message,
                        ),
                    ),
                );
                expect(errors[0]).to.include("notify:apiCertificateArn");
                expect(errors[1]).to.include("notify:apiJwtAudience");
            } finally {
                for (const dir of [halfDomain, halfIssuer]) fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("the shipped closures, with payload 2.0 events", function () {
        const event = (routeKey: string, extra: Record<string, any>) => {
            const [method, rawPath] = routeKey.split(" ");
            return {
                version: "2.0",
                routeKey,
                rawPath,
                rawQueryString: "",
                headers: { "content-type": "application/json" },
                isBase64Encoded: false,
                ...extra,
                requestContext: {
                    accountId: ACCOUNT,
                    apiId: "notify-dev-api",
                    requestId: "r-1",
                    routeKey,
                    stage: "dev",
                    timeEpoch: 1_800_000_000_000,
                    http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
                    ...extra.requestContext,
                },
            };
        };

        it("IAM route: answers the SigV4 caller and the body; refuses an event without an IAM identity", async function () {
            const program = await loadProgram({ programDir: dirs.dev, stack: "dev" });
            const echo = program.fn("fixture-echo").load();
            const caller = `arn:aws:iam::${ACCOUNT}:user/producer`;
            const signed = await echo.invoke(
                event("POST /v1/fixture/echo", {
                    body: JSON.stringify({ message: "hi" }),
                    requestContext: { authorizer: { iam: { userArn: caller, accessKey: "AKIA", accountId: ACCOUNT } } },
                }),
            );
            expect(signed.statusCode).to.equal(200);
            expect(JSON.parse(signed.body)).to.deep.equal({ caller, echo: "echo: hi" });
            const unsigned = await echo.invoke(event("POST /v1/fixture/echo", { body: "{}" }));
            expect(unsigned.statusCode).to.equal(401);
        });

        it("JWT route: answers the token's subject and the path parameter; refuses an event without claims", async function () {
            const program = await loadProgram({ programDir: dirs.dev, stack: "dev" });
            const whoami = program.fn("fixture-whoami").load();
            const answer = await whoami.invoke(
                event("GET /v1/fixture/me/{item}", {
                    rawPath: "/v1/fixture/me/book",
                    pathParameters: { item: "book" },
                    requestContext: { authorizer: { jwt: { claims: { sub: "user-7" }, scopes: ["inbox"] } } },
                }),
            );
            expect(answer.statusCode).to.equal(200);
            expect(JSON.parse(answer.body)).to.deep.equal({ sub: "user-7", item: "book", scopes: ["inbox"] });
            const anonymous = await whoami.invoke(
                event("GET /v1/fixture/me/{item}", { pathParameters: { item: "x" } }),
            );
            expect(anonymous.statusCode).to.equal(401);
        });
    });
});
