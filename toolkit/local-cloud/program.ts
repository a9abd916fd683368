/**
 * Runs a Pulumi program under the mock runtime and loads the code each of its magic functions would
 * ship: the `__index.js` of every CallbackFunction's archive, written beside a `node_modules` link and
 * required, so tests call the serialized closure itself, never a hand-imported copy.
 *
 * The mock runtime is process-global (one program per process), so the program runs in a child process
 * (program-worker.ts) through the offline preview (toolkit/preview/preview.ts: same config resolution from
 * Pulumi.<stack>.yaml, same mock outputs), and results are cached per program and stack: any number of
 * test files and stacks can share one mocha process.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hostEnvironment } from "../preview/host-env";
import type { PreviewResource as RecordedResource, PreviewResult as RecordedResult } from "../preview/types";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** A recorded resource plus the outputs the mock runtime gave it (name, arn, url, ...). */
export interface PreviewResource extends RecordedResource {
    outputs: Record<string, any>;
}
export interface PreviewResult extends Omit<RecordedResult, "resources"> {
    resources: PreviewResource[];
}

/** A Lambda invocation context with the fields handlers use. */
export interface LambdaContext {
    functionName: string;
    functionVersion: string;
    invokedFunctionArn: string;
    memoryLimitInMB: string;
    awsRequestId: string;
    logGroupName: string;
    logStreamName: string;
    callbackWaitsForEmptyEventLoop: boolean;
    getRemainingTimeInMillis(): number;
}

export type Handler = (event: unknown, context: LambdaContext) => Promise<any>;

/** One function of the program, as it would ship. */
export interface ShippedFunction {
    /** Logical name of the aws:lambda/function:Function resource (e.g. "push-sender-fn"). */
    name: string;
    urn: string;
    /** The URN of the component that created it (its Processor), when it has one. */
    parent?: string;
    /** inputs.environment.variables as the program set them (mock ARNs/URLs). */
    environment: Record<string, string>;
    timeoutSeconds: number;
    memorySizeMb: number;
    /** The serialized module (`__index.js`, handler `__index.handler`). */
    code: string;
    /** Every entry of the code archive: path inside the archive -> bytes (uncompressed). */
    archiveEntries: Record<string, number>;
    /** Sum of archiveEntries: the archive's uncompressed size. */
    archiveBytes: number;
    /**
     * A cold start: writes the module to a fresh temp dir (with node_modules linked), sets `env`
     * (default: the program's environment) while the module loads and during every call of the returned
     * handler, and restores process.env after each. Invocations must not overlap across functions.
     */
    load(env?: Record<string, string>): LoadedFunction;
}

export interface LoadedFunction {
    name: string;
    dir: string;
    env: Record<string, string>;
    handler: Handler;
    /**
     * Calls the handler with a fresh context and the function's environment applied. `context`
     * overrides fields of the context, e.g. getRemainingTimeInMillis to run out of time on purpose.
     */
    invoke<T = any>(event: unknown, context?: Partial<LambdaContext>): Promise<T>;
}

export interface LoadedProgram {
    result: PreviewResult;
    resources: PreviewResource[];
    /** Every CallbackFunction (every aws:lambda/function:Function with an `__index.js` archive entry). */
    functions: ShippedFunction[];
    ofType(type: string): PreviewResource[];
    /** The one function whose logical name contains `namePart`; throws if none or several match. */
    fn(namePart: string): ShippedFunction;
}

export interface ProgramOptions {
    /** Directory holding Pulumi.yaml (default: this repo). */
    programDir?: string;
    stack?: string;
}

const cache = new Map<string, Promise<LoadedProgram>>();

/** Runs (once per program dir and stack, per process) and returns the program's resources and functions. */
export function loadProgram(options: ProgramOptions = {}): Promise<LoadedProgram> {
    const programDir = path.resolve(options.programDir ?? REPO_ROOT);
    const stack = options.stack ?? "dev";
    const key = `${programDir}\0${stack}`;
    let pending = cache.get(key);
    if (!pending) {
        pending = runProgram(programDir, stack).then(toLoadedProgram);
        // A failed run is not cached: the next caller gets a fresh attempt and the real error.
        pending.catch(() => cache.delete(key));
        cache.set(key, pending);
    }
    return pending;
}

function runProgram(programDir: string, stack: string): Promise<PreviewResult> {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "notify-program-")), "result.json");
    const worker = path.join(__dirname, "program-worker.ts");
    return new Promise((resolve, reject) => {
        execFile(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", worker, programDir, stack, out],
            { cwd: REPO_ROOT, env: hostEnvironment(programDir), maxBuffer: 64 * 1024 * 1024 },
            (err, _stdout, stderr) => {
                try {
                    if (err) return reject(new Error(stderr.trim() || err.message));
                    resolve(JSON.parse(fs.readFileSync(out, "utf8")));
                } finally {
                    fs.rmSync(path.dirname(out), { recursive: true, force: true });
                }
            },
        );
    });
}

