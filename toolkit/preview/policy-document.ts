/**
 * `aws.iam.getPolicyDocument`, computed the way the provider computes it — no AWS call is involved, so
 * the offline preview can answer it exactly. A port of terraform-provider-aws
 * `internal/service/iam/policy_document_data_source.go` (`dataSourcePolicyDocumentRead`) and
 * `policy_model.go` (`IAMPolicyDoc.Merge`, the principal and condition marshallers,
 * `policyDecodeConfigStringList`), which pulumi-aws wraps:
 *
 * - source documents merge first (duplicate Sids among them are an error), then the statements, then
 *   override documents, each replacing a statement with the same Sid;
 * - a set of one becomes a string, of several a list in reverse lexical order; principals become a map
 *   by type (`{"*": ["*"]}` alone becomes `"*"`), conditions a map test → variable → value(s);
 * - `&{` in resources, principals and condition values becomes `${` (IAM policy variables);
 * - `json` is Go's `json.MarshalIndent(doc, "", "  ")`, `minifiedJson` its `json.Marshal`, `id` the
 *   CRC-32 hash code of `json`.
 */

export interface PolicyDocumentArgs {
    version?: string;
    policyId?: string;
    sourcePolicyDocuments?: string[];
    overridePolicyDocuments?: string[];
    statements?: StatementArgs[];
}

interface PrincipalArgs {
    type: string;
    identifiers: string[];
}

interface StatementArgs {
    sid?: string;
    effect?: string;
    actions?: string[];
    notActions?: string[];
    resources?: string[];
    notResources?: string[];
    principals?: PrincipalArgs[];
    notPrincipals?: PrincipalArgs[];
    conditions?: { test: string; variable: string; values: string[] }[];
}

type StringOrList = string | string[];
/** A principal or condition as the provider's model holds it before marshalling. */
type Principal = { type: string; identifiers: StringOrList };
type Condition = { test: string; variable: string; values: StringOrList };

interface Statement {
    Sid?: string;
    Effect?: string;
    Action?: unknown;
    NotAction?: unknown;
    Resource?: unknown;
    NotResource?: unknown;
    Principal?: Principal[];
    NotPrincipal?: Principal[];
    Condition?: Condition[];
}

interface Doc {
    Version?: string;
    Id?: string;
    Statement: Statement[];
}

export class PolicyDocumentError extends Error {}

/** `policyDecodeConfigStringList` over a Terraform set: duplicates collapse, several sort in reverse. */
function decodeStringSet(values: string[]): StringOrList {
    const unique = [...new Set(values)];
    return unique.length === 1 ? unique[0] : unique.sort().reverse();
}

function replaceVars(value: StringOrList, version: string): StringOrList {
    const one = (v: string) => {
        if (version === "2008-10-17" && v.includes("&{")) {
            throw new PolicyDocumentError(
                `found &{ sequence in (${v}), which is not supported in document version 2008-10-17`,
            );
        }
        return v.split("&{").join("${");
    };
    return Array.isArray(value) ? value.map(one) : one(value);
}

function merge(into: Doc, doc: Doc): void {
    if (doc.Id) into.Id = doc.Id;
    if ((doc.Version ?? "") > (into.Version ?? "")) into.Version = doc.Version;
    for (const statement of doc.Statement) {
        const at = statement.Sid ? into.Statement.findIndex((s) => s.Sid === statement.Sid) : -1;
        if (at >= 0) into.Statement[at] = statement;
        else into.Statement.push(statement);
    }
}

/** `json.Unmarshal` into the provider's model (a document given as source or override). */
function parseDocument(text: string, role: "source" | "override", index: number): Doc {
    let raw: any;
    try {
        raw = JSON.parse(text);
    } catch (err) {
        throw new PolicyDocumentError(
            `writing IAM Policy Document: merging ${role} document ${index}: ${(err as Error).message}`,
        );
    }
    const statements =
        raw?.Statement === undefined ? [] : Array.isArray(raw.Statement) ? raw.Statement : [raw.Statement];
    return {
        Version: raw?.Version,
        Id: raw?.Id,
        Statement: statements.map((s: any) => ({
            Sid: s.Sid,
            Effect: s.Effect,
            Action: s.Action,
            NotAction: s.NotAction,
            Resource: s.Resource,
            NotResource: s.NotResource,
            Principal: s.Principal === undefined ? undefined : parsePrincipals(s.Principal),
            NotPrincipal: s.NotPrincipal === undefined ? undefined : parsePrincipals(s.NotPrincipal),
            Condition: s.Condition === undefined ? undefined : parseConditions(s.Condition),
        })),
    };
}

