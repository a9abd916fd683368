import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ApiRouteSpec } from "./apiRoute";
import { Processor } from "./processor";
import { UserPool } from "./userPool";

/** Rate (requests/s, steady) and burst (token bucket size) of one route or of the API's default. */
export interface ApiThrottle {
    rateLimit: number;
    burstLimit: number;
}

export interface ApiArgs {
    /** The stack's name: resource names, the log group `/notify/<stack>/api-access` and the stage name. */
    stack: string;
    kmsKeyArn: pulumi.Input<string>;
    routes: ApiRouteSpec[];
    /** Every route's function: the stack's log retention and memory, the API's timeout. */
    processor: { logRetentionDays: number; memorySizeMb: number; timeoutSeconds: number };
    /** Per-route throttling where a route spec has none (typed config apiThrottleRateLimit/BurstLimit). */
    throttle: ApiThrottle;
    /** A custom domain (ACM certificate in the API's region) mapped to the stage; none: the execute-api URL. */
    customDomain?: { domainName: string; certificateArn: string };
    /**
     * The JWT routes' token issuer (an OIDC provider: its `/.well-known/openid-configuration` must be
     * public) and the accepted audiences (`aud`, or `client_id` when a token has no `aud`). Absent: the
     * API creates a Cognito user pool and app client and trusts them.
     */
    jwt?: { issuer: string; audience: string[] };
    /** The Cognito user pool's deletion protection (used only without `jwt`). */
    userPoolDeletionProtection: boolean;
}

/** API Gateway's limits for an HTTP API Lambda integration, and the methods a route key may name. */
const MAX_INTEGRATION_TIMEOUT_SECONDS = 30;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"];
/** Timeout of every route's function: an answer well inside what a client waits for. */
export const API_ROUTE_TIMEOUT_SECONDS = 10;
/** Every route is versioned: a breaking change becomes /v2 beside /v1. */
export const API_VERSION_PREFIX = "/v1/";

/** The pieces of a route key: `POST /v1/notifications/{id}` → method, path and path segments. */
export function parseRouteKey(routeKey: string): { method: string; path: string; segments: string[] } {
    const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
    if (!match || !METHODS.includes(match[1])) {
        throw new Error(`Api: route key '${routeKey}' is not '<METHOD> /path' (methods: ${METHODS.join(", ")})`);
    }
    const [, method, path] = match;
    if (!path.startsWith(API_VERSION_PREFIX)) {
        throw new Error(`Api: route '${routeKey}' is not under ${API_VERSION_PREFIX}`);
    }
    return { method, path, segments: path.slice(1).split("/") };
}

/**
 * The resource part of a route's execute-api ARN below `<apiId>/<stage>/`: `POST/v1/notifications`,
 * `GET/v1/notifications/*` — a path parameter becomes `*` (one segment; `{proxy+}` any below it),
 * everything else stays literal, `ANY` becomes `*`.
 */
export function routeArnPath(routeKey: string): string {
    const { method, segments } = parseRouteKey(routeKey);
    const path = segments.map((s) => (/^\{[^}]+\}$/.test(s) ? "*" : s)).join("/");
    return `${method === "ANY" ? "*" : method}/${path}`;
}

/**
 * The platform's HTTPS API: one API Gateway HTTP API (payload format 2.0), versioned under /v1, with an
 * explicit stage (no `$default` stage or route) whose access logs go to a log group encrypted with the
 * stack key, per-route throttling, an optional custom domain, and per route a Processor (own role and
 * log group), an AWS_PROXY integration, the route with its authorizer (AWS_IAM or JWT) and the invoke
 * permission for that route only. Exports the producers' policy: execute-api:Invoke on the IAM routes.
 */
