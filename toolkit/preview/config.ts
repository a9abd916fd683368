/**
 * Project and stack config exactly as the engine validates it before it starts the program: a port of
 * pulumi/pulumi `sdk/go/common/workspace` — `Project.Validate` (project.go), `RewriteShorthandConfigValues`,
 * `ValidateConfigValue`, `InferFullTypeName`, and `ValidateStackConfigAndApplyProjectConfig` →
 * `mergeConfig` → `validateStackConfigValues` → `validateStackConfigValue` (config.go), with the engine's
 * own messages. test/preview/config-conformance.test.ts holds the engine's Go test cases as a table.
 *
 * The order matters and is the engine's: (1) keys missing from the stack file and with neither `default`
 * nor `value` fail together; (2) every other missing key gets its `default`/`value` as a *plain* value;
 * (3) each explicitly typed key, in sorted order, must be `secure:` if declared `secret`, whatever its
 * source (so a secret with a default always fails), and then of its type. The first error wins.
 *
 * One deviation, because there is no CLI to decrypt: a `secure:` value's plaintext is not type-checked.
 */

/** A value of the stack's config map, as `config.Value` models it. */
export type StackValue =
    /** A scalar; YAML numbers and booleans arrive as their text, as `config.Value` stores them. */
    | { kind: "plain"; text: string }
    /** An array or map (`config.NewObjectValue`): JSON text. */
    | { kind: "object"; json: string; secure: boolean }
    /** `{ secure: <ciphertext> }`. */
    | { kind: "secure"; ciphertext: string };

export interface ProjectConfigItemsType {
    type: string;
    items?: ProjectConfigItemsType;
}

/** `ProjectConfigType` after `RewriteShorthandConfigValues`. */
export interface ProjectConfigType {
    type?: string;
    description?: string;
    items?: ProjectConfigItemsType;
    default?: unknown;
    value?: unknown;
    secret?: boolean;
}

export interface ProjectDefinition {
    name: string;
    runtime?: unknown;
    main?: string;
    config: Record<string, ProjectConfigType>;
}

/** An error the engine would report; `message` is the engine's text. */
export class ConfigValidationError extends Error {
    /** The project config keys (as Pulumi.yaml spells them) the error is about. */
    constructor(
        message: string,
        readonly keys: string[] = [],
    ) {
        super(message);
    }
}

const isPrimitiveValue = (v: unknown) =>
    typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isInteger(v));

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

export function configKeyIsNamespacedByProject(projectName: string, key: string): boolean {
    return !key.includes(":") || key.startsWith(`${projectName}:`);
}

/** `RewriteShorthandConfigValues`: `key: 5` is a default for a project key, a value for a namespaced one. */
export function rewriteShorthandConfigValues(projectName: string, raw: Record<string, unknown> | undefined) {
    const config: Record<string, ProjectConfigType> = {};
    for (const [key, value] of Object.entries(raw ?? {})) {
        if (isPrimitiveValue(value) || Array.isArray(value)) {
            config[key] = configKeyIsNamespacedByProject(projectName, key) ? { default: value } : { value };
        } else {
            config[key] = (value ?? {}) as ProjectConfigType;
        }
    }
    return config;
}

export function inferFullTypeName(typeName: string, items?: ProjectConfigItemsType): string {
    return items ? `array<${inferFullTypeName(items.type, items.items)}>` : typeName;
}

/** `ValidateConfigValue`: a value (YAML-decoded, or a stack value's text / parsed JSON) against a type. */
export function validateConfigValue(
    typeName: string,
    items: ProjectConfigItemsType | undefined,
    value: unknown,
): boolean {
    switch (typeName) {
        case "string":
            return typeof value === "string";
        case "integer":
            if (typeof value === "number") return Number.isInteger(value);
            // strconv.Atoi: an optional sign and decimal digits, nothing else.
            return typeof value === "string" && /^[+-]?\d+$/.test(value);
        case "boolean":
            return value === "true" || value === "false" || typeof value === "boolean";
        case "object":
            return isObject(value);
    }
    if (!Array.isArray(value) || !items) return false;
    return value.every((item) => validateConfigValue(items.type, items.items, item));
}