function toLoadedProgram(result: PreviewResult): LoadedProgram {
    const functions = result.resources
        .filter((r) => r.type === "aws:lambda/function:Function")
        .map(toShippedFunction)
        .filter((f): f is ShippedFunction => f !== undefined);
    return {
        result,
        resources: result.resources,
        functions,
        ofType: (type) => result.resources.filter((r) => r.type === type),
        fn(namePart) {
            const matches = functions.filter((f) => f.name.includes(namePart));
            if (matches.length !== 1) {
                const names = functions.map((f) => f.name).join(", ");
                throw new Error(`${matches.length} functions match '${namePart}' (functions: ${names || "none"})`);
            }
            return matches[0];
        },
    };
}

interface PlainArchive {
    assets?: Record<string, PlainAsset>;
    path?: string;
}
type PlainAsset = { text?: string; path?: string; assets?: Record<string, PlainAsset> };

function toShippedFunction(resource: PreviewResource): ShippedFunction | undefined {
    const code = resource.inputs.code as PlainArchive | undefined;
    const index = code?.assets?.["__index.js"];
    if (typeof index?.text !== "string") return undefined;
    const archiveEntries: Record<string, number> = {};
    collectEntries(code!.assets!, "", archiveEntries);
    const environment: Record<string, string> = { ...(resource.inputs.environment?.variables ?? {}) };
    const shipped: ShippedFunction = {
        name: resource.name,
        urn: resource.urn,
        parent: resource.parent,
        environment,
        timeoutSeconds: Number(resource.inputs.timeout ?? 3),
        memorySizeMb: Number(resource.inputs.memorySize ?? 128),
        code: index.text,
        archiveEntries,
        archiveBytes: Object.values(archiveEntries).reduce((a, b) => a + b, 0),
        load: (env) => loadFunction(shipped, env ?? environment),
    };
    return shipped;
}

/** Sizes of an archive's entries: text assets by their UTF-8 bytes, file and directory assets from disk. */
function collectEntries(assets: Record<string, PlainAsset>, prefix: string, out: Record<string, number>): void {
    for (const [name, asset] of Object.entries(assets)) {
        const at = path.posix.join(prefix, name);
        if (typeof asset.text === "string") out[at] = Buffer.byteLength(asset.text);
        else if (asset.assets) collectEntries(asset.assets, at, out);
        else if (asset.path) walkDisk(path.resolve(REPO_ROOT, asset.path), at, out);
    }
}

function walkDisk(file: string, at: string, out: Record<string, number>): void {
    const stat = fs.statSync(file);
    if (stat.isFile()) {
        out[at] = stat.size;
        return;
    }
    for (const child of fs.readdirSync(file)) walkDisk(path.join(file, child), path.posix.join(at, child), out);
}

let loadCounter = 0;
const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "notify-shipped-"));
process.once("exit", () => fs.rmSync(tempRoot, { recursive: true, force: true }));

function withEnv<T>(env: Record<string, string>, run: () => T): { result: T; restore: () => void } {
    const saved = new Map<string, string | undefined>();
    for (const [key, value] of Object.entries(env)) {
        saved.set(key, process.env[key]);
        process.env[key] = value;
    }
    const restore = () => {
        for (const [key, value] of saved) {
            if (value === undefined) delete process.env[key];
            else process.env[key] = value;
        }
    };
    try {
        return { result: run(), restore };
    } catch (err) {
        restore();
        throw err;
    }
}

function loadFunction(fn: ShippedFunction, env: Record<string, string>): LoadedFunction {
    const dir = path.join(tempRoot, `${fn.name}-${++loadCounter}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "__index.js"), fn.code);
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    const file = path.join(dir, "__index.js");
    // The module's top level runs the callbackFactory (the cold start): it must see the function's env.
    const { result: mod, restore } = withEnv(env, () => require(file));
    restore();
    if (typeof mod.handler !== "function") throw new Error(`${fn.name}: __index.js exports no handler`);
    let invocation = 0;
    const context = (): LambdaContext => {
        const deadline = Date.now() + fn.timeoutSeconds * 1000;
        const id = `${fn.name}-${++invocation}`;
        return {
            functionName: fn.name,
            functionVersion: "$LATEST",
            invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? "eu-west-1"}:000000000000:function:${fn.name}`,
            memoryLimitInMB: String(fn.memorySizeMb),
            awsRequestId: id,
            logGroupName: `/aws/lambda/${fn.name}`,
            logStreamName: id,
            callbackWaitsForEmptyEventLoop: true,
            getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
        };
    };
    const handler: Handler = mod.handler;
    return {
        name: fn.name,
        dir,
        env,
        handler,
        async invoke(event, overrides) {
            const { result, restore: restoreEnv } = withEnv(env, () => handler(event, { ...context(), ...overrides }));
            try {
                return await result;
            } finally {
                restoreEnv();
            }
        },
    };
}
