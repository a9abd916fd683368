/**
 * A small evaluator for the subset of CloudWatch metric math the platform's alarms use — numbers, query
 * ids, + - * /, comparisons (> < >= <= == !=, true = 1), IF(condition, a, b) and FILL(series, value) — and
 * for CloudWatch's alarm rule over the result (evaluation periods, datapoints to alarm, missing data).
 * Anything else (another function, an unknown id) throws, so an alarm that starts using more of metric
 * math fails its test instead of being evaluated wrongly.
 *
 * Time series are aligned arrays, one entry per period; `undefined` is a period without a datapoint.
 * Arithmetic and comparisons with a missing operand are missing (CloudWatch drops that timestamp); FILL
 * replaces missing with its value. Which periods exist at all when every input is empty is the one
 * point CloudWatch documents loosely, so `emptyPeriods` chooses: "absent" (a period without any metric
 * datapoint has no timestamp, every expression is missing there) or "filled" (FILL still yields its
 * value there). The platform's alarms must give the same verdict under both.
 */
export type Series = (number | undefined)[];

export interface MetricQuery {
    id: string;
    expression?: string;
    returnData?: boolean;
    metric?: { metricName: string };
}

export interface EvaluationOptions {
    emptyPeriods: "absent" | "filled";
}

type Token = { kind: "num"; value: number } | { kind: "id"; value: string } | { kind: "op"; value: string };

function tokenize(expression: string): Token[] {
    const tokens: Token[] = [];
    const pattern = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|!=|[-+*/(),<>]))/y;
    let at = 0;
    while (at < expression.length) {
        if (/^\s*$/.test(expression.slice(at))) break;
        pattern.lastIndex = at;
        const m = pattern.exec(expression);
        if (!m) throw new Error(`metric math: cannot read '${expression.slice(at)}'`);
        if (m[1] !== undefined) tokens.push({ kind: "num", value: Number(m[1]) });
        else if (m[2] !== undefined) tokens.push({ kind: "id", value: m[2] });
        else tokens.push({ kind: "op", value: m[3] });
        at = pattern.lastIndex;
    }
    return tokens;
}

type Node =
    | { kind: "num"; value: number }
    | { kind: "ref"; id: string }
    | { kind: "binary"; op: string; left: Node; right: Node }
    | { kind: "neg"; operand: Node }
    | { kind: "call"; name: string; args: Node[] };

/** Recursive descent: comparison < additive < multiplicative < unary < primary. */
function parse(expression: string): Node {
    const tokens = tokenize(expression);
    let i = 0;
    const peek = () => tokens[i];
    const isOp = (...ops: string[]) => peek()?.kind === "op" && ops.includes(peek()!.value as string);
    const expect = (op: string) => {
        if (!isOp(op)) throw new Error(`metric math: expected '${op}' in '${expression}'`);
        i++;
    };
    const binary = (next: () => Node, ops: string[]) => () => {
        let left = next();
        while (isOp(...ops)) {
            const op = tokens[i++].value as string;
            left = { kind: "binary", op, left, right: next() };
        }
        return left;
    };
    const primary = (): Node => {
        const t = tokens[i++];
        if (!t) throw new Error(`metric math: '${expression}' ends early`);
        if (t.kind === "num") return { kind: "num", value: t.value };
        if (t.kind === "op" && t.value === "(") {
            const inner = comparison();
            expect(")");
            return inner;
        }
        if (t.kind === "id" && isOp("(")) {
            i++;
            const args: Node[] = [comparison()];
            while (isOp(",")) {
                i++;
                args.push(comparison());
            }
            expect(")");
            return { kind: "call", name: t.value, args };
        }
        if (t.kind === "id") return { kind: "ref", id: t.value };
        throw new Error(`metric math: unexpected '${t.value}' in '${expression}'`);
    };
    const unary = (): Node => {
        if (isOp("-")) {
            i++;
            return { kind: "neg", operand: unary() };
        }
        return primary();
    };
    const multiplicative = binary(unary, ["*", "/"]);
    const additive = binary(multiplicative, ["+", "-"]);
    const comparison = binary(additive, [">", "<", ">=", "<=", "==", "!="]);
    const tree = comparison();
    if (i !== tokens.length) throw new Error(`metric math: trailing input in '${expression}'`);
    return tree;
}

