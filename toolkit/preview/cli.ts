/**
 * `npm start [-- --stack <name>] [--json <file>] [--program <dir>] [--strict] [--no-gate] [--timeout <s>]`
 *
 * The offline `pulumi preview`: runs the program the way the Node language host does (its folder, entry,
 * tsconfig, module system, environment) under the mock runtime with the stack's config as the engine
 * validates it, prints the resource tree, a count per type, the stack outputs and what the preview could
 * not see (partial coverage), then runs the policy pack over the previewed resources. Every run ends with
 * that report or with exit 1 and the cause: a program or config error, a program that never finishes, a
 * mandatory policy violation, or (with --strict) partial coverage.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PreviewError, UNKNOWN_OUTPUT, type PreviewResource, type PreviewResult, runHost } from "./preview";

interface CliOptions {
    stack: string;
    json?: string;
    programDir: string;
    gate: boolean;
    strict: boolean;
    timeoutSeconds?: number;
}

function parseArgs(argv: string[]): CliOptions {
    const options: CliOptions = {
        stack: "dev",
        programDir: path.resolve(__dirname, "..", ".."),
        gate: true,
        strict: false,
    };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new PreviewError(`${flag} needs a value`);
            return v;
        };
        switch (flag) {
            case "--stack":
                options.stack = value();
                break;
            case "--json":
                options.json = value();
                break;
            case "--program":
                options.programDir = path.resolve(value());
                break;
            case "--no-gate":
                options.gate = false;
                break;
            case "--strict":
                options.strict = true;
                break;
            case "--timeout": {
                const seconds = Number(value());
                if (!(seconds > 0)) throw new PreviewError("--timeout needs a number of seconds");
                options.timeoutSeconds = seconds;
                break;
            }
            default:
                throw new PreviewError(
                    `unknown option ${flag} (options: --stack <name>, --json <file>, --program <dir>, --strict, --no-gate, --timeout <s>)`,
                );
        }
    }
    return options;
}

/** The resource tree, like `pulumi preview` prints it: type and name, children indented under their parent. */
export function renderTree(resources: PreviewResource[]): string {
    const children = new Map<string, PreviewResource[]>();
    for (const r of resources) {
        if (!r.parent) continue;
        children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    }
    const rows: [string, string][] = [];
    const walk = (r: PreviewResource, prefix: string, last: boolean, root: boolean) => {
        rows.push([`${root ? "" : prefix + (last ? "└─ " : "├─ ")}${r.type}`, r.name]);
        const kids = children.get(r.urn) ?? [];
        kids.forEach((kid, i) => {
            walk(kid, root ? "" : prefix + (last ? "   " : "│  "), i === kids.length - 1, false);
        });
    };
    resources
        .filter((r) => !r.parent)
        .forEach((r) => {
            walk(r, "", true, true);
        });
    const width = Math.max(...rows.map(([t]) => t.length)) + 2;
    return [`     ${"Type".padEnd(width)}Name`, ...rows.map(([t, n]) => ` +   ${t.padEnd(width)}${n}`)].join("\n");
}

export function renderSummary(result: PreviewResult): string {
    const counts = new Map<string, number>();
    for (const r of result.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const byType = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const lines = ["", "Resources by type:"];
    for (const [type, n] of byType) lines.push(`    ${String(n).padStart(4)}  ${type}`);
    lines.push(`    + ${result.resources.length} to create`, "", "Outputs:");
    for (const [key, value] of Object.entries(result.outputs)) {
        // The CLI prints an unknown output as its type, unquoted.
        const shown =
            value === UNKNOWN_OUTPUT ? value : JSON.stringify(value).replaceAll(`"${UNKNOWN_OUTPUT}"`, UNKNOWN_OUTPUT);
        lines.push(`    ${key.padEnd(28)}: ${shown}`);
    }
    return lines.join("\n");
}

/** What the preview answered with a stand-in or could not expand: a real preview may see more. */
export function renderCoverage(result: PreviewResult): string {
    const computed = Object.entries(result.computedInvokes ?? {});
    const lines = [""];
    if (computed.length > 0) {
        lines.push(
            `Invokes computed as the provider computes them: ${computed.map(([t, n]) => `${t} ×${n}`).join(", ")}`,
        );
    }
    const gaps = result.coverage ?? [];
    if (gaps.length === 0) {
        lines.push("Coverage: complete (no stand-in invokes, no remote components)");
        return lines.join("\n");
    }
    lines.push(`Partial coverage (${gaps.length}): what a real preview sees and this one did not`);
    for (const gap of gaps) {
        const what = gap.kind === "remote component" ? gap.names.map((n) => `'${n}'`).join(", ") : `×${gap.count}`;
        lines.push(`    - ${gap.kind} ${gap.token} ${what}: ${gap.detail}`);
    }
    return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
    const options = parseArgs(argv);
    const started = Date.now();
    console.log(
        `Previewing update (${options.stack}) of ${options.programDir} — offline: mock runtime, no AWS account, no Pulumi CLI\n`,
    );
    const run = await runHost({
        programDir: options.programDir,
        stack: options.stack,
        timeoutSeconds: options.timeoutSeconds,
        gate: options.gate,
        cwd: process.cwd(),
    });
    // What the program itself printed (console output, the SDK's log lines), as the CLI shows diagnostics.
    if (run.stdout.trim()) process.stdout.write(`${run.stdout.trimEnd()}\n\n`);
    if (run.stderr.trim()) process.stderr.write(run.stderr);
    if (!run.result) throw new PreviewError(run.error ?? "the preview produced no result");
    const result = run.result;
    console.log(renderTree(result.resources));
    console.log(renderSummary(result));
    console.log(renderCoverage(result));
    if (options.json) {
        const slim = {
            stack: result.stack,
            resources: result.resources.map(({ type, name, parent, inputs }) => ({ type, name, parent, inputs })),
            outputs: result.outputs,
        };
        fs.writeFileSync(options.json, JSON.stringify(slim, null, 2));
        console.log(`\nWrote ${result.resources.length} resources to ${options.json}`);
    }
    let exitCode = 0;
    if (options.gate) {
        // runGate ran in the host process over this result (the program's modules are loaded there already).
        if (!run.gate) throw new PreviewError("the policy gate produced no report");
        console.log(`\n${run.gateText}`);
        exitCode = run.gate.exitCode;
    }
    const gaps = result.coverage?.length ?? 0;
    if (options.strict && gaps > 0) {
        console.log(`\n--strict: partial coverage (${gaps} item${gaps === 1 ? "" : "s"} above) -> FAIL`);
        exitCode = 1;
    }
    console.log(`\nDuration: ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return exitCode;
}

/** `npm start`: preview, gate, exit with the verdict (1 on any error, with its cause). */
export function previewCommand(argv: string[]): void {
    main(argv).then(
        (code) => process.exit(code),
        (err) => {
            const message = err instanceof PreviewError ? err.message : ((err as Error)?.stack ?? String(err));
            console.error(`\nerror: ${message}`);
            process.exit(1);
        },
    );
}
