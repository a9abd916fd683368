/**
 * fauxqs 1.9.2 evaluates SNS filter policies on the raw string of an attribute: a `String.Array`
 * message attribute such as channels = ["email","sms"] never equals "email", and `anything-but`
 * then matches every channel. Body-scoped policies skip JSON arrays entirely. Real SNS matches an
 * array when ANY element satisfies the condition (SNS developer guide, "Attribute string value
 * matching" and "Message payload-based filtering"). The platform's channel routing relies on that, so
 * the harness brings fauxqs to SNS's semantics with an ESM load hook that rewrites two functions of
 * fauxqs/dist/sns/filter.js as it is loaded. If fauxqs's source ever changes shape, the hook throws
 * instead of silently routing differently from AWS.
 */
import * as nodeModule from "node:module";
import { pathToFileURL } from "node:url";

/** Inserted before matchesKeyConditions: array attributes match when any element matches. */
const ARRAY_AWARE_KEY_MATCH = `
function matchesKeyConditions(key, conditions, attributes) {
    const attr = attributes[key];
    if (attr !== undefined && attr.DataType === "String.Array") {
        let elements;
        try { elements = JSON.parse(attr.StringValue ?? ""); } catch { elements = undefined; }
        if (Array.isArray(elements)) {
            const list = Array.isArray(conditions) ? conditions : [conditions];
            return list.some((condition) =>
                elements.some((element) =>
                    matchesSingleCondition(condition, typeof element === "number"
                        ? { DataType: "Number", StringValue: String(element) }
                        : { DataType: "String", StringValue: String(element) })));
        }
    }
    return matchesScalarKeyConditions(key, conditions, attributes);
}
function matchesScalarKeyConditions(key, conditions, attributes) {`;

/** Inserted into flattenToAttributes: a JSON array in a body becomes a String.Array attribute. */
const BODY_ARRAY = `
        else if (Array.isArray(value)) {
            attrs[fullKey] = { DataType: "String.Array", StringValue: JSON.stringify(value) };
        }
        else if (typeof value === "object" && value !== null && !Array.isArray(value)) {`;

// Runs in the loader thread: no closures over this module, only what is in the string.
const HOOK_SOURCE = `
const KEY_ANCHOR = "function matchesKeyConditions(key, conditions, attributes) {";
const BODY_ANCHOR = "        else if (typeof value === \\"object\\" && value !== null && !Array.isArray(value)) {";
export async function load(url, context, nextLoad) {
    const result = await nextLoad(url, context);
    if (!/\\/fauxqs\\/dist\\/sns\\/filter\\.js$/.test(url)) return result;
    let source = String(result.source);
    if (!source.includes(KEY_ANCHOR) || !source.includes(BODY_ANCHOR)) {
        throw new Error("toolkit/local-cloud/fauxqs-fidelity: fauxqs's sns/filter.js changed shape; review the array-matching patch");
    }
    source = source.replace(KEY_ANCHOR, ${JSON.stringify(ARRAY_AWARE_KEY_MATCH)});
    source = source.replace(BODY_ANCHOR, ${JSON.stringify(BODY_ARRAY)});
    return { ...result, source, shortCircuit: true };
}
`;

let registered = false;

/**
 * Registers the hook once per process. It must run before fauxqs is first imported (startEmulators
 * does so); test/local-cloud/emulators.test.ts checks the routing it gives.
 */
export function registerFauxqsFidelityHook(): void {
    if (registered) return;
    const register = (nodeModule as unknown as { register?: (url: string, parent: string) => void }).register;
    if (!register) throw new Error("module.register is not available: Node >= 20.6 is required by the harness");
    register(`data:text/javascript,${encodeURIComponent(HOOK_SOURCE)}`, pathToFileURL(__filename).href);
    registered = true;
}
