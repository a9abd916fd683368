/**
 * `npm run bench [-- --runs N] [--users N] [--round-trip-ms N] [--sweep 0,2,10,50] [--sweep-users N]
 *  [--model-round-trip-ms N] [--per-day N] [--peak N] [--api-requests N] [--capacity] [--out bench/results.json]`
 * `npm run bench -- --charts-from bench/results.json` redraws the charts from a results file.
 *
 * Measures, on this machine and offline, what every AWS API call and every Lambda package byte costs:
 * (1) package size per function: default CallbackFunction packaging vs ours vs an esbuild floor;
 * (2) cold load per function (fresh processes): init and first call, with Powertools (as shipped), without
 *     it (a hand-rolled logger/EMF writer in its place) and with the default archive;
 * (3) API calls per delivered notification per channel, ours vs a port of the seed design, on a fixed
 *     deterministic workload at the prod stack's batch size;
 * (4) throughput, ours vs the seed port, swept over simulated network round trips;
 * (5) offline preview + policy gate time for prod;
 * (6) the crash window (provider answer -> its row durable);
 * (7) the capacity and cost model at a volume (default 1B/day, 100K/s peak) against the default quotas;
 * (8) the local HTTP API's cold and warm latency (POST /v1/notifications, GET /v1/notifications/{id}).
 * Every figure carries its samples and spread. Prints the tables, writes bench/results.json and the SVG
 * charts beside it. Exits 1 only if the run itself failed (lost a notification): targets are reported.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CHANNELS } from "../../handlers/core/channels";
import { runCommand, UsageError } from "../command";
import { runGate } from "../gate/gate";
import { type LocalPlatform, startPlatform } from "../local-cloud/platform";
import { type LoadedProgram, loadProgram } from "../local-cloud/program";
import { generateWorkload, MAX_WORKLOAD_USERS } from "../sandbox/workload";
import { API_REQUESTS, type ApiLatencyResult, measureApiLatency } from "./api-latency";
import { type CapacityModel, type ChannelMeasurement, capacityModel } from "./capacity";
import { formatCapacity, formatCosts, measurement } from "./capacity-report";
import { costChartSvg, type ThroughputPoint, throughputChartSvg } from "./charts";
import { apiRoutes } from "../local-api/routes";
import { type ColdLoadRow, measureColdLoads } from "./coldload";
import { type CrashWindowResult, measureCrashWindow, type WindowStats } from "./crash-window";
import { defaultArchiveDependencies, measurePackages, type PackageSizes, REPO_ROOT } from "./packages";
import { PRICES } from "./prices";
import { QUOTAS, QUOTAS_DATE } from "./quotas";
import {
    formatApiLatency,
    formatCalls,
    formatColdLoads,
    formatPackages,
    formatThroughput,
    judge,
    TARGETS,
} from "./report";
import { runWorkload, SLEEP_SCALE, type WorkloadRunResult } from "./workload-run";

interface BenchOptions {
    runs: number;
    users: number;
    /** The round trip the throughput target is judged at (a point of the sweep). */
    roundTripMs: number;
    sweep: number[];
    sweepUsers: number;
    /** The round trip of the run whose durations the capacity model uses (in-region AWS calls take ~5–20 ms). */
    modelRoundTripMs: number;
    perDay: number;
    peak: number;
    /** Warm requests per route of the API latency phase (8). */
    apiRequests: number;
    out: string;
    stack: string;
}

/** The seed template's NotificationProcessor MemorySize (TapStack.json). */
const SEED_MEMORY_MB = 512;

function int(flag: string, raw: string | undefined, min: number, max: number): number {
    const v = Number(raw);
    if (raw === undefined || !/^\d+$/.test(raw) || v < min || v > max)
        throw new UsageError(`${flag} must be an integer from ${min} to ${max}`);
    return v;
}