function parsePrincipals(raw: unknown): Principal[] {
    if (typeof raw === "string") return [{ type: "*", identifiers: ["*"] }];
    return Object.entries(raw as Record<string, unknown>).map(([type, v]) => ({
        type,
        identifiers: typeof v === "string" ? v : [...(v as string[])].sort(),
    }));
}

function parseConditions(raw: Record<string, Record<string, unknown>>): Condition[] {
    const out: Condition[] = [];
    for (const [test, variables] of Object.entries(raw)) {
        for (const [variable, v] of Object.entries(variables)) {
            const values = typeof v === "boolean" ? String(v) : typeof v === "string" ? [v] : (v as string[]);
            out.push({ test, variable, values });
        }
    }
    return out;
}

function sortedObject<T>(entries: Map<string, T>): Record<string, T> {
    return Object.fromEntries([...entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `IAMPolicyStatementPrincipalSet.MarshalJSON`. */
function marshalPrincipals(ps: Principal[]): unknown {
    if (ps.length === 1 && ps[0].type === "*") {
        const ids = ps[0].identifiers;
        if (ids === "*" || (Array.isArray(ids) && ids.length === 1 && ids[0] === "*")) return "*";
    }
    const raw = new Map<string, StringOrList>();
    for (const p of ps) {
        const existing = raw.get(p.type);
        if (Array.isArray(p.identifiers)) {
            const ids = [...p.identifiers].sort().reverse();
            raw.set(p.type, [
                ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]),
                ...ids,
            ]);
        } else {
            raw.set(
                p.type,
                existing === undefined
                    ? p.identifiers
                    : [...(Array.isArray(existing) ? existing : [existing]), p.identifiers],
            );
        }
    }
    return sortedObject(raw);
}

/** `IAMPolicyStatementConditionSet.MarshalJSON`: values keep their order, one value is a string. */
function marshalConditions(cs: Condition[]): unknown {
    const raw = new Map<string, Map<string, string[]>>();
    for (const c of cs) {
        const byVariable = raw.get(c.test) ?? new Map<string, string[]>();
        raw.set(c.test, byVariable);
        byVariable.set(c.variable, [
            ...(byVariable.get(c.variable) ?? []),
            ...(Array.isArray(c.values) ? c.values : [c.values]),
        ]);
    }
    const out = new Map<string, Record<string, StringOrList>>();
    for (const [test, variables] of raw) {
        const flat = new Map<string, StringOrList>();
        for (const [variable, values] of variables) flat.set(variable, values.length === 1 ? values[0] : values);
        out.set(test, sortedObject(flat));
    }
    return sortedObject(out);
}

/** The document as Go's encoding/json walks the model: field order, `omitempty`, no nulls. */
function toJsonModel(doc: Doc): Record<string, unknown> {
    const empty = (v: unknown) => v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
    const model: Record<string, unknown> = {};
    if (!empty(doc.Version)) model.Version = doc.Version;
    if (!empty(doc.Id)) model.Id = doc.Id;
    if (doc.Statement.length > 0) {
        model.Statement = doc.Statement.map((s) => {
            const out: Record<string, unknown> = {};
            for (const key of ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource"] as const) {
                if (!empty(s[key])) out[key] = s[key];
            }
            if (s.Principal?.length) out.Principal = marshalPrincipals(s.Principal);
            if (s.NotPrincipal?.length) out.NotPrincipal = marshalPrincipals(s.NotPrincipal);
            if (s.Condition?.length) out.Condition = marshalConditions(s.Condition);
            return out;
        });
    }
    return model;
}

/** Go's encoding/json escapes <, >, & and the JavaScript line separators; JSON.stringify does not. */
function goEscape(json: string): string {
    return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
});

