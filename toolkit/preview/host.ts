// The offline language host: the child process a preview runs in (argv = <programDir> <stack> <out.json>
// [<options JSON>]). It always writes {result, gate?} or {error} to out.json and exits 0 or 1: never silently.
// The gate runs here too when asked, so the program's modules are loaded once per preview, not twice.
import * as fs from "node:fs";
import type { GateReport } from "../gate/gate";
import { type HostOptions, runPreview } from "./preview";

const [programDir, stack, out, json] = process.argv.slice(2);
const options: HostOptions = json ? JSON.parse(json) : {};

async function main(): Promise<{ result: unknown; gate?: GateReport; gateText?: string }> {
    const result = await runPreview({ programDir, stack, timeoutSeconds: options.timeoutSeconds });
    if (!options.gate) return { result };
    const { runGate, formatGateReport } = await import("../gate/gate");
    try {
        const gate = runGate(result, { stack, programDir });
        // The report names the config file relative to where the user ran npm start.
        if (options.cwd) process.chdir(options.cwd);
        return { result, gate, gateText: formatGateReport(gate) };
    } catch (err) {
        throw new Error(`policy gate: ${err instanceof Error ? err.message : String(err)}`);
    }
}

main().then(
    (written) => {
        fs.writeFileSync(out, JSON.stringify(written));
        process.exit(0);
    },
    (err) => {
        fs.writeFileSync(out, JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
        process.exit(1);
    },
);