const FLAGS: Record<string, (o: BenchOptions, raw: string | undefined) => void> = {
    "--runs": (o, raw) => (o.runs = int("--runs", raw, 3, 50)),
    "--users": (o, raw) => (o.users = int("--users", raw, 10, MAX_WORKLOAD_USERS)),
    "--round-trip-ms": (o, raw) => (o.roundTripMs = int("--round-trip-ms", raw, 0, 50)),
    "--sweep-users": (o, raw) => (o.sweepUsers = int("--sweep-users", raw, 10, MAX_WORKLOAD_USERS)),
    "--model-round-trip-ms": (o, raw) => (o.modelRoundTripMs = int("--model-round-trip-ms", raw, 0, 50)),
    "--per-day": (o, raw) => (o.perDay = int("--per-day", raw, 1, 1e12)),
    "--peak": (o, raw) => (o.peak = int("--peak", raw, 1, 1e8)),
    "--api-requests": (o, raw) => (o.apiRequests = int("--api-requests", raw, API_REQUESTS.min, API_REQUESTS.max)),
    "--sweep": (o, raw) => {
        const values = (raw ?? "").split(",").map((v) => int("--sweep", v.trim(), 0, 50));
        if (values.length === 0 || values.length > 6)
            throw new UsageError("--sweep takes 1 to 6 round trips, e.g. 0,2,10,50");
        o.sweep = [...new Set(values)].sort((a, b) => a - b);
    },
    "--out": (o, raw) => {
        if (!raw || raw.startsWith("--")) throw new UsageError("--out needs a file");
        o.out = path.resolve(raw);
    },
};

export function parseArgs(argv: string[]): BenchOptions {
    const options: BenchOptions = {
        runs: 10,
        users: 1000,
        roundTripMs: 2,
        sweep: [0, 2, 10, 50],
        sweepUsers: 200,
        modelRoundTripMs: 10,
        perDay: 1_000_000_000,
        peak: 100_000,
        apiRequests: API_REQUESTS.default,
        out: path.join(REPO_ROOT, "bench", "results.json"),
        stack: "prod",
    };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (flag === "--capacity") continue; // the capacity model is always part of the run
        const set = FLAGS[flag];
        if (!set)
            throw new UsageError(
                `unknown option ${flag} (options: ${[...Object.keys(FLAGS), "--capacity"].join(", ")})`,
            );
        set(options, argv[++i]);
    }
    if (!options.sweep.includes(options.roundTripMs))
        options.sweep = [...options.sweep, options.roundTripMs].sort((a, b) => a - b);
    return options;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const print = (lines: string[]) => {
    for (const l of lines) console.log(l);
};

function describeMachine() {
    const cpus = os.cpus();
    return {
        cores: cpus.length,
        cpu: cpus[0]?.model?.trim() ?? "unknown",
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
        node: process.version,
        platform: `${os.platform()} ${os.arch()}`,
    };
}

/** (5) first: the offline preview of prod is also what every other part reads the program from. */
async function previewAndGate(stack: string) {
    let t = Date.now();
    const program = await loadProgram({ stack });
    const previewMs = Date.now() - t;
    t = Date.now();
    const gate = runGate(program.result, { stack, programDir: REPO_ROOT });
    return { program, previewMs, gateMs: Date.now() - t, gate };
}

async function packageSizes(program: LoadedProgram) {
    const dependencies = await defaultArchiveDependencies();
    const packages = await measurePackages(program, dependencies);
    console.log(
        `\n(1) Package size per function, zipped bytes (deflate level 6 for all three; one build each: n=1, no spread)`,
    );
    console.log(
        `    default = CallbackFunction without codePathOptions: __index.js + ${dependencies.packages.length} packages from dependencies (${dependencies.entries.length} files, pulumi.runtime.computeCodePaths);`,
    );
    console.log(
        `    ours = the archive the program ships; floor = esbuild --bundle --minify of the same factory, @aws-sdk/* external`,
    );
    print(formatPackages(packages));
    return { dependencies, packages };
}

