/**
 * HTTP request → API Gateway HTTP API event (payload format 2.0), and the function's answer → HTTP
 * response, as AWS documents them
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
 * lower-case headers with repeated values joined by commas, cookies in `cookies`, repeated query
 * parameters joined by commas, text bodies as text and others base64; an answer with a statusCode is
 * used as given, anything else becomes 200 with its JSON.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { HttpApiEvent } from "../../handlers/core/api/http";

export interface EventInput {
    routeKey: string;
    method: string;
    rawPath: string;
    rawQueryString: string;
    headers: IncomingHttpHeaders;
    body: Buffer;
    pathParameters?: Record<string, string>;
    sourceIp: string;
    authorizer: NonNullable<HttpApiEvent["requestContext"]["authorizer"]>;
    apiId: string;
    stage: string;
    accountId: string;
    now: Date;
}

const TEXT_TYPES = /^(text\/|application\/([a-z.+-]*\+)?(json|xml|javascript|x-www-form-urlencoded))/i;

export function httpApiEvent(input: EventInput): HttpApiEvent & Record<string, unknown> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(input.headers)) {
        if (value === undefined || name === "cookie") continue;
        headers[name] = Array.isArray(value) ? value.join(",") : value;
    }
    const cookies = input.headers.cookie?.split(/;\s*/).filter(Boolean);
    const query: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(input.rawQueryString)) query[k] = k in query ? `${query[k]},${v}` : v;
    const text = TEXT_TYPES.test(headers["content-type"] ?? "text/plain");
    const hasBody = input.body.length > 0;
    return {
        version: "2.0",
        routeKey: input.routeKey,
        rawPath: input.rawPath,
        rawQueryString: input.rawQueryString,
        ...(cookies && cookies.length > 0 ? { cookies } : {}),
        headers,
        ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
        ...(input.pathParameters ? { pathParameters: input.pathParameters } : {}),
        ...(hasBody ? { body: text ? input.body.toString("utf8") : input.body.toString("base64") } : {}),
        isBase64Encoded: hasBody && !text,
        requestContext: {
            accountId: input.accountId,
            apiId: input.apiId,
            authorizer: input.authorizer,
            domainName: headers.host ?? "127.0.0.1",
            domainPrefix: (headers.host ?? "127").split(".")[0],
            http: {
                method: input.method,
                path: input.rawPath,
                protocol: "HTTP/1.1",
                sourceIp: input.sourceIp,
                userAgent: headers["user-agent"] ?? "",
            },
            requestId: randomUUID(),
            routeKey: input.routeKey,
            stage: input.stage,
            time: input.now.toUTCString(),
            timeEpoch: input.now.getTime(),
        } as HttpApiEvent["requestContext"],
    };
}

export interface HttpAnswer {
    statusCode: number;
    headers: Record<string, string | string[]>;
    body: Buffer;
}

/** The function's result as API Gateway turns it into a response (payload format 2.0). */
export function httpAnswerOf(result: unknown): HttpAnswer {
    const r = result as {
        statusCode?: unknown;
        headers?: Record<string, unknown>;
        body?: unknown;
        cookies?: string[];
        isBase64Encoded?: boolean;
    };
    if (!r || typeof r !== "object" || typeof r.statusCode !== "number") {
        const body = typeof result === "string" ? result : JSON.stringify(result ?? null);
        return { statusCode: 200, headers: { "content-type": "application/json" }, body: Buffer.from(body) };
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
    if (r.cookies?.length) headers["set-cookie"] = r.cookies;
    const raw = typeof r.body === "string" ? r.body : "";
    return { statusCode: r.statusCode, headers, body: Buffer.from(raw, r.isBase64Encoded ? "base64" : "utf8") };
}

/** API Gateway's own answers: `{"message": ...}` JSON. */
export function gatewayAnswer(statusCode: number, message: string, headers: Record<string, string> = {}): HttpAnswer {
    return {
        statusCode,
        headers: { "content-type": "application/json", ...headers },
        body: Buffer.from(JSON.stringify({ message })),
    };
}
