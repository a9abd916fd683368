/**
 * Cold load per function: fresh Node processes, each doing what a Lambda init + first invoke does with
 * the code archive: `require("./__index.js")` (which runs the callbackFactory) and one handler call
 * against the warm emulators. Timed inside the child (process boot excluded) and reported as medians.
 * Two layouts of the same `__index.js`:
 * - ours: the archive the program ships (just `__index.js`) with the AWS SDK where nodejs22.x keeps it
 *   (here: the repository's node_modules, standing in for /var/runtime/node_modules);
 * - default: CallbackFunction's default archive laid out in a temp dir: `__index.js` beside a
 *   `node_modules` holding exactly the default archive's files (so every package resolves from it).
 * - withoutPowertools: `__index.js` with node_modules where @aws-lambda-powertools/{logger,metrics} are a
 *   hand-rolled minimal logger and EMF writer (POWERTOOLS_SHIM): what Powertools from the layer costs
 *   at init, against what the functions did before it (in Lambda the layer's packages load from /opt).
 * Firehose and Scheduler have no emulator: a local stand-in answers them (so no call leaves 127.0.0.1).
 */
import { httpApiEvent } from "../local-api/event";
import type { LocalRoute } from "../local-api/routes";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { ShippedFunction } from "../local-cloud/program";
import type { ZipEntry } from "./zip";
import { REPO_ROOT } from "./packages";
import { type Spread, spread } from "./stats";

/** The layouts a cold load is measured in (see the file comment). */
export type Layout = "ours" | "default" | "withoutPowertools";
export const LAYOUTS: Layout[] = ["ours", "default", "withoutPowertools"];

export interface ColdLoadRow {
    function: string;
    /** Samples of the layout with the fewest (every layout gets the same number unless a child failed). */
    runs: number;
    oursMedianMs: number;
    defaultMedianMs: number;
    /** Per layout: module load + init (require of __index.js, which runs the callbackFactory), ms. */
    init: Record<Layout, Spread>;
    /** Per layout: init + the first handler call, ms. */
    total: Record<Layout, Spread>;
    /** What the first handler call did (e.g. "ok", or the error it raised), from the first run of each layout. */
    firstCall: string;
    firstCallWithoutPowertools: string;
    /** Children that failed (reported, never fatal). */
    failures: string[];
}

const CHILD_SOURCE = `
const started = process.hrtime.bigint();
const [dir, eventFile] = process.argv.slice(2);
const mod = require(require("path").join(dir, "__index.js"));
const loaded = process.hrtime.bigint();
const event = JSON.parse(require("fs").readFileSync(eventFile, "utf8"));
const context = { functionName: "cold", functionVersion: "$LATEST", invokedFunctionArn: "arn:aws:lambda:eu-west-1:000000000000:function:cold",
  memoryLimitInMB: "512", awsRequestId: "cold-1", logGroupName: "/aws/lambda/cold", logStreamName: "cold",
  callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 30000 };
Promise.resolve().then(() => mod.handler(event, context)).then(() => "ok", (e) => "error: " + (e && e.message || e)).then((outcome) => {
  const done = process.hrtime.bigint();
  process.stderr.write("\\n@@cold " + JSON.stringify({ loadMs: Number(loaded - started) / 1e6, totalMs: Number(done - started) / 1e6, outcome }) + "\\n");
  process.exit(0);
});
`;

/** A Firehose / Scheduler stand-in over HTTP (JSON 1.1 protocol): every call succeeds. */
async function startJsonStandIn(): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            const target = String(req.headers["x-amz-target"] ?? "");
            let out: unknown = {};
            if (target.endsWith("PutRecordBatch")) {
                const records = (JSON.parse(body || "{}").Records ?? []) as unknown[];
                out = {
                    FailedPutCount: 0,
                    Encrypted: false,
                    RequestResponses: records.map((_, i) => ({ RecordId: `r-${i}` })),
                };
            }
            res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
            res.end(JSON.stringify(out));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

/**
 * A route function's first call: its route with every path parameter set, no body, and the identity its
 * authorizer adds (a user with no data, or a producer): it reads or validates and answers, writes nothing.
 */