/** (3) + (4): the full workload at the emulators' latency, then the round-trip sweep on a smaller one. */
async function workloads(platform: LocalPlatform, options: BenchOptions) {
    console.log(`\n... workload: ${options.users} users, ours then the seed port (progress per channel)`);
    const workload = await runWorkload(platform, generateWorkload({ users: options.users, prefix: "bench" }), {
        suffix: "bench",
        roundTripMs: 0,
    });
    const sweep = new Map<number, WorkloadRunResult>();
    for (const rtt of options.sweep) {
        console.log(
            `... round-trip sweep: ${rtt} ms per API call, ${options.sweepUsers} users (${sweep.size + 1} of ${options.sweep.length})`,
        );
        sweep.set(
            rtt,
            await runWorkload(platform, generateWorkload({ users: options.sweepUsers, prefix: `rtt${rtt}` }), {
                suffix: `rtt${rtt}`,
                roundTripMs: rtt,
            }),
        );
    }
    // The capacity model's durations: the full workload again at the model's round trip (more invocations
    // per channel than the sweep's smaller workload gives).
    let modelRun = options.modelRoundTripMs === 0 ? workload : undefined;
    if (!modelRun) {
        console.log(`... capacity model run: ${options.modelRoundTripMs} ms per API call, ${options.users} users`);
        modelRun = await runWorkload(platform, generateWorkload({ users: options.users, prefix: "model" }), {
            suffix: "model",
            roundTripMs: options.modelRoundTripMs,
        });
    }
    return { workload, sweep, modelRun };
}

/** (2) cold loads, with the emulators warm (and the data the first calls read in place). */
async function coldLoads(
    platform: LocalPlatform,
    program: LoadedProgram,
    dependencies: Awaited<ReturnType<typeof defaultArchiveDependencies>>,
    runs: number,
    cores: number,
) {
    const baseEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (k.startsWith("AWS_") && v !== undefined) baseEnv[k] = v;
    console.log(`... cold loads: ${program.functions.length} functions x ${runs} runs x 3 layouts`);
    return measureColdLoads({
        functions: [...program.functions].sort((a, b) => a.name.localeCompare(b.name)),
        routes: apiRoutes(program),
        envOf: (fn) => ({
            ...platform.plane.rewriteEnv(fn.environment),
            APNS_APPLICATION_ARN: platform.apps.apns,
            FCM_APPLICATION_ARN: platform.apps.fcm,
        }),
        baseEnv,
        defaultDependencies: dependencies.entries,
        runs,
        concurrency: Math.max(1, Math.min(2, cores)),
        // Bounded in work (runs per layout); the time budget only trims samples on a very busy machine.
        budgetMs: 180_000,
        onProgress: (fn, done, of) => console.log(`    ... ${fn} (${done} of ${of})`),
    });
}