/** terraform-provider-aws `create.StringHashcode`: CRC-32 (IEEE) of the text, as a non-negative int. */
function stringHashcode(text: string): number {
    let crc = 0xffffffff;
    for (const byte of Buffer.from(text, "utf8")) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
    const v = (crc ^ 0xffffffff) | 0;
    return v >= 0 ? v : -v;
}

function makeStatement(cfg: StatementArgs, version: string): Statement {
    const statement: Statement = { Effect: cfg.effect ?? "Allow" };
    if (cfg.effect !== undefined && cfg.effect !== "Allow" && cfg.effect !== "Deny") {
        throw new PolicyDocumentError(`expected effect to be one of ["Allow" "Deny"], got ${cfg.effect}`);
    }
    if (cfg.sid !== undefined) statement.Sid = cfg.sid;
    if (cfg.actions?.length) statement.Action = decodeStringSet(cfg.actions);
    if (cfg.notActions?.length) statement.NotAction = decodeStringSet(cfg.notActions);
    if (cfg.resources?.length) statement.Resource = replaceVars(decodeStringSet(cfg.resources), version);
    if (cfg.notResources?.length) statement.NotResource = replaceVars(decodeStringSet(cfg.notResources), version);
    const principals = (list: PrincipalArgs[]) =>
        list.map((p) => ({ type: p.type, identifiers: replaceVars(decodeStringSet(p.identifiers ?? []), version) }));
    if (cfg.principals?.length) statement.Principal = principals(cfg.principals);
    if (cfg.notPrincipals?.length) statement.NotPrincipal = principals(cfg.notPrincipals);
    if (cfg.conditions?.length) {
        statement.Condition = cfg.conditions.map((c) => {
            const values = replaceVars([...(c.values ?? [])], version) as string[];
            return { test: c.test, variable: c.variable, values: values.length === 1 ? values[0] : values };
        });
    }
    return statement;
}

export function computePolicyDocument(args: PolicyDocumentArgs): { json: string; minifiedJson: string; id: string } {
    const merged: Doc = { Statement: [] };
    const sids = new Set<string>();
    (args.sourcePolicyDocuments ?? []).forEach((text, index) => {
        if (text === undefined || text === null) return;
        const source = parseDocument(text, "source", index);
        source.Statement.forEach((s, stmtIndex) => {
            if (!s.Sid) return;
            if (sids.has(s.Sid)) {
                throw new PolicyDocumentError(
                    `writing IAM Policy Document: merging source document ${index}: duplicate Sid (${s.Sid}) in source_policy_documents (statement ${stmtIndex}). Remove the Sid or ensure Sids are unique.`,
                );
            }
            sids.add(s.Sid);
        });
        merge(merged, source);
    });
    const version = args.version ?? "2012-10-17";
    if (version !== "2008-10-17" && version !== "2012-10-17") {
        throw new PolicyDocumentError(`expected version to be one of ["2008-10-17" "2012-10-17"], got ${version}`);
    }
    const doc: Doc = { Version: version, Id: args.policyId, Statement: [] };
    const ownSids = new Set<string>();
    for (const cfg of args.statements ?? []) {
        if (cfg.sid !== undefined && ownSids.has(cfg.sid)) {
            throw new PolicyDocumentError(
                `writing IAM Policy Document: duplicate Sid (${cfg.sid}). Remove the Sid or ensure the Sid is unique.`,
            );
        }
        if (cfg.sid) ownSids.add(cfg.sid);
        doc.Statement.push(makeStatement(cfg, version));
    }
    merge(merged, doc);
    (args.overridePolicyDocuments ?? []).forEach((text, index) => {
        if (text !== undefined && text !== null) merge(merged, parseDocument(text, "override", index));
    });
    const model = toJsonModel(merged);
    const json = goEscape(JSON.stringify(model, null, 2));
    return { json, minifiedJson: goEscape(JSON.stringify(model)), id: String(stringHashcode(json)) };
}