export function firstRouteCall(route: LocalRoute): unknown {
    const path = route.routeKey.split(" ")[1];
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    return httpApiEvent({
        routeKey: route.routeKey,
        method: route.method,
        rawPath: path.replace(/\{[^}]+\}/g, "cold-start-1"),
        rawQueryString: "",
        headers: { host: "cold.execute-api.eu-west-1.amazonaws.com", "content-type": "application/json" },
        body: Buffer.alloc(0),
        ...(names.length > 0 ? { pathParameters: Object.fromEntries(names.map((n) => [n, "cold-start-1"])) } : {}),
        sourceIp: "127.0.0.1",
        authorizer:
            route.auth === "jwt"
                ? { jwt: { claims: { sub: "cold-start-nobody" }, scopes: null } }
                : {
                      iam: {
                          accessKey: "AKIACOLDSTART",
                          accountId: "000000000000",
                          callerId: "AROACOLDSTART:cold",
                          principalOrgId: null,
                          userArn: "arn:aws:sts::000000000000:assumed-role/cold-start/cold",
                          userId: "AROACOLDSTART:cold",
                      },
                  },
        apiId: "cold",
        stage: "bench",
        accountId: "000000000000",
        now: new Date(),
    });
}

/** The event of a representative first call: it reads, writes the bookkeeping and analytics, sends nothing. */
export function firstCallEvent(fn: ShippedFunction): unknown {
    const sqs = (body: string) => ({
        Records: [
            {
                messageId: "cold-1",
                receiptHandle: "cold-1",
                body,
                attributes: { ApproximateReceiveCount: "1" },
                messageAttributes: {},
                md5OfBody: "",
                eventSource: "aws:sqs",
                eventSourceARN: "arn:aws:sqs:eu-west-1:000000000000:cold",
                awsRegion: "eu-west-1",
            },
        ],
    });
    if (fn.name.endsWith("-sender-fn")) {
        return sqs(
            JSON.stringify({
                notificationId: "cold-start-1",
                userId: "cold-start-nobody",
                title: "t",
                subject: "s",
                body: "b",
            }),
        );
    }
    if (fn.name.startsWith("feedback")) {
        return sqs(
            JSON.stringify({
                eventType: "Delivery",
                mail: {
                    messageId: "m-1",
                    tags: { notificationId: ["cold-start-1"], channel: ["email"], userId: ["cold-start-nobody"] },
                },
                delivery: {},
            }),
        );
    }
    if (fn.name.startsWith("device-maintenance")) return { Records: [] };
    // A run over an empty segment: reads its checkpoint and the segment's first page, publishes nothing.
    return {
        campaignId: "cold-start",
        template: "order-shipped",
        segment: "cold-start-empty-segment",
        scheduledTime: "2026-01-01T09:00:00Z",
    };
}