function printMeasurements(
    w: WorkloadRunResult,
    sweep: Map<number, WorkloadRunResult>,
    cold: ColdLoadRow[],
    packages: PackageSizes[],
    batchSize: number,
    stack: string,
) {
    console.log(
        `\n(2) Cold load per function: fresh processes doing require(__index.js) (= module load + init) and the first handler call, emulators warm`,
    );
    console.log(
        `    with Powertools = the shipped __index.js, Powertools from node_modules (in Lambda: the layer); without = the same with a`,
    );
    console.log(
        `    hand-rolled logger/EMF writer in its place; default = beside the default archive's node_modules (Lambda's fetch and unpack`,
    );
    console.log(
        `    of ~${(packages[0].defaultBytes / 2 ** 20).toFixed(1)} MB instead of ~${Math.round(Math.max(...packages.map((p) => p.oursBytes)) / 1024)} KB happens before init and is not in these numbers)`,
    );
    print(formatColdLoads(cold));
    console.log(
        `\n(3) API calls per delivered notification — ${w.users} users, ${w.devices} devices, ${w.requests} requests (seeded PRNG), batch size ${batchSize} (stack ${stack}),`,
    );
    console.log(
        `    ${w.throttledTokens} device tokens throttled once by the provider for both designs, backoff sleeps x${SLEEP_SCALE} for both; push 'delivered' = endpoint publishes`,
    );
    print(formatCalls(w));
    console.log(
        `    ours outcomes: ${Object.entries(w.oursStatuses)
            .map(([c, s]) => `${c} ${JSON.stringify(s)}`)
            .join("; ")}; lost ${w.lost}`,
    );
    const unmeasured = CHANNELS.filter((c) => !w.ours.some((r) => r.channel === c && r.delivered > 0));
    if (unmeasured.length)
        console.log(`    not measured (the workload delivers nothing there): ${unmeasured.join(", ")}`);
    console.log(
        `    the seed has no preferences, quiet hours or disabled-device check: it publishes to every device of every push request (DLQ ${w.seedDeadLettered})`,
    );
    console.log(`\n(4) Throughput, delivered notifications per second, one event source invocation at a time for both`);
    print(formatThroughput(w, `${w.users} users, emulator latency only (in-process; DynamoDB Local ~3–5 ms per call)`));
    for (const [rtt, run] of sweep)
        print(
            formatThroughput(
                run,
                `${run.users} users, ${rtt} ms simulated network round trip per API call, both designs`,
            ),
        );
}

function printCrashWindow(cw: CrashWindowResult | { error: string }): void {
    console.log(
        `\n(6) Crash window: provider answer -> its delivery-log row durable (a crash inside it repeats that send after the lease)`,
    );
    if ("error" in cw) {
        console.log(`    not measured: ${cw.error}`);
        return;
    }
    const f = (s: WindowStats) =>
        `median ${s.median.toFixed(1)} ms, p10–p90 ${s.p10.toFixed(1)}–${s.p90.toFixed(1)} ms, p95 ${s.p95Ms.toFixed(1)}, min–max ${s.min.toFixed(1)}–${s.max.toFixed(1)} ms (n=${s.samples} sends)`;
    console.log(`    all channels, batch size ${cw.batchSize}, round trip ${cw.roundTripMs} ms: ${f(cw.overall)}`);
    for (const [channel, s] of Object.entries(cw.perChannel)) console.log(`      ${channel.padEnd(6)} ${f(s!)}`);
}

function buildCapacity(
    program: LoadedProgram,
    w: WorkloadRunResult,
    timed: WorkloadRunResult | undefined,
    options: BenchOptions,
): CapacityModel {
    const ours = w.ours
        .map((r) =>
            measurement(
                program,
                r,
                timed?.ours.find((t) => t.channel === r.channel),
                SEED_MEMORY_MB,
            ),
        )
        .filter((m): m is ChannelMeasurement => m !== undefined);
    const seed = [measurement(program, w.seed, timed?.seed, SEED_MEMORY_MB)].filter(
        (m): m is ChannelMeasurement => m !== undefined,
    );
    return capacityModel({
        channels: CHANNELS,
        ours,
        seed,
        volume: { perDay: options.perDay, peakPerSecond: options.peak },
        prices: PRICES,
    });
}

function throughputPoints(sweep: Map<number, WorkloadRunResult>): ThroughputPoint[] {
    return [...sweep].map(([rtt, run]) => {
        const push = run.ours.find((r) => r.channel === "push")!;
        return {
            roundTripMs: rtt,
            users: run.users,
            ours: { deliveredPerSecond: push.deliveredPerSecond, perInvocation: push.perInvocation.deliveredPerSecond },
            seed: {
                deliveredPerSecond: run.seed.deliveredPerSecond,
                perInvocation: run.seed.perInvocation.deliveredPerSecond,
            },
        };
    });
}

