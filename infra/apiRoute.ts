import type { ProcessorArgs } from "./processor";

/**
 * One route of the platform's HTTPS API (infra/api.ts): its route key, which authorizer guards it,
 * and the function behind it (a Processor: own role, own encrypted log group). The API component turns
 * each spec into a function, an AWS_PROXY integration (payload format 2.0), the route and the invoke
 * permission. Route groups (producer, me, inbox) each build their specs in their own module.
 */
export interface ApiRouteSpec {
    /** The HTTP API route key, e.g. "POST /v1/notifications", "GET /v1/me/inbox". */
    routeKey: string;
    /** "iam": SigV4-signed producer calls (AWS_IAM); "jwt": app users, through the API's JWT authorizer. */
    auth: "iam" | "jwt";
    /** The function's name: resources `<name>-fn`, `<name>-role`, `<name>-logs`. */
    name: string;
    description: string;
    callbackFactory: ProcessorArgs["callbackFactory"];
    /** The function's own permissions (besides logs and the stack key). */
    statements: ProcessorArgs["statements"];
    environment: ProcessorArgs["environment"];
    /** Per-route throttling; the API's defaults from config when absent. */
    throttle?: { rateLimit: number; burstLimit: number };
}
