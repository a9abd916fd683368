/**
 * The IAM policy grammar the pack reads: a policy document (JSON string or object) as a list of
 * statements with every single-or-list field normalised to a list. This is THE parser of the pack;
 * tests that look inside policy documents import `parseStatements` from this module instead of
 * re-implementing it:
 *
 *   const allows = parseStatements(role.inputs.policy).filter((s) => s.effect === "Allow");
 *
 * Field names follow the IAM grammar (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html),
 * lower-cased: `Action` → `action`, `NotResource` → `notResource`; values are kept as written.
 */
import { asArray, parseMaybeJson } from "./values";

export interface Statement {
    sid?: string;
    /** "Allow" or "Deny" as written. */
    effect: string;
    action: string[];
    notAction: string[];
    resource: string[];
    notResource: string[];
    /** As written: "*", `{ AWS: ... }`, `{ Service: ... }`, or undefined (identity policies). */
    principal: unknown;
    /** `{ "<operator>": { "<key>": value } }`, undefined when absent. */
    condition: Record<string, Record<string, unknown>> | undefined;
}

/**
 * Parses a policy document given as a JSON string or an object; `Statement` may be one object or a
 * list, `Action`/`Resource`/... a string or a list. Throws on a document that is not a JSON object or
 * a statement that is not an object (the pack reports such a document as "cannot be checked").
 */
export function parseStatements(document: unknown): Statement[] {
    const parsed = parseMaybeJson(document);
    if (typeof parsed !== "object" || parsed === null) {
        throw new Error("the policy document is not a JSON object");
    }
    const statements = asArray((parsed as any).Statement);
    return statements.map((s: any, i: number) => {
        if (typeof s !== "object" || s === null) {
            throw new Error(`Statement[${i}] is not an object`);
        }
        return {
            sid: typeof s.Sid === "string" ? s.Sid : undefined,
            effect: String(s.Effect ?? ""),
            action: asArray<string>(s.Action).map(String),
            notAction: asArray<string>(s.NotAction).map(String),
            resource: asArray<string>(s.Resource).map(String),
            notResource: asArray<string>(s.NotResource).map(String),
            principal: s.Principal,
            condition: typeof s.Condition === "object" && s.Condition !== null ? s.Condition : undefined,
        };
    });
}