const OPS: Record<string, (a: number, b: number) => number | undefined> = {
    "+": (a, b) => a + b,
    "-": (a, b) => a - b,
    "*": (a, b) => a * b,
    // CloudWatch drops a division by zero from the result rather than returning Infinity.
    "/": (a, b) => (b === 0 ? undefined : a / b),
    ">": (a, b) => Number(a > b),
    "<": (a, b) => Number(a < b),
    ">=": (a, b) => Number(a >= b),
    "<=": (a, b) => Number(a <= b),
    "==": (a, b) => Number(a === b),
    "!=": (a, b) => Number(a !== b),
};

/**
 * The series the alarm compares: every query evaluated in order (an expression may name earlier
 * queries), `metrics` giving each metric's samples by metric name (a metric without samples has none).
 */
export function evaluateQueries(
    queries: MetricQuery[],
    metrics: Record<string, Series>,
    periods: number,
    options: EvaluationOptions,
): Series {
    const values = new Map<string, Series>();
    for (const q of queries) {
        if (q.metric) {
            const samples = metrics[q.metric.metricName] ?? [];
            values.set(
                q.id,
                Array.from({ length: periods }, (_, p) => samples[p]),
            );
        }
    }
    // A period exists when some queried metric has a datapoint in it (or always, under "filled").
    const present = Array.from(
        { length: periods },
        (_, p) => options.emptyPeriods === "filled" || [...values.values()].some((s) => s[p] !== undefined),
    );
    const evaluate = (node: Node, p: number): number | undefined => {
        if (!present[p]) return undefined;
        switch (node.kind) {
            case "num":
                return node.value;
            case "ref": {
                const series = values.get(node.id);
                if (!series) throw new Error(`metric math: no query '${node.id}' before it is used`);
                return series[p];
            }
            case "neg": {
                const v = evaluate(node.operand, p);
                return v === undefined ? undefined : -v;
            }
            case "binary": {
                const [a, b] = [evaluate(node.left, p), evaluate(node.right, p)];
                return a === undefined || b === undefined ? undefined : OPS[node.op](a, b);
            }
            case "call":
                return call(node, p);
        }
    };
    const call = (node: Extract<Node, { kind: "call" }>, p: number): number | undefined => {
        const arity = { IF: 3, FILL: 2 }[node.name];
        if (arity === undefined) throw new Error(`metric math: function ${node.name} is not supported here`);
        if (node.args.length !== arity) throw new Error(`metric math: ${node.name} takes ${arity} arguments`);
        if (node.name === "FILL") return evaluate(node.args[0], p) ?? evaluate(node.args[1], p);
        const condition = evaluate(node.args[0], p);
        if (condition === undefined) return undefined;
        return evaluate(condition !== 0 ? node.args[1] : node.args[2], p);
    };
    let result: Series = [];
    for (const q of queries) {
        if (q.expression === undefined) continue;
        const tree = parse(q.expression);
        const series = Array.from({ length: periods }, (_, p) => evaluate(tree, p));
        values.set(q.id, series);
        if (q.returnData) result = series;
    }
    return result;
}

export interface AlarmRule {
    evaluationPeriods: number;
    datapointsToAlarm?: number;
    comparisonOperator: string;
    threshold: number;
    treatMissingData?: string;
}

/**
 * The state CloudWatch gives the alarm after the last period, over the last `evaluationPeriods` values.
 * (CloudWatch's "missing" treatment is modelled for notBreaching, breaching and ignore/missing.)
 */
export function alarmState(rule: AlarmRule, series: Series): "ALARM" | "OK" | "INSUFFICIENT_DATA" {
    const compare: Record<string, (v: number) => boolean> = {
        GreaterThanThreshold: (v) => v > rule.threshold,
        GreaterThanOrEqualToThreshold: (v) => v >= rule.threshold,
        LessThanThreshold: (v) => v < rule.threshold,
        LessThanOrEqualToThreshold: (v) => v <= rule.threshold,
    };
    const breaches = compare[rule.comparisonOperator];
    if (!breaches) throw new Error(`unknown comparison ${rule.comparisonOperator}`);
    const window = series.slice(-rule.evaluationPeriods);
    const missing = rule.treatMissingData ?? "missing";
    const present = window.filter((v): v is number => v !== undefined);
    if (present.length === 0 && (missing === "missing" || missing === "ignore")) return "INSUFFICIENT_DATA";
    const breaching = window.filter((v) => (v === undefined ? missing === "breaching" : breaches(v))).length;
    return breaching >= (rule.datapointsToAlarm ?? rule.evaluationPeriods) ? "ALARM" : "OK";
}