export class Api extends pulumi.ComponentResource {
    public readonly api: aws.apigatewayv2.Api;
    public readonly stage: aws.apigatewayv2.Stage;
    public readonly accessLogGroup: aws.cloudwatch.LogGroup;
    public readonly authorizer?: aws.apigatewayv2.Authorizer;
    public readonly userPool?: UserPool;
    public readonly processors: { spec: ApiRouteSpec; processor: Processor; route: aws.apigatewayv2.Route }[];
    /** execute-api:Invoke on exactly the IAM routes (attach to a producer's role). */
    public readonly producerPolicy: aws.iam.Policy;
    /** The stage's base URL (the custom domain's when there is one); routes start with /v1/. */
    public readonly endpoint: pulumi.Output<string>;
    public readonly executeApiEndpoint: pulumi.Output<string>;
    public readonly domainName?: aws.apigatewayv2.DomainName;
    /** The JWT routes' issuer and audiences (the user pool's when the API created it). */
    public readonly jwtIssuer: pulumi.Output<string>;
    public readonly jwtAudience: pulumi.Output<string[]>;
    public readonly stageName: string;

    constructor(name: string, args: ApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:api:Api", name, {}, opts);
        validate(args);
        const prefix = `notify-${args.stack}`;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        this.stageName = args.stack;

        this.api = new aws.apigatewayv2.Api(
            `${name}-http`,
            {
                name: `${prefix}-api`,
                protocolType: "HTTP",
                description: `Notification platform API (${args.stack}): producers (SigV4) and app users (JWT)`,
            },
            { parent: this },
        );
        // The ARN prefix every route's permission and the producer policy build on (the provider's
        // executionArn, spelled out: arn:aws:execute-api:<region>:<account>:<apiId>).
        const executionArn = pulumi.interpolate`arn:aws:execute-api:${region}:${accountId}:${this.api.id}`;
        this.executeApiEndpoint = pulumi.interpolate`https://${this.api.id}.execute-api.${region}.amazonaws.com/${this.stageName}`;

        const jwt = this.jwtIssuerOf(name, args);
        this.jwtIssuer = jwt.issuer;
        this.jwtAudience = jwt.audience;
        this.userPool = jwt.userPool;
        if (args.routes.some((r) => r.auth === "jwt")) {
            this.authorizer = new aws.apigatewayv2.Authorizer(
                `${name}-jwt`,
                {
                    apiId: this.api.id,
                    name: `${prefix}-jwt`,
                    authorizerType: "JWT",
                    identitySources: ["$request.header.Authorization"],
                    jwtConfiguration: { issuer: jwt.issuer, audiences: jwt.audience },
                },
                { parent: this },
            );
        }

        this.processors = args.routes.map((spec) => ({ spec, ...this.routeOf(name, spec, args, executionArn) }));
        this.accessLogGroup = new aws.cloudwatch.LogGroup(
            `${name}-access-logs`,
            {
                name: `/notify/${args.stack}/api-access`,
                retentionInDays: args.processor.logRetentionDays,
                kmsKeyId: args.kmsKeyArn,
            },
            { parent: this },
        );
        this.stage = this.stageOf(name, args);
        this.producerPolicy = this.producerPolicyOf(name, args, executionArn);
        this.domainName = this.customDomainOf(name, args);
        this.endpoint = args.customDomain
            ? pulumi.output(`https://${args.customDomain.domainName}`)
            : this.executeApiEndpoint;

        this.registerOutputs({
            apiId: this.api.id,
            endpoint: this.endpoint,
            stageName: this.stage.name,
            producerPolicyArn: this.producerPolicy.arn,
            jwtIssuer: this.jwtIssuer,
        });
    }

    /** The configured issuer, or a Cognito user pool of the stack's own. */
    private jwtIssuerOf(name: string, args: ApiArgs) {
        if (args.jwt) {
            return {
                issuer: pulumi.output(args.jwt.issuer),
                audience: pulumi.output(args.jwt.audience),
                userPool: undefined,
            };
        }
        const userPool = new UserPool(
            `${name}-users`,
            { stack: args.stack, deletionProtection: args.userPoolDeletionProtection },
            { parent: this },
        );
        return { issuer: userPool.issuer, audience: userPool.client.id.apply((id) => [id]), userPool };
    }