function runChild(childFile: string, dir: string, eventFile: string, env: NodeJS.ProcessEnv, timeoutMs: number) {
    return new Promise<{ loadMs: number; totalMs: number; outcome: string }>((resolve, reject) => {
        execFile(
            process.execPath,
            ["--no-warnings", childFile, dir, eventFile],
            { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
            (err, _stdout, stderr) => {
                const line = stderr.split("\n").find((l) => l.startsWith("@@cold "));
                if (!line)
                    return reject(
                        new Error(`cold-load child for ${dir} failed: ${err?.message ?? ""} ${stderr.slice(-500)}`),
                    );
                resolve(JSON.parse(line.slice("@@cold ".length)));
            },
        );
    });
}

export interface ColdLoadOptions {
    functions: ShippedFunction[];
    /** The API's routes (toolkit/local-api): a route function's first call is an HTTP API request. */
    routes: LocalRoute[];
    /** The function's environment pointed at the emulators. */
    envOf: (fn: ShippedFunction) => Record<string, string>;
    /** The emulator endpoints and credentials (useEmulatorEnv's variables), for the children. */
    baseEnv: Record<string, string>;
    defaultDependencies: ZipEntry[];
    runs: number;
    /** Children at once (the machine's cores): interleaved ours/default, so both see the same load. */
    concurrency: number;
    /** Stops starting new children after this many milliseconds (fewer samples, reported; never a failure). */
    budgetMs: number;
    /** Called after each function (long phases print progress). */
    onProgress?: (fn: string, done: number, of: number) => void;
}

/**
 * The no-Powertools variant: a minimal JSON logger and EMF writer with the API surface handlers/lib/log.ts
 * and metrics.ts use (what a hand-rolled module costs to load: next to nothing).
 */
const POWERTOOLS_SHIM: Record<string, string> = {
    "logger/index.js": `class Logger {
  constructor(o = {}) { this.keys = { service: o.serviceName }; this.level = o.logLevel || "INFO"; this.console = console; }
  print(level, message, extra) { this.console.log(JSON.stringify({ level, message, timestamp: new Date().toISOString(), ...this.keys, ...extra })); }
  debug() {} info(m, e) { if (this.level !== "ERROR" && this.level !== "WARN") this.print("INFO", m, e); }
  warn(m, e) { if (this.level !== "ERROR") this.print("WARN", m, e); } error(m, e) { this.print("ERROR", m, e); }
  appendKeys(k) { Object.assign(this.keys, k); } removeKeys(n) { for (const k of n) delete this.keys[k]; }
  resetKeys() { this.keys = { service: this.keys.service }; } addContext(c) { this.keys.function_request_id = c && c.awsRequestId; }
}
module.exports = { Logger };`,
    "metrics/index.js": `const MetricUnit = { Count: "Count" };
class Metrics {
  constructor(o = {}) { this.o = o; this.d = {}; this.m = {}; this.meta = {}; this.console = console; }
  addDimension(k, v) { this.d[k] = v; } addMetadata(k, v) { this.meta[k] = v; }
  addMetric(n, u, v) { this.m[n] = v; if (this.single) this.publishStoredMetrics(); }
  singleMetric() { const s = new Metrics(this.o); s.single = true; return s; }
  publishStoredMetrics() {
    const names = Object.keys(this.m); if (!names.length) return;
    this.console.log(JSON.stringify({ _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: this.o.namespace, Dimensions: [Object.keys(this.d)], Metrics: names.map((Name) => ({ Name, Unit: "Count" })) }] }, ...this.d, ...this.meta, ...this.m }));
    this.m = {}; this.d = {};
  }
}
module.exports = { Metrics, MetricUnit };`,
};

/** node_modules for the no-Powertools variant: every package linked from the repository's, Powertools shimmed. */
function layOutWithoutPowertools(root: string): string {
    const modules = path.join(root, "without-powertools", "node_modules");
    fs.mkdirSync(modules, { recursive: true });
    const repoModules = path.join(REPO_ROOT, "node_modules");
    for (const name of fs.readdirSync(repoModules)) {
        if (name === "@aws-lambda-powertools") continue;
        fs.symlinkSync(path.join(repoModules, name), path.join(modules, name));
    }
    for (const [file, source] of Object.entries(POWERTOOLS_SHIM)) {
        const target = path.join(modules, "@aws-lambda-powertools", file);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, source);
    }
    return modules;
}

/**
 * The default archive's node_modules, laid out once (its files are the same for every function). Named
 * node_modules so that packages inside it find each other by Node's parent-directory lookup. An entry's
 * name is relative to the program (`node_modules/...`, or `../../x/node_modules/...` where node_modules
 * is a link): everything up to the first node_modules/ is dropped.
 */
