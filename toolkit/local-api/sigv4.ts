/**
 * SigV4 verification for the local API, the way API Gateway's IAM authorization checks a request:
 * the Authorization header names the access key, the scope (date/region/execute-api/aws4_request), the
 * signed headers and the signature; the request is signed again with the key's secret over exactly
 * those headers (with @smithy/signature-v4, the SDK's own signer) and the two signatures must match.
 * A request more than 15 minutes away from the clock is refused, as AWS does.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import type { SourceData } from "@smithy/types";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface LocalCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    /** The IAM identity the key stands for (requestContext.authorizer.iam.userArn). */
    userArn: string;
    accountId: string;
}

export interface SignedRequest {
    method: string;
    /** The path as sent (percent-encoded), without the query. */
    path: string;
    query: Record<string, string | string[]>;
    /** Lower-case names. */
    headers: Record<string, string>;
    body: Buffer;
}

export type SigV4Result = { ok: true; credentials: LocalCredentials } | { ok: false; reason: string };

const MAX_SKEW_MS = 15 * 60 * 1000;
const AUTH_PATTERN =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** node:crypto as the Checksum the signer expects (HMAC when constructed with a secret). */
class NodeSha256 {
    private readonly hash;
    constructor(secret?: SourceData) {
        this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
    }
    update(data: SourceData): void {
        this.hash.update(bytes(data));
    }
    async digest(): Promise<Uint8Array> {
        return new Uint8Array(this.hash.digest());
    }
    reset(): void {}
}

function bytes(data: SourceData): string | Uint8Array {
    if (typeof data === "string" || data instanceof Uint8Array) return data;
    return ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data as ArrayBuffer);
}

/** `20261206T201500Z` → Date, or undefined. */
function amzDate(value: string | undefined): Date | undefined {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? "");
    return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

export async function verifySigV4(
    request: SignedRequest,
    keys: LocalCredentials[],
    region: string,
    now: Date = new Date(),
): Promise<SigV4Result> {
    const auth = request.headers.authorization;
    if (!auth) return { ok: false, reason: "no Authorization header" };
    const m = AUTH_PATTERN.exec(auth.trim());
    if (!m) return { ok: false, reason: "Authorization is not an AWS4-HMAC-SHA256 signature" };
    const [, accessKeyId, day, scopeRegion, service, signedHeaders, signature] = m;
    const credentials = keys.find((k) => k.accessKeyId === accessKeyId);
    if (!credentials) return { ok: false, reason: `unknown access key ${accessKeyId}` };
    if (service !== "execute-api" || scopeRegion !== region)
        return { ok: false, reason: `credential scope must be ${region}/execute-api, got ${scopeRegion}/${service}` };
    const names = signedHeaders.split(";");
    const signingDate = amzDate(request.headers["x-amz-date"]);
    if (!names.includes("host") || !signingDate || !names.includes("x-amz-date"))
        return { ok: false, reason: "host and x-amz-date must be signed" };
    if (!request.headers["x-amz-date"].startsWith(day)) return { ok: false, reason: "scope date is not x-amz-date's" };
    if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS)
        return { ok: false, reason: "signature expired or not yet valid (more than 15 minutes from now)" };
    const headers: Record<string, string> = {};
    for (const name of names) {
        if (request.headers[name] === undefined) return { ok: false, reason: `signed header ${name} is missing` };
        headers[name] = request.headers[name];
    }
    const signer = new SignatureV4({
        credentials: { accessKeyId, secretAccessKey: credentials.secretAccessKey },
        region,
        service: "execute-api",
        sha256: NodeSha256,
        applyChecksum: false,
    });
    const [hostname, port] = headers.host.split(":");
    const signed = await signer.sign(
        {
            method: request.method,
            protocol: "http:",
            hostname,
            port: port ? Number(port) : undefined,
            path: request.path,
            query: request.query,
            headers,
            body: request.body,
        },
        { signingDate },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? "";
    const same = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
    return same ? { ok: true, credentials } : { ok: false, reason: "signature does not match" };
}

/**
 * The client side: the headers of `request` signed for execute-api in `region` (host and x-amz-date
 * included), as a producer's SDK signs them. The bench's API latency phase signs with it.
 */
export async function signRequest(
    credentials: { accessKeyId: string; secretAccessKey: string },
    region: string,
    request: { method: string; url: string; headers?: Record<string, string>; body?: string },
): Promise<Record<string, string>> {
    const url = new URL(request.url);
    const query: Record<string, string> = Object.fromEntries(url.searchParams);
    const signer = new SignatureV4({
        credentials,
        region,
        service: "execute-api",
        sha256: NodeSha256,
        applyChecksum: false,
    });
    const signed = await signer.sign({
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query,
        headers: { host: url.host, ...request.headers },
        body: request.body,
    });
    return Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)]));
}
