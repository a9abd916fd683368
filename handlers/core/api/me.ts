/**
 * Who an app-user (JWT) route acts for: the token's `sub` (http.ts `jwtSubject`) and nothing else —
 * no path or body field names a user. Every /v1/me handler starts here.
 */
import { ID_PATTERN } from "../request";
import { type HttpApiEvent, jwtSubject, type Parsed, problem } from "./http";

/**
 * The caller's user id: 401 without a `sub` claim (the authorizer would have stopped such a request;
 * the handler refuses it anyway), 403 for a `sub` the platform cannot address: the request contract
 * names users with [A-Za-z0-9_-]{1,128} (README "The contract"), so rows keyed by another subject
 * (e.g. Auth0's `auth0|…`) would never be read by a sender.
 */
export function meCaller(event: HttpApiEvent): Parsed<string> {
    const sub = jwtSubject(event);
    if (sub === undefined)
        return { ok: false, result: problem(401, "Unauthorized: the request carries no token subject") };
    if (!ID_PATTERN.test(sub)) {
        return {
            ok: false,
            result: problem(
                403,
                "Forbidden: the token subject is not a user id of this platform ([A-Za-z0-9_-]{1,128})",
            ),
        };
    }
    return { ok: true, value: sub };
}
