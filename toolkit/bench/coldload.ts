/**
 * Cold load per function: fresh Node processes, each doing what a Lambda init + first invoke does with
 * the code archive: `require("./__index.js")` (which runs the callbackFactory) and one handler call
 * against the warm emulators. Timed inside the child (process boot excluded) and reported as medians.
 * Two layouts of the same `__index.js`:
 * - ours: the archive the program ships (just `__index.js`) with the AWS SDK where nodejs22.x keeps it
 *   (here: the repository's node_modules, standing in for /var/runtime/node_modules);
 * - default: CallbackFunction's default archive laid out in a temp dir: `__index.js` beside a
 *   `node_modules` holding exactly the default archive's files (so every package resolves from it).
 * Firehose and Scheduler have no emulator: a local stand-in answers them (so no call leaves 127.0.0.1).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { ShippedFunction } from "../local-cloud/program";
import type { ZipEntry } from "./zip";
import { REPO_ROOT } from "./packages";

export interface ColdLoadRow {
    function: string;
    runs: number;
    oursMedianMs: number;
    defaultMedianMs: number;
    /** What the first handler call did (e.g. "ok", or the error it raised), from the first run. */
    firstCall: string;
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

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
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
    /** The function's environment pointed at the emulators. */
    envOf: (fn: ShippedFunction) => Record<string, string>;
    /** The emulator endpoints and credentials (useEmulatorEnv's variables), for the children. */
    baseEnv: Record<string, string>;
    defaultDependencies: ZipEntry[];
    runs: number;
    /** Children at once (the machine's cores): interleaved ours/default, so both see the same load. */
    concurrency: number;
    /** Stops starting new children after this many milliseconds (the bench's time bound). */
    budgetMs: number;
}

export async function measureColdLoads(options: ColdLoadOptions): Promise<ColdLoadRow[]> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "notify-coldload-"));
    const standIn = await startJsonStandIn();
    const deadline = Date.now() + options.budgetMs;
    try {
        const childFile = path.join(root, "child.js");
        fs.writeFileSync(childFile, CHILD_SOURCE);
        // The default archive's node_modules, laid out once (its files are the same for every function).
        // Named node_modules so that packages inside it find each other by Node's parent-directory lookup.
        const defaultModules = path.join(root, "default-archive", "node_modules");
        for (const entry of options.defaultDependencies) {
            const target = path.join(defaultModules, entry.name.replace(/^node_modules\//, ""));
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, entry.data);
        }
        const rows: ColdLoadRow[] = [];
        for (const fn of options.functions) {
            const ours = path.join(root, `${fn.name}-ours`);
            const dflt = path.join(root, `${fn.name}-default`);
            for (const dir of [ours, dflt]) {
                fs.mkdirSync(dir);
                fs.writeFileSync(path.join(dir, "__index.js"), fn.code);
            }
            fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(ours, "node_modules"), "dir");
            fs.symlinkSync(defaultModules, path.join(dflt, "node_modules"), "dir");
            const eventFile = path.join(root, `${fn.name}-event.json`);
            fs.writeFileSync(eventFile, JSON.stringify(firstCallEvent(fn)));
            const env: NodeJS.ProcessEnv = {
                PATH: process.env.PATH,
                ...options.baseEnv,
                ...options.envOf(fn),
                AWS_ENDPOINT_URL_FIREHOSE: standIn.url,
                AWS_ENDPOINT_URL_SCHEDULER: standIn.url,
                AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
                LOG_LEVEL: "ERROR",
            };
            const jobs: { layout: "ours" | "default"; dir: string }[] = [];
            for (let i = 0; i < options.runs; i++)
                jobs.push({ layout: "ours", dir: ours }, { layout: "default", dir: dflt });
            const times = { ours: [] as number[], default: [] as number[] };
            let firstCall = "";
            let next = 0;
            const lane = async () => {
                while (next < jobs.length && Date.now() < deadline) {
                    const job = jobs[next++];
                    const result = await runChild(childFile, job.dir, eventFile, env, 30_000);
                    firstCall ||= result.outcome;
                    times[job.layout].push(result.totalMs);
                }
            };
            await Promise.all(Array.from({ length: options.concurrency }, lane));
            const runs = Math.min(times.ours.length, times.default.length);
            rows.push({
                function: fn.name,
                runs,
                oursMedianMs: runs ? median(times.ours) : NaN,
                defaultMedianMs: runs ? median(times.default) : NaN,
                firstCall,
            });
        }
        return rows;
    } finally {
        await standIn.close();
        fs.rmSync(root, { recursive: true, force: true });
    }
}
