/**
 * The API's routes as the program declares them, read from its preview: each apigatewayv2 Route, the
 * Integration its target names (AWS_PROXY, payload 2.0), the Function that integration invokes, and the
 * route's authorizer. Matching follows HTTP API's rules for what the platform uses: the method (or
 * ANY), literal segments before `{param}` segments, `{proxy+}` last.
 */
import type { LoadedProgram, ShippedFunction } from "../local-cloud/program";

export interface LocalRoute {
    routeKey: string;
    method: string;
    segments: string[];
    auth: "iam" | "jwt";
    fn: ShippedFunction;
}

export function apiRoutes(program: LoadedProgram): LocalRoute[] {
    const integrations = program.ofType("aws:apigatewayv2/integration:Integration");
    const functionsByArn = new Map(program.ofType("aws:lambda/function:Function").map((f) => [f.outputs.arn, f.name]));
    const routes = program.ofType("aws:apigatewayv2/route:Route").map((route): LocalRoute => {
        const routeKey = String(route.inputs.routeKey);
        const integration = integrations.find((i) => route.inputs.target === `integrations/${i.outputs.id}`);
        if (!integration) throw new Error(`route ${routeKey}: no integration behind target ${route.inputs.target}`);
        const { integrationType, payloadFormatVersion, integrationUri } = integration.inputs;
        if (integrationType !== "AWS_PROXY" || payloadFormatVersion !== "2.0")
            throw new Error(`route ${routeKey}: the local API serves AWS_PROXY payload 2.0 integrations only`);
        const fnName = functionsByArn.get(integrationUri);
        const fn = program.functions.find((f) => f.name === fnName);
        if (!fn) throw new Error(`route ${routeKey}: integration ${integrationUri} names no function of the program`);
        const auth = { AWS_IAM: "iam", JWT: "jwt" }[String(route.inputs.authorizationType)] as LocalRoute["auth"];
        if (!auth)
            throw new Error(`route ${routeKey}: authorization ${route.inputs.authorizationType} is not IAM or JWT`);
        const [method, path] = routeKey.split(" ");
        return { routeKey, method, segments: path.slice(1).split("/"), auth, fn };
    });
    // Most specific first: more literal segments, then no greedy segment.
    const literals = (r: LocalRoute) => r.segments.filter((s) => !s.startsWith("{")).length;
    return routes.sort((a, b) => literals(b) - literals(a) || Number(isGreedy(a)) - Number(isGreedy(b)));
}

const isGreedy = (r: LocalRoute) => r.segments.some((s) => /^\{.+\+\}$/.test(s));

/** The route for a request and its path parameters (decoded), or undefined (API Gateway: 404). */
export function matchRoute(
    routes: LocalRoute[],
    method: string,
    path: string,
): { route: LocalRoute; pathParameters?: Record<string, string> } | undefined {
    const parts = path.slice(1).split("/");
    for (const route of routes) {
        if (route.method !== method && route.method !== "ANY") continue;
        const params: Record<string, string> = {};
        let matched = true;
        for (let i = 0; i < route.segments.length && matched; i++) {
            const segment = route.segments[i];
            const greedy = /^\{(.+)\+\}$/.exec(segment);
            const param = /^\{(.+)\}$/.exec(segment);
            if (greedy) {
                params[greedy[1]] = decodeURIComponent(parts.slice(i).join("/"));
                matched = parts.length > i;
                break;
            }
            if (i >= parts.length || parts[i] === "") matched = false;
            else if (param) params[param[1]] = decodeURIComponent(parts[i]);
            else matched = parts[i] === segment;
        }
        if (matched && (isGreedy(route) || parts.length === route.segments.length))
            return { route, pathParameters: Object.keys(params).length > 0 ? params : undefined };
    }
    return undefined;
}