function layOutDefault(root: string, entries: ZipEntry[]): string {
    const modules = path.join(root, "default-archive", "node_modules");
    for (const entry of entries) {
        const target = path.join(modules, entry.name.replace(/^(?:.*?\/)?node_modules\//, ""));
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, entry.data);
    }
    return modules;
}

interface Sample {
    layout: Layout;
    initMs: number;
    totalMs: number;
    outcome: string;
}

/** Runs the jobs on `concurrency` lanes; a failed child is a recorded failure, never an exception. */
async function runJobs(
    jobs: { layout: Layout; dir: string }[],
    run: (dir: string) => Promise<{ loadMs: number; totalMs: number; outcome: string }>,
    concurrency: number,
    deadline: number,
): Promise<{ samples: Sample[]; failures: string[] }> {
    const samples: Sample[] = [];
    const failures: string[] = [];
    let next = 0;
    const lane = async () => {
        while (next < jobs.length && Date.now() < deadline) {
            const job = jobs[next++];
            try {
                const r = await run(job.dir);
                samples.push({ layout: job.layout, initMs: r.loadMs, totalMs: r.totalMs, outcome: r.outcome });
            } catch (error) {
                failures.push(`${job.layout}: ${String((error as Error).message ?? error).slice(0, 300)}`);
            }
        }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return { samples, failures };
}

function coldLoadRow(fn: ShippedFunction, samples: Sample[], failures: string[]): ColdLoadRow {
    const of = (layout: Layout) => samples.filter((s) => s.layout === layout);
    const init = Object.fromEntries(LAYOUTS.map((l) => [l, spread(of(l).map((s) => s.initMs))])) as Record<
        Layout,
        Spread
    >;
    const total = Object.fromEntries(LAYOUTS.map((l) => [l, spread(of(l).map((s) => s.totalMs))])) as Record<
        Layout,
        Spread
    >;
    return {
        function: fn.name,
        runs: Math.min(...LAYOUTS.map((l) => of(l).length)),
        oursMedianMs: total.ours.median,
        defaultMedianMs: total.default.median,
        init,
        total,
        firstCall: of("ours")[0]?.outcome ?? "no sample",
        firstCallWithoutPowertools: of("withoutPowertools")[0]?.outcome ?? "no sample",
        failures,
    };
}

export async function measureColdLoads(options: ColdLoadOptions): Promise<ColdLoadRow[]> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "notify-coldload-"));
    const standIn = await startJsonStandIn();
    const deadline = Date.now() + options.budgetMs;
    try {
        const childFile = path.join(root, "child.js");
        fs.writeFileSync(childFile, CHILD_SOURCE);
        const modules: Record<Layout, string> = {
            ours: path.join(REPO_ROOT, "node_modules"),
            default: layOutDefault(root, options.defaultDependencies),
            withoutPowertools: layOutWithoutPowertools(root),
        };
        const rows: ColdLoadRow[] = [];
        for (const fn of options.functions) {
            const dirs = {} as Record<Layout, string>;
            for (const layout of LAYOUTS) {
                dirs[layout] = path.join(root, `${fn.name}-${layout}`);
                fs.mkdirSync(dirs[layout]);
                fs.writeFileSync(path.join(dirs[layout], "__index.js"), fn.code);
                fs.symlinkSync(modules[layout], path.join(dirs[layout], "node_modules"), "dir");
            }
            const eventFile = path.join(root, `${fn.name}-event.json`);
            const route = options.routes.find((r) => r.fn.name === fn.name);
            fs.writeFileSync(eventFile, JSON.stringify(route ? firstRouteCall(route) : firstCallEvent(fn)));
            const env: NodeJS.ProcessEnv = {
                PATH: process.env.PATH,
                ...options.baseEnv,
                ...options.envOf(fn),
                AWS_ENDPOINT_URL_FIREHOSE: standIn.url,
                AWS_ENDPOINT_URL_SCHEDULER: standIn.url,
                AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
                LOG_LEVEL: "ERROR",
            };
            // Interleaved layouts, so all three see the same load.
            const jobs = Array.from({ length: options.runs }, () =>
                LAYOUTS.map((layout) => ({ layout, dir: dirs[layout] })),
            ).flat();
            const { samples, failures } = await runJobs(
                jobs,
                (dir) => runChild(childFile, dir, eventFile, env, 30_000),
                options.concurrency,
                deadline,
            );
            rows.push(coldLoadRow(fn, samples, failures));
            options.onProgress?.(fn.name, rows.length, options.functions.length);
        }
        return rows;
    } finally {
        await standIn.close();
        fs.rmSync(root, { recursive: true, force: true });
    }
}
