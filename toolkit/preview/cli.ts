/**
 * `npm start [-- --stack <name>] [--json <file>] [--program <dir>]`
 *
 * The offline `pulumi preview`: evaluates the program under the mock runtime with the stack's config,
 * prints the resource tree, a count per type and the stack outputs, then runs the policy pack over the
 * previewed resources with the stack's enforcement config. Exits 1 on a program or config error, or on
 * a mandatory policy violation.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PreviewError, type PreviewResource, type PreviewResult, runPreview } from "./preview";

interface CliOptions {
    stack: string;
    json?: string;
    programDir: string;
    gate: boolean;
}

function parseArgs(argv: string[]): CliOptions {
    const options: CliOptions = { stack: "dev", programDir: path.resolve(__dirname, "..", ".."), gate: true };
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
            default:
                throw new PreviewError(
                    `unknown option ${flag} (options: --stack <name>, --json <file>, --program <dir>, --no-gate)`,
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
        lines.push(
            `    ${key.padEnd(28)}: ${typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value)}`,
        );
    }
    return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
    const options = parseArgs(argv);
    const started = Date.now();
    console.log(
        `Previewing update (${options.stack}) of ${options.programDir} — offline: mock runtime, no AWS account, no Pulumi CLI\n`,
    );
    const result = await runPreview({ programDir: options.programDir, stack: options.stack });
    console.log(renderTree(result.resources));
    console.log(renderSummary(result));
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
        const { runGate, formatGateReport } = await import("../gate/gate");
        const report = runGate(result, { stack: options.stack, programDir: options.programDir });
        console.log(`\n${formatGateReport(report)}`);
        exitCode = report.exitCode;
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
