/**
 * DynamoDB AttributeValue marshalling, hand-written: @aws-sdk/util-dynamodb would be one more package,
 * and the adapters send them through the SDK client in handlers/lib/dynamo.ts.
 */

export type AttributeValue =
    | { S: string }
    | { N: string }
    | { BOOL: boolean }
    | { NULL: true }
    | { SS: string[] }
    | { NS: string[] }
    | { L: AttributeValue[] }
    | { M: Record<string, AttributeValue> };

export type Item = Record<string, unknown>;
export type AttributeMap = Record<string, AttributeValue>;

export function marshallValue(value: unknown): AttributeValue {
    if (value === null) return { NULL: true };
    if (typeof value === "string") return { S: value };
    if (typeof value === "number") {
        if (!Number.isFinite(value)) throw new Error(`cannot store the non-finite number ${value}`);
        return { N: String(value) };
    }
    if (typeof value === "boolean") return { BOOL: value };
    if (Array.isArray(value)) return { L: value.map(marshallValue) };
    if (value instanceof Set) return { SS: [...value].map(String) };
    if (typeof value === "object") return { M: marshall(value as Item) };
    throw new Error(`cannot store a value of type ${typeof value}`);
}

/** Undefined properties are left out (as the SDK's removeUndefinedValues does). */
export function marshall(item: Item): AttributeMap {
    const out: AttributeMap = {};
    for (const [key, value] of Object.entries(item)) if (value !== undefined) out[key] = marshallValue(value);
    return out;
}

export function unmarshallValue(value: AttributeValue): unknown {
    if ("S" in value) return value.S;
    if ("N" in value) return Number(value.N);
    if ("BOOL" in value) return value.BOOL;
    if ("NULL" in value) return null;
    if ("SS" in value) return [...value.SS];
    if ("NS" in value) return value.NS.map(Number);
    if ("L" in value) return value.L.map(unmarshallValue);
    if ("M" in value) return unmarshall(value.M);
    throw new Error(`unsupported attribute value ${JSON.stringify(value)}`);
}

export function unmarshall(item: AttributeMap): Item {
    const out: Item = {};
    for (const [key, value] of Object.entries(item)) out[key] = unmarshallValue(value);
    return out;
}