/** `Project.Validate` for the config block (the JSON-schema part of project loading is not ported). */
export function validateProject(project: ProjectDefinition): void {
    if (!project.name) throw new ConfigValidationError("project is missing a 'name' attribute");
    if (project.runtime === undefined || project.runtime === null || project.runtime === "") {
        throw new ConfigValidationError("project is missing a 'runtime' attribute");
    }
    for (const [key, t] of Object.entries(project.config)) {
        if (t.default !== undefined && t.value !== undefined) {
            throw new ConfigValidationError(
                `project config '${key}' cannot have both a 'default' and 'value' attribute`,
            );
        }
        if (configKeyIsNamespacedByProject(project.name, key)) {
            if (t.type === "array" && !t.items) {
                throw new ConfigValidationError(
                    `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
                );
            }
            if (t.type !== undefined && t.default !== undefined && !validateConfigValue(t.type, t.items, t.default)) {
                throw new ConfigValidationError(
                    `The default value specified for configuration key '${key}' is not of the expected type '${inferFullTypeName(t.type, t.items)}'`,
                );
            }
        } else {
            if (t.type !== undefined) {
                throw new ConfigValidationError(
                    `Configuration key '${key}' is not namespaced by the project and should not define a type`,
                );
            }
            if (t.default !== undefined) {
                throw new ConfigValidationError(
                    `Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`,
                );
            }
            if (t.value === undefined) {
                throw new ConfigValidationError(
                    `Configuration key '${key}' is namespaced and must provide an attribute 'value'`,
                );
            }
        }
    }
}

/** The stack file's `config:` block as a config map keyed `<namespace>:<name>` (bare keys take the project's). */
export function stackConfigMap(projectName: string, raw: Record<string, unknown> | undefined): Map<string, StackValue> {
    const map = new Map<string, StackValue>();
    for (const [key, value] of Object.entries(raw ?? {})) {
        map.set(parseConfigKey(projectName, key), toStackValue(value));
    }
    return map;
}

function hasSecure(value: unknown): boolean {
    if (Array.isArray(value)) return value.some(hasSecure);
    if (!isObject(value)) return false;
    if (Object.keys(value).length === 1 && typeof value.secure === "string") return true;
    return Object.values(value).some(hasSecure);
}

/** Go's json.Marshal of a decoded YAML/JSON value: map keys in sorted order. */
export function goJson(value: unknown): string {
    const sort = (v: unknown): unknown =>
        Array.isArray(v)
            ? v.map(sort)
            : isObject(v)
              ? Object.fromEntries(
                    Object.keys(v)
                        .sort()
                        .map((k) => [k, sort(v[k])]),
                )
              : v;
    return JSON.stringify(sort(value));
}

export function toStackValue(value: unknown): StackValue {
    if (isObject(value) && Object.keys(value).length === 1 && typeof value.secure === "string") {
        return { kind: "secure", ciphertext: value.secure };
    }
    if (Array.isArray(value) || isObject(value)) {
        return { kind: "object", json: goJson(value), secure: hasSecure(value) };
    }
    return { kind: "plain", text: value === null || value === undefined ? "" : String(value) };
}

/** `createConfigValue`: what a default/value becomes on the stack — always plain, never secure. */
function createConfigValue(raw: unknown): StackValue {
    if (isPrimitiveValue(raw)) return { kind: "plain", text: String(raw) };
    return { kind: "object", json: goJson(raw), secure: false };
}

/** `parseConfigKey`: a key without a namespace belongs to the project. */
export function parseConfigKey(projectName: string, key: string): string {
    return key.includes(":") ? key : `${projectName}:${key}`;
}

/** `config.Map.Get(key, path=true)` for `name.path.to.leaf` keys, over the map's JSON object values. */
function getPath(map: Map<string, StackValue>, fullKey: string): StackValue | undefined {
    if (map.has(fullKey)) return map.get(fullKey);
    const colon = fullKey.indexOf(":");
    const [root, ...path] = fullKey.slice(colon + 1).split(".");
    const top = map.get(`${fullKey.slice(0, colon)}:${root}`);
    if (path.length === 0 || top?.kind !== "object") return undefined;
    let node: unknown = JSON.parse(top.json);
    for (const part of path) {
        if (!isObject(node) || !(part in node)) return undefined;
        node = node[part];
    }
    return toStackValue(node);
}

function formatMissingKeys(keys: string[]): string {
    if (keys.length === 1) return `'${keys[0]}'`;
    const sorted = [...keys].sort();
    return sorted
        .map((k, i) => (i === sorted.length - 1 ? `and '${k}'` : i === sorted.length - 2 ? `'${k}' ` : `'${k}', `))
        .join("");
}

/** `validateStackConfigValue`: secret first, then type. `projectConfigKey` is the key as Pulumi.yaml spells it. */
export function validateStackConfigValue(
    stackName: string,
    projectConfigKey: string,
    t: ProjectConfigType,
    value: StackValue,
): void {
    const secure = value.kind === "secure" || (value.kind === "object" && value.secure);
    if (t.secret && !secure) {
        throw new ConfigValidationError(
            `Stack '${stackName}' with configuration key '${projectConfigKey}' must be encrypted as it's secret`,
            [projectConfigKey],
        );
    }
    if (t.type === undefined || value.kind === "secure") return; // no plaintext offline (see the file comment)
    let content: unknown = value.kind === "plain" ? value.text : undefined;
    if (value.kind === "object") {
        try {
            content = JSON.parse(value.json);
        } catch (err) {
            throw new ConfigValidationError((err as Error).message);
        }
    }
    if (!validateConfigValue(t.type, t.items, content)) {
        throw new ConfigValidationError(
            `Stack '${stackName}' with configuration key '${projectConfigKey}' must be of type '${inferFullTypeName(t.type, t.items)}'`,
            [projectConfigKey],
        );
    }
}

/**
 * `ValidateStackConfigAndApplyProjectConfig`: fills `stackConfig` with the project's defaults and values
 * (in place, as the engine does) and throws the engine's first error.
 */
export function validateStackConfigAndApplyProjectConfig(
    stackName: string,
    project: ProjectDefinition,
    stackConfig: Map<string, StackValue>,
): void {
    const keys = Object.keys(project.config).sort();
    const missing: string[] = [];
    for (const projectConfigKey of keys) {
        const t = project.config[projectConfigKey];
        const key = parseConfigKey(project.name, projectConfigKey);
        const found = getPath(stackConfig, key) !== undefined;
        const hasDefault = t.default !== undefined && t.default !== null;
        const hasValue = t.value !== undefined && t.value !== null;
        if (!found && !hasValue && !hasDefault && key.split(":")[0] === project.name) {
            missing.push(projectConfigKey);
            continue;
        }
        if (!found && (hasValue || hasDefault)) {
            stackConfig.set(key, createConfigValue(hasDefault ? t.default : t.value));
        }
    }
    if (missing.length > 0) {
        throw new ConfigValidationError(
            `Stack '${stackName}' is missing configuration ${missing.length > 1 ? "values" : "value"} ${formatMissingKeys(missing)}`,
            [...missing].sort(),
        );
    }
    for (const projectConfigKey of keys) {
        const t = project.config[projectConfigKey];
        if (t.type === undefined) continue; // IsExplicitlyTyped
        const value = getPath(stackConfig, parseConfigKey(project.name, projectConfigKey));
        validateStackConfigValue(stackName, projectConfigKey, t, value ?? { kind: "plain", text: "" });
    }
}
