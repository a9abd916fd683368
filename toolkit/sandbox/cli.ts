/**
 * `npm run sandbox [-- --stack dev|prod] [--request file.json | --requests N] [--verbose]`
 *
 * The platform end to end on this machine, no AWS account: the program's tables, topics, queues and
 * filter policies in local emulators (127.0.0.1), the serialized processors draining them, every hop
 * printed. Exits 1 if anything was lost (a request not accounted for by a delivery-log row or a DLQ
 * message), 2 on bad arguments or a bad request file.
 */
import * as fs from "node:fs";
import { MAX_SANDBOX_REQUESTS, parseRequestFile, runSandbox, type SandboxOptions } from "./sandbox";
import { runCommand, UsageError } from "../command";

function parseArgs(argv: string[]): SandboxOptions {
    const options: SandboxOptions = { stack: "dev" };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
            return v;
        };
        switch (flag) {
            case "--stack":
                options.stack = value();
                break;
            case "--request": {
                const file = value();
                let text: string;
                try {
                    text = fs.readFileSync(file, "utf8");
                } catch (err) {
                    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
                }
                try {
                    options.request = parseRequestFile(text, file);
                } catch (err) {
                    throw new UsageError((err as Error).message);
                }
                break;
            }
            case "--requests": {
                const raw = value();
                const n = Number(raw);
                if (!/^\d+$/.test(raw) || n < 1 || n > MAX_SANDBOX_REQUESTS)
                    throw new UsageError(`--requests must be an integer from 1 to ${MAX_SANDBOX_REQUESTS}, got ${raw}`);
                options.requests = n;
                break;
            }
            case "--verbose":
                options.verbose = true;
                break;
            default:
                throw new UsageError(
                    `unknown option ${flag} (options: --stack <name>, --request <file.json>, --requests <N>, --verbose)`,
                );
        }
    }
    if (options.request && options.requests) throw new UsageError("--request and --requests exclude each other");
    return options;
}

/** The whole run must end in time: a hang (a server that never answers) becomes an error, not a stuck terminal. */
const DEADLINE_MS = 110_000;

/** `npm run sandbox`: parse the arguments, run, exit 0 when nothing was lost. */
export function sandboxCommand(argv: string[]): void {
    runCommand(
        "sandbox",
        DEADLINE_MS,
        () => parseArgs(argv),
        async (options) => ((await runSandbox(options)).ok ? 0 : 1),
    );
}
