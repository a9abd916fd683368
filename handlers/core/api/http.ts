/**
 * The HTTP side of the API's route handlers, pure: the API Gateway HTTP API event (payload format 2.0)
 * as AWS documents it, the caller identity its authorizers add, JSON answers, and body parsing that
 * refuses malformed JSON (400), unknown fields (400 naming them) and oversized bodies (413).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */

/** An HTTP API payload 2.0 event; only the fields the handlers read are typed. */
export interface HttpApiEvent {
    version: "2.0";
    routeKey: string;
    rawPath: string;
    rawQueryString: string;
    headers: Record<string, string | undefined>;
    queryStringParameters?: Record<string, string | undefined>;
    pathParameters?: Record<string, string | undefined>;
    body?: string;
    isBase64Encoded: boolean;
    requestContext: {
        accountId: string;
        apiId: string;
        requestId: string;
        routeKey: string;
        stage: string;
        timeEpoch: number;
        http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
        authorizer?: {
            /** Added by a JWT authorizer: the token's claims (numbers and arrays arrive as strings). */
            jwt?: { claims: Record<string, string | number | boolean | string[]>; scopes: string[] | null };
            /** Added by IAM (SigV4) authorization. */
            iam?: {
                accessKey: string;
                accountId: string;
                callerId: string;
                principalOrgId: string | null;
                userArn: string;
                userId: string;
            };
        };
    };
}

/** What a handler answers; API Gateway turns it into the HTTP response. */
export interface HttpApiResult {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpApiResult {
    return { statusCode, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

/** A field error: which field (a JSON path such as `recipients[0].email`) and what is wrong with it. */
export interface FieldError {
    field: string;
    problem: string;
}

/** An error answer: `{ message, errors? }`, the shape every route uses. */
export function problem(statusCode: number, message: string, errors?: FieldError[]): HttpApiResult {
    return json(statusCode, errors && errors.length > 0 ? { message, errors } : { message });
}

/** The app user a JWT authorizer vouched for: the token's `sub`, and nothing else names the user. */
export function jwtSubject(event: HttpApiEvent): string | undefined {
    const sub = event.requestContext.authorizer?.jwt?.claims?.sub;
    return typeof sub === "string" && sub !== "" ? sub : undefined;
}

/** The IAM principal that signed the request (SigV4), as API Gateway's IAM authorization reports it. */
export function iamCaller(event: HttpApiEvent): string | undefined {
    const arn = event.requestContext.authorizer?.iam?.userArn;
    return typeof arn === "string" && arn !== "" ? arn : undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; result: HttpApiResult };

/**
 * The request body as a JSON object: 413 over `maxBytes` (counted in UTF-8 bytes after base64
 * decoding), 400 for a body that is not a JSON object, 400 naming every field outside `fields`.
 */
export function parseJsonObject(
    event: HttpApiEvent,
    options: { maxBytes: number; fields: readonly string[] },
): Parsed<Record<string, unknown>> {
    const raw = event.body ?? "";
    const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > options.maxBytes) {
        return { ok: false, result: problem(413, `Request body is ${bytes} bytes; the limit is ${options.maxBytes}`) };
    }
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (err) {
        return { ok: false, result: problem(400, `Request body is not JSON: ${(err as Error).message}`) };
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
        return { ok: false, result: problem(400, "Request body must be a JSON object") };
    }
    const unknown = Object.keys(value).filter((k) => !options.fields.includes(k));
    if (unknown.length > 0) {
        return {
            ok: false,
            result: problem(
                400,
                `Unknown field${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`,
                unknown.map((field) => ({ field, problem: "unknown field" })),
            ),
        };
    }
    return { ok: true, value: value as Record<string, unknown> };
}