    /** One route: its Processor, the AWS_PROXY integration (2.0), the route with its authorizer, the permission. */
    private routeOf(name: string, spec: ApiRouteSpec, args: ApiArgs, executionArn: pulumi.Output<string>) {
        const processor = new Processor(
            spec.name,
            {
                stack: args.stack,
                description: spec.description,
                callbackFactory: spec.callbackFactory,
                statements: spec.statements,
                kmsKeyArn: args.kmsKeyArn,
                logRetentionDays: args.processor.logRetentionDays,
                memorySizeMb: args.processor.memorySizeMb,
                timeoutSeconds: args.processor.timeoutSeconds,
                environment: spec.environment,
            },
            { parent: this },
        );
        const integration = new aws.apigatewayv2.Integration(
            `${name}-${spec.name}-integration`,
            {
                apiId: this.api.id,
                description: spec.routeKey,
                integrationType: "AWS_PROXY",
                integrationMethod: "POST",
                // An HTTP API takes the function's ARN as a Lambda integration's URI.
                integrationUri: processor.function.arn,
                payloadFormatVersion: "2.0",
                timeoutMilliseconds:
                    Math.min(args.processor.timeoutSeconds + 1, MAX_INTEGRATION_TIMEOUT_SECONDS) * 1000,
            },
            { parent: this },
        );
        const route = new aws.apigatewayv2.Route(
            `${name}-${spec.name}-route`,
            {
                apiId: this.api.id,
                routeKey: spec.routeKey,
                target: pulumi.interpolate`integrations/${integration.id}`,
                authorizationType: spec.auth === "iam" ? "AWS_IAM" : "JWT",
                authorizerId: spec.auth === "jwt" ? this.authorizer!.id : undefined,
            },
            { parent: this },
        );
        new aws.lambda.Permission(
            `${name}-${spec.name}-invoke`,
            {
                action: "lambda:InvokeFunction",
                function: processor.function.name,
                principal: "apigateway.amazonaws.com",
                // This route of this stage only: no other API, stage, method or path invokes the function.
                sourceArn: pulumi.interpolate`${executionArn}/${this.stageName}/${routeArnPath(spec.routeKey)}`,
            },
            { parent: this },
        );
        return { processor, route };
    }

    /** The explicit stage: auto-deployed, access logs (JSON) to the encrypted log group, throttling per route. */
    private stageOf(name: string, args: ApiArgs) {
        const throttleOf = (t: ApiThrottle) => ({
            throttlingRateLimit: t.rateLimit,
            throttlingBurstLimit: t.burstLimit,
        });
        return new aws.apigatewayv2.Stage(
            `${name}-stage`,
            {
                apiId: this.api.id,
                name: this.stageName,
                autoDeploy: true,
                description: `Stage ${this.stageName}; every route under ${API_VERSION_PREFIX}`,
                accessLogSettings: {
                    destinationArn: this.accessLogGroup.arn,
                    format: JSON.stringify(ACCESS_LOG_FORMAT),
                },
                defaultRouteSettings: { ...throttleOf(args.throttle), detailedMetricsEnabled: false },
                routeSettings: args.routes.map((r) => ({
                    routeKey: r.routeKey,
                    ...throttleOf(r.throttle ?? args.throttle),
                    detailedMetricsEnabled: true,
                })),
            },
            // Route settings name routes by key: they must exist first.
            { parent: this, dependsOn: this.processors.map((p) => p.route) },
        );
    }

