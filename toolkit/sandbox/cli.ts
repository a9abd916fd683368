/**
 * `npm run sandbox [-- --stack dev|prod] [--request file.json | --requests N] [--verbose]`
 * `npm run sandbox -- --serve [--port N] [--jwt-secret KEY] [--stack dev|prod] [--verbose]`: the HTTP API
 * on 127.0.0.1 (toolkit/local-api); `npm run sandbox -- --mint-jwt <userId> --jwt-secret KEY`: a dev JWT.
 *
 * The platform end to end on this machine, no AWS account: the program's tables, topics, queues and
 * filter policies in local emulators (127.0.0.1), the serialized processors draining them, every hop
 * printed. Exits 1 if anything was lost (a request not accounted for by a delivery-log row or a DLQ
 * message), 2 on bad arguments or a bad request file.
 */
import * as fs from "node:fs";
import { MAX_SANDBOX_REQUESTS, parseRequestFile, runSandbox, type SandboxOptions } from "./sandbox";
import { runCommand, UsageError } from "../command";
import { mintJwt, serve } from "../local-api/serve";

interface CliOptions extends SandboxOptions {
    serve?: boolean;
    port?: number;
    jwtSecret?: string;
    mintJwt?: string;
}

function parseArgs(argv: string[]): CliOptions {
    const options: CliOptions = { stack: "dev" };
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
                parseServeFlag(options, flag, value);
        }
    }
    if (options.request && options.requests) throw new UsageError("--request and --requests exclude each other");
    if ((options.serve || options.mintJwt) && (options.request || options.requests))
        throw new UsageError("--serve / --mint-jwt do not take --request or --requests");
    if (options.port !== undefined && !options.serve) throw new UsageError("--port needs --serve");
    if (options.mintJwt && !options.jwtSecret)
        throw new UsageError("--mint-jwt needs --jwt-secret (the key `--serve` printed)");
    return options;
}

/** The local API's flags (toolkit/local-api). */
function parseServeFlag(options: CliOptions, flag: string, value: () => string): void {
    switch (flag) {
        case "--serve":
            options.serve = true;
            return;
        case "--port": {
            const raw = value();
            const n = Number(raw);
            if (!/^\d+$/.test(raw) || n < 1 || n > 65535) throw new UsageError(`--port must be 1-65535, got ${raw}`);
            options.port = n;
            return;
        }
        case "--jwt-secret":
            options.jwtSecret = value();
            if (Buffer.from(options.jwtSecret, "base64url").length < 32)
                throw new UsageError("--jwt-secret must be at least 32 bytes, base64url");
            return;
        case "--mint-jwt": {
            const sub = value();
            if (!/^[A-Za-z0-9_-]{1,128}$/.test(sub)) throw new UsageError(`--mint-jwt: '${sub}' is not a user id`);
            options.mintJwt = sub;
            return;
        }
        default:
            throw new UsageError(
                `unknown option ${flag} (options: --stack <name>, --request <file.json>, --requests <N>, --verbose, --serve, --port <N>, --jwt-secret <key>, --mint-jwt <userId>)`,
            );
    }
}

/** The whole run must end in time: a hang (a server that never answers) becomes an error, not a stuck terminal. */
const DEADLINE_MS = 110_000;

/** `npm run sandbox`: parse the arguments, run, exit 0 when nothing was lost. */
export function sandboxCommand(argv: string[]): void {
    if (argv.includes("--serve") || argv.includes("--mint-jwt")) {
        // A server runs until Ctrl-C: no deadline.
        runCommand(
            "sandbox server",
            undefined,
            () => parseArgs(argv),
            (options) => (options.mintJwt ? mintJwt(options.mintJwt, options.jwtSecret!) : serve(options)),
        );
        return;
    }
    runCommand(
        "sandbox",
        DEADLINE_MS,
        () => parseArgs(argv),
        async (options) => ((await runSandbox(options)).ok ? 0 : 1),
    );
}
