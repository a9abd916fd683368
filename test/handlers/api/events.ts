/**
 * API Gateway HTTP API (payload format 2.0) events as Lambda receives them behind a JWT authorizer:
 * `requestContext.authorizer.jwt = { claims, scopes }` with the token's claims as strings (AWS's
 * "Working with AWS Lambda proxy integrations for HTTP APIs" and "JWT authorizers" pages: numbers and
 * arrays of a claim arrive as strings). Claims here are a Cognito access token's.
 */
import type { HttpApiEvent } from "../../../handlers/core/api/http";

export interface EventOptions {
    /** e.g. "PUT /v1/me/devices/{deviceId}" */
    routeKey: string;
    /** The request path, e.g. "/v1/me/devices/phone-1". */
    path: string;
    /** The token's subject; null: no authorizer context at all; undefined claims object without sub: "no-sub". */
    sub: string | null | "no-sub";
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    body?: unknown;
    /** A raw body string (e.g. malformed JSON). */
    rawBody?: string;
    base64?: boolean;
}

let requestCounter = 0;

export function jwtEvent(o: EventOptions): HttpApiEvent {
    const [method] = o.routeKey.split(" ");
    const now = Date.now();
    const claims: Record<string, string> = {
        auth_time: String(Math.floor(now / 1000) - 60),
        client_id: "4b7eqnqa6fk3sgfgvkq0example",
        exp: String(Math.floor(now / 1000) + 3600),
        iat: String(Math.floor(now / 1000) - 60),
        iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example",
        jti: `jti-${requestCounter}`,
        scope: "openid",
        token_use: "access",
        username: "someone",
    };
    if (o.sub !== null && o.sub !== "no-sub") claims.sub = o.sub;
    const rawQueryString = new URLSearchParams(o.query ?? {}).toString();
    const text = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const requestId = `req-${++requestCounter}`;
    const event = {
        version: "2.0",
        routeKey: o.routeKey,
        rawPath: o.path,
        rawQueryString,
        headers: {
            accept: "application/json",
            authorization: "Bearer eyJraWQiOiJleGFtcGxlIn0.eyJzdWIiOiJleGFtcGxlIn0.c2lnbmF0dXJl",
            "content-type": "application/json",
            host: "abc123.execute-api.eu-west-1.amazonaws.com",
            "x-forwarded-proto": "https",
        },
        ...(o.query ? { queryStringParameters: o.query } : {}),
        requestContext: {
            accountId: "123456789012",
            apiId: "abc123",
            ...(o.sub === null ? {} : { authorizer: { jwt: { claims, scopes: null } } }),
            domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
            domainPrefix: "abc123",
            http: {
                method,
                path: o.path,
                protocol: "HTTP/1.1",
                sourceIp: "203.0.113.7",
                userAgent: "notify-test",
            },
            requestId,
            routeKey: o.routeKey,
            stage: "$default",
            time: new Date(now).toUTCString(),
            timeEpoch: now,
        },
        ...(o.pathParameters ? { pathParameters: o.pathParameters } : {}),
        ...(text === undefined ? {} : { body: o.base64 ? Buffer.from(text).toString("base64") : text }),
        isBase64Encoded: o.base64 ?? false,
    };
    return event as unknown as HttpApiEvent;
}