    private producerPolicyOf(name: string, args: ApiArgs, executionArn: pulumi.Output<string>) {
        const iamRoutes = args.routes.filter((r) => r.auth === "iam");
        const resources = iamRoutes.map(
            (r) => pulumi.interpolate`${executionArn}/${this.stageName}/${routeArnPath(r.routeKey)}`,
        );
        return new aws.iam.Policy(
            `${name}-producer-policy`,
            {
                description: `Call the notify-${args.stack} API's producer routes (SigV4): ${iamRoutes.map((r) => r.routeKey).join(", ") || "none"}`,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement:
                        resources.length > 0
                            ? [
                                  {
                                      Sid: "InvokeProducerRoutes",
                                      Effect: "Allow",
                                      Action: "execute-api:Invoke",
                                      Resource: resources,
                                  },
                              ]
                            : // A policy must hold a statement: without IAM routes it grants nothing.
                              [
                                  {
                                      Sid: "NoProducerRoutes",
                                      Effect: "Deny",
                                      Action: "execute-api:Invoke",
                                      Resource: executionArn,
                                  },
                              ],
                }),
            },
            { parent: this },
        );
    }

    private customDomainOf(name: string, args: ApiArgs) {
        if (!args.customDomain) return undefined;
        const domainName = new aws.apigatewayv2.DomainName(
            `${name}-domain`,
            {
                domainName: args.customDomain.domainName,
                domainNameConfiguration: {
                    certificateArn: args.customDomain.certificateArn,
                    endpointType: "REGIONAL",
                    securityPolicy: "TLS_1_2",
                },
            },
            { parent: this },
        );
        // No mapping key: the routes already carry /v1, so https://<domain>/v1/... reaches the stage.
        new aws.apigatewayv2.ApiMapping(
            `${name}-mapping`,
            { apiId: this.api.id, domainName: domainName.id, stage: this.stage.id },
            { parent: this },
        );
        return domainName;
    }
}

/** One JSON line per request: who, which route, the answer and its latencies, why an authorizer refused. */
export const ACCESS_LOG_FORMAT = {
    requestId: "$context.requestId",
    requestTime: "$context.requestTime",
    sourceIp: "$context.identity.sourceIp",
    userAgent: "$context.identity.userAgent",
    routeKey: "$context.routeKey",
    status: "$context.status",
    protocol: "$context.protocol",
    responseLength: "$context.responseLength",
    responseLatency: "$context.responseLatency",
    integrationLatency: "$context.integrationLatency",
    integrationStatus: "$context.integrationStatus",
    integrationError: "$context.integrationErrorMessage",
    authorizerError: "$context.authorizer.error",
    iamCaller: "$context.identity.userArn",
    jwtSubject: "$context.authorizer.claims.sub",
};

function validate(args: ApiArgs): void {
    const fail = (problem: string): never => {
        throw new Error(`Api: ${problem}`);
    };
    const keys = new Set<string>();
    const names = new Set<string>();
    for (const route of args.routes) {
        parseRouteKey(route.routeKey);
        if (keys.has(route.routeKey)) fail(`route '${route.routeKey}' is declared twice`);
        if (names.has(route.name)) fail(`route name '${route.name}' is used twice`);
        if (route.auth !== "iam" && route.auth !== "jwt") fail(`route '${route.routeKey}' has no authorizer`);
        keys.add(route.routeKey);
        names.add(route.name);
        for (const t of [route.throttle ?? args.throttle]) {
            if (!(t.rateLimit > 0 && t.burstLimit > 0 && Number.isInteger(t.burstLimit)))
                fail(`route '${route.routeKey}': throttle rate and burst must be positive (burst an integer)`);
        }
    }
    if (args.processor.timeoutSeconds >= MAX_INTEGRATION_TIMEOUT_SECONDS)
        fail(`a route's function must answer within ${MAX_INTEGRATION_TIMEOUT_SECONDS}s, the integration's limit`);
    if (args.jwt && (!args.jwt.issuer.startsWith("https://") || args.jwt.audience.length === 0))
        fail("jwt.issuer must be an https URL and jwt.audience must name at least one audience");
}