/** The charts beside results.json: cost-per-channel.svg and throughput-vs-rtt.svg. */
function writeCharts(out: string, model: CapacityModel, points: ThroughputPoint[]): string[] {
    const dir = path.dirname(out);
    const files: [string, string][] = [
        [path.join(dir, "cost-per-channel.svg"), costChartSvg(model)],
        [path.join(dir, "throughput-vs-rtt.svg"), throughputChartSvg(points)],
    ];
    for (const [file, svg] of files) fs.writeFileSync(file, svg);
    return files.map(([file]) => path.relative(process.cwd(), file) || file);
}

/** The crash window on its own platform (it wraps the SDK clients itself); a failure is reported, not fatal. */
async function crashWindow(options: BenchOptions): Promise<CrashWindowResult | { error: string }> {
    console.log(`... crash window: ${options.users} users through the serialized senders`);
    try {
        return await measureCrashWindow({ stack: options.stack, users: options.users, roundTripMs: 0 });
    } catch (error) {
        return { error: String((error as Error).message ?? error) };
    }
}

/** (8) on its own local API and local cloud, after the others are closed; a failure is reported, not fatal. */
async function apiLatency(options: BenchOptions): Promise<ApiLatencyResult | { error: string }> {
    console.log(
        `... API latency: the local API (${options.stack}), 1 cold + ${options.apiRequests} warm requests per route`,
    );
    try {
        return await measureApiLatency({ stack: options.stack, requests: options.apiRequests });
    } catch (error) {
        return { error: String((error as Error).message ?? error) };
    }
}

function printApiLatency(api: ApiLatencyResult | { error: string }): void {
    console.log(
        `\n(8) Local HTTP API latency (npm run sandbox -- --serve in-process, SigV4-signed, one request at a time, channels ["inapp"])`,
    );
    if ("error" in api) {
        console.log(`    not measured: ${api.error}`);
        return;
    }
    print(formatApiLatency(api));
    console.log(`    ${api.note}`);
}

async function main(options: BenchOptions): Promise<number> {
    const started = Date.now();
    const machine = describeMachine();
    console.log(
        `notify bench — ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GB, load ${machine.loadAverage.join(" ")}, Node ${machine.node}, ${machine.platform}; stack ${options.stack}; offline`,
    );
    console.log(`... offline preview of ${options.stack} and the policy gate`);
    const pg = await previewAndGate(options.stack);
    const { dependencies, packages } = await packageSizes(pg.program);
    const platform = await startPlatform({ stack: options.stack });
    let runs: Awaited<ReturnType<typeof workloads>>;
    let cold: ColdLoadRow[];
    let batchSize: number;
    try {
        batchSize = platform.channelQueue("push").batchSize;
        runs = await workloads(platform, options);
        cold = await coldLoads(platform, pg.program, dependencies, options.runs, machine.cores);
    } finally {
        await platform.close();
    }
    const cw = await crashWindow(options);
    const api = await apiLatency(options);
    const { workload, sweep, modelRun } = runs;
    printMeasurements(workload, sweep, cold, packages, batchSize, options.stack);
    console.log(
        `\n(5) Offline preview + policy gate, stack ${options.stack} (one run each, n=1): preview ${seconds(pg.previewMs)} (child process: ts-node + mock runtime, ${pg.program.resources.length} resources), gate ${pg.gateMs} ms (${pg.gate.policiesRun} policies, ${pg.gate.violations.length} violations, exit ${pg.gate.exitCode})`,
    );
    printCrashWindow(cw);

    const model = buildCapacity(pg.program, workload, modelRun, options);
    const basis = `durations per delivered notification from the ${options.modelRoundTripMs} ms round-trip run (${modelRun.users} users), calls from the emulator-latency run (${workload.users} users); memory and event-source concurrency from the program (${options.stack})`;
    console.log(
        `\n(7) Capacity at ${options.perDay.toLocaleString("en-US")}/day with a ${options.peak.toLocaleString("en-US")}/s peak`,
    );
    print(formatCapacity(model, basis));
    console.log(`\n    Cost per million delivered notifications`);
    print(formatCosts(model));
    printApiLatency(api);

    const rtt = sweep.get(options.roundTripMs);
    const verdicts = judge(packages, workload, rtt, options.roundTripMs);
    printVerdicts(verdicts);
    const results = resultsJson({
        options,
        machine,
        started,
        pg,
        packages,
        cold,
        workload,
        sweep,
        modelRun,
        cw,
        api,
        model,
        basis,
        verdicts,
    });
    fs.mkdirSync(path.dirname(options.out), { recursive: true });
    fs.writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
    const charts = writeCharts(options.out, model, throughputPoints(sweep));
    console.log(
        `\nWrote ${path.relative(process.cwd(), options.out) || options.out}, ${charts.join(", ")} — ${seconds(Date.now() - started)}`,
    );
    return finish(workload, new Map([...sweep, [-1, modelRun]]), cold, options.runs);
}

