/**
 * `npm run sandbox [-- --stack dev|prod] [--request file.json | --requests N] [--verbose]`
 *
 * The platform end to end on this machine, no AWS account: the program's tables, topics, queues and
 * filter policies in local emulators (127.0.0.1), the serialized processors draining them, every hop
 * printed. Exits 1 if anything was lost (a request not accounted for by a delivery-log row or a DLQ
 * message), 2 on bad arguments or a bad request file.
 */
import * as fs from "fs";
import { MAX_SANDBOX_REQUESTS, parseRequestFile, runSandbox, SandboxOptions } from "./lib/local/sandbox";

class UsageError extends Error {}

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
                if (!/^\d+$/.test(raw) || n < 1 || n > MAX_SANDBOX_REQUESTS) throw new UsageError(`--requests must be an integer from 1 to ${MAX_SANDBOX_REQUESTS}, got ${raw}`);
                options.requests = n;
                break;
            }
            case "--verbose":
                options.verbose = true;
                break;
            default:
                throw new UsageError(`unknown option ${flag} (options: --stack <name>, --request <file.json>, --requests <N>, --verbose)`);
        }
    }
    if (options.request && options.requests) throw new UsageError("--request and --requests exclude each other");
    return options;
}

/** The whole run must end in time: a hang (a server that never answers) becomes an error, not a stuck terminal. */
const DEADLINE_MS = 110_000;

if (require.main === module) {
    // The SDK warns once per process that its 2027 releases need Node 22 (Lambda runs nodejs22.x; the
    // header prints the Node version): not news for a sandbox run.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    let options: SandboxOptions;
    try {
        options = parseArgs(process.argv.slice(2));
    } catch (err) {
        console.error(`error: ${(err as Error).message}`);
        process.exit(2);
    }
    const timer = setTimeout(() => {
        console.error(`\nerror: the sandbox did not finish within ${DEADLINE_MS / 1000}s`);
        process.exit(1);
    }, DEADLINE_MS);
    timer.unref();
    runSandbox(options).then(
        (summary) => process.exit(summary.ok ? 0 : 1),
        (err) => {
            console.error(`\nerror: ${(err as Error)?.stack ?? String(err)}`);
            process.exit(1);
        },
    );
}
