/**
 * The local JWT issuer: an HS256 dev key (printed by `--serve`) that signs tokens for any user id, and
 * the verification API Gateway's JWT authorizer performs — signature, issuer, audience, expiry and
 * not-before — with jose. The claims reach the handler as the authorizer puts them in the event:
 * `requestContext.authorizer.jwt.claims` (every value a string, arrays as "[a b]") and `scopes`.
 */
import { randomBytes } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";

export const LOCAL_ISSUER = "https://local.notify.invalid/issuer";
export const LOCAL_AUDIENCE = "notify-local";

export interface DevIssuer {
    /** The dev key, base64url: anyone holding it can mint tokens for this server. */
    secret: string;
    mint(sub: string, options?: { scope?: string; expiresInSeconds?: number }): Promise<string>;
    verify(token: string): Promise<{ claims: Record<string, string>; scopes: string[] | null }>;
}

export function devIssuer(secret: string = randomBytes(32).toString("base64url")): DevIssuer {
    const key = Buffer.from(secret, "base64url");
    if (key.length < 32) throw new Error("the dev JWT key must be at least 32 bytes (base64url)");
    return {
        secret,
        mint: (sub, options = {}) =>
            new SignJWT({ scope: options.scope ?? "notify/inbox notify/devices notify/preferences" })
                .setProtectedHeader({ alg: "HS256", typ: "JWT" })
                .setSubject(sub)
                .setIssuer(LOCAL_ISSUER)
                .setAudience(LOCAL_AUDIENCE)
                .setIssuedAt()
                .setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresInSeconds ?? 12 * 3600))
                .sign(key),
        async verify(token) {
            const { payload } = await jwtVerify(token, key, {
                issuer: LOCAL_ISSUER,
                audience: LOCAL_AUDIENCE,
                algorithms: ["HS256"],
            });
            const claims: Record<string, string> = {};
            for (const [name, value] of Object.entries(payload))
                claims[name] = Array.isArray(value) ? `[${value.join(" ")}]` : String(value);
            const scope = typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : null;
            return { claims, scopes: scope && scope.length > 0 ? scope : null };
        },
    };
}

/** The bearer token of an Authorization header (API Gateway accepts it with or without "Bearer "). */
export function bearerToken(header: string | undefined): string | undefined {
    if (!header) return undefined;
    const token = header.replace(/^Bearer\s+/i, "").trim();
    return token === "" ? undefined : token;
}