interface Measured {
    options: BenchOptions;
    machine: ReturnType<typeof describeMachine>;
    started: number;
    pg: Awaited<ReturnType<typeof previewAndGate>>;
    packages: PackageSizes[];
    cold: ColdLoadRow[];
    workload: WorkloadRunResult;
    sweep: Map<number, WorkloadRunResult>;
    modelRun: WorkloadRunResult;
    cw: CrashWindowResult | { error: string };
    api: ApiLatencyResult | { error: string };
    model: CapacityModel;
    basis: string;
    verdicts: ReturnType<typeof judge>;
}

/** bench/results.json: every figure with its samples and spread. */
function resultsJson(m: Measured) {
    const {
        options,
        machine,
        started,
        pg,
        packages,
        cold,
        workload,
        sweep,
        modelRun,
        cw,
        api,
        model,
        basis,
        verdicts,
    } = m;
    const durations = [...modelRun.ours, modelRun.seed].map((r) => ({
        design: r.design,
        channel: r.channel,
        delivered: r.delivered,
        msPerDelivered: r.perInvocation.msPerDelivered,
        msPerInvocation: r.perInvocation.msPerInvocation,
    }));
    return {
        generatedAt: new Date().toISOString(),
        machine,
        stack: options.stack,
        options: { ...options, out: undefined, sleepScale: SLEEP_SCALE },
        samplesNote:
            "every figure carries its samples (n) and spread (min/p10/median/p90/max): per invocation for calls, durations and throughput, per fresh process for cold loads, per send for the crash window, per request for the API latency (its cold request: samples 1); package sizes and preview/gate times are one deterministic build or run (samples 1)",
        packages: packages.map((p) => ({ ...p, samples: 1 })),
        coldLoads: cold,
        apiCalls: {
            workload: {
                users: workload.users,
                devices: workload.devices,
                requests: workload.requests,
                throttledTokens: workload.throttledTokens,
            },
            ours: workload.ours,
            seed: workload.seed,
            oursOutcomes: workload.oursStatuses,
            notMeasured: CHANNELS.filter((c) => !workload.ours.some((r) => r.channel === c && r.delivered > 0)),
        },
        throughput: {
            emulatorLatency: {
                users: workload.users,
                oursPush: pushThroughput(workload),
                seed: seedThroughput(workload),
                ratio: workload.throughputRatio,
            },
            sweep: [...sweep].map(([roundTripMs, run]) => ({
                roundTripMs,
                users: run.users,
                oursPush: pushThroughput(run),
                seed: seedThroughput(run),
                ratio: run.throughputRatio,
            })),
        },
        previewAndGate: {
            samples: 1,
            previewMs: pg.previewMs,
            gateMs: pg.gateMs,
            resources: pg.program.resources.length,
            policies: pg.gate.policiesRun,
            violations: pg.gate.violations.length,
            exitCode: pg.gate.exitCode,
        },
        crashWindow: cw,
        apiLatency: api,
        capacity: {
            basis,
            durations,
            prices: PRICES,
            quotas: { date: QUOTAS_DATE, region: PRICES.region, values: QUOTAS },
            model,
        },
        targets: { limits: TARGETS, verdicts },
        durationMs: Date.now() - started,
    };
}

