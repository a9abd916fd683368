/**
 * Reading resource properties the way the policy engine hands them over.
 *
 * During `pulumi preview` the engine wraps `props` in a proxy that throws `UnknownValueError` when a
 * value is not known yet (for example a KMS key ARN of a key that does not exist yet). A policy that
 * only needs to know that a property is *set* can ask with `peek`, which does not throw, so the check
 * stays mandatory during preview instead of being downgraded to advisory by the engine.
 */

/** The state of one property: absent, present but unknown until the update, or present with a value. */
export type Peeked =
    | { present: false; known: true; value: undefined }
    | { present: true; known: false; value: undefined }
    | { present: true; known: true; value: any };

/** True for the error the policy SDK's unknown-checking proxy throws (matched by name: the class is internal). */
export function isUnknownValueError(err: unknown): boolean {
    return err instanceof Error && err.constructor?.name === "UnknownValueError";
}

/** Reads `obj[key]` without throwing on values unknown during preview. */
export function peek(obj: any, key: string): Peeked {
    if (obj === undefined || obj === null || typeof obj !== "object") {
        return { present: false, known: true, value: undefined };
    }
    // `in` goes to the proxy target without the throwing `get` trap.
    if (!(key in obj)) {
        return { present: false, known: true, value: undefined };
    }
    try {
        const value = obj[key];
        if (value === undefined || value === null) {
            return { present: false, known: true, value: undefined };
        }
        return { present: true, known: true, value };
    } catch (err) {
        if (isUnknownValueError(err)) {
            return { present: true, known: false, value: undefined };
        }
        throw err;
    }
}

/** Reads a nested path (`peekPath(props, "serverSideEncryption", "enabled")`). */
export function peekPath(obj: any, ...keys: string[]): Peeked {
    let current: Peeked = { present: true, known: true, value: obj };
    for (const key of keys) {
        if (!current.present || !current.known) {
            return current;
        }
        current = peek(current.value, key);
    }
    return current;
}

/** A set string that is not an empty string (unknown counts as set: it is computed from another resource). */
export function isSetString(p: Peeked): boolean {
    return p.present && (!p.known || (typeof p.value === "string" && p.value.trim() !== ""));
}

/** Values that providers and some resources pass as JSON strings (IAM documents, provider `defaultTags`). */
export function parseMaybeJson(value: unknown): unknown {
    if (typeof value !== "string") {
        return value;
    }
    const trimmed = value.trim();
    if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) {
        return value;
    }
    try {
        return JSON.parse(trimmed);
    } catch {
        return value;
    }
}

/** `x` as an array: IAM's Action, Resource and Statement take a single value or a list. */
export function asArray<T>(value: T | T[] | undefined | null): T[] {
    if (value === undefined || value === null) {
        return [];
    }
    return Array.isArray(value) ? value : [value];
}

/** The stack of a URN `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string | undefined {
    const match = /^urn:pulumi:([^:]+)::/.exec(urn);
    return match ? match[1] : undefined;
}

/**
 * A glob (`*` any run of characters, `?` one character, everything else literal) as an anchored,
 * case-sensitive regular expression. Used for exemption patterns (names and URNs) and for IAM
 * action and ARN patterns (with `ignoreCase`).
 */
export function globToRegExp(glob: string, ignoreCase = false): RegExp {
    const body = glob
        .split("")
        .map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\/-]/g, "\\$&")))
        .join("");
    return new RegExp(`^${body}$`, ignoreCase ? "i" : "");
}