const pushThroughput = (run: WorkloadRunResult) => {
    const push = run.ours.find((r) => r.channel === "push")!;
    return {
        delivered: push.delivered,
        elapsedMs: push.elapsedMs,
        perSecond: push.deliveredPerSecond,
        perInvocation: push.perInvocation.deliveredPerSecond,
    };
};
const seedThroughput = (run: WorkloadRunResult) => ({
    delivered: run.seed.delivered,
    elapsedMs: run.seed.elapsedMs,
    perSecond: run.seed.deliveredPerSecond,
    perInvocation: run.seed.perInvocation.deliveredPerSecond,
});

function printVerdicts(verdicts: ReturnType<typeof judge>): void {
    console.log(`\nTargets (reported, not asserted):`);
    for (const v of verdicts) {
        const shown = v.target.startsWith("package <= 1 MB")
            ? `${v.value.toLocaleString("en-US")} B`
            : v.value.toFixed(3);
        console.log(`    ${v.met ? "met   " : "MISSED"} ${v.target.padEnd(52)} ${v.subject.padEnd(34)} ${shown}`);
        if (v.note) console.log(`           ${v.note}`);
    }
}

/** Exit code: 1 only when something was lost. Fewer samples than asked (a busy machine) is a note. */
function finish(
    workload: WorkloadRunResult,
    runs: Map<number, WorkloadRunResult>,
    cold: ColdLoadRow[],
    asked: number,
): number {
    const failures = [
        workload.lost > 0 && `ours lost ${workload.lost}`,
        ...[...runs].map(
            ([rtt, run]) =>
                run.lost > 0 && `ours lost ${run.lost} (${rtt < 0 ? "capacity model" : `${rtt} ms round-trip`} run)`,
        ),
    ].filter(Boolean);
    const short = cold.filter((c) => c.runs < asked);
    if (short.length > 0)
        console.log(
            `\nnote: cold loads rest on fewer samples than asked (${asked}) for ${short.map((c) => `${c.function} (${c.runs})`).join(", ")}: the machine was busy or a child failed`,
        );
    if (failures.length > 0) {
        console.error(`\nerror: ${failures.join("; ")}`);
        return 1;
    }
    return 0;
}

/**
 * `npm run bench`: parse the arguments, run, exit with the run's code. No wall-clock limit: a benchmark
 * on a busy machine reports what it measured (each phase is bounded in work, not in time); it fails only
 * when the run itself failed (something lost).
 */
export function benchCommand(argv: string[]): void {
    if (argv[0] === "--charts-from") {
        runCommand("bench", undefined, () => path.resolve(argv[1] ?? "bench/results.json"), redrawCharts);
        return;
    }
    runCommand("bench", undefined, () => parseArgs(argv), main);
}

/** `npm run bench -- --charts-from bench/results.json`: the charts again from a results file (no measuring). */
async function redrawCharts(file: string): Promise<number> {
    const results = JSON.parse(fs.readFileSync(file, "utf8"));
    const point = (p: any): ThroughputPoint => ({
        roundTripMs: p.roundTripMs,
        users: p.users,
        ours: { deliveredPerSecond: p.oursPush.perSecond, perInvocation: p.oursPush.perInvocation },
        seed: { deliveredPerSecond: p.seed.perSecond, perInvocation: p.seed.perInvocation },
    });
    const charts = writeCharts(file, results.capacity.model, results.throughput.sweep.map(point));
    console.log(`Wrote ${charts.join(", ")} from ${path.relative(process.cwd(), file) || file}`);
    return 0;
}
