/**
 * The capacity model's inputs from a bench run (the program's memory and event-source concurrency, the
 * measured call profiles and durations) and its printed tables.
 */
import type { LoadedProgram } from "../local-cloud/program";
import type { CapacityModel, ChannelCapacity, ChannelMeasurement } from "./capacity";
import { COST_PARTS } from "./capacity";
import { PRICES } from "./prices";
import { QUOTAS_DATE } from "./quotas";
import type { DesignResult } from "./workload-run";

/** The sender's memory and its event source mapping's maximum concurrency, as the program configures them. */
export function senderSettings(
    program: LoadedProgram,
    channel: string,
): { memoryMb: number; maxConcurrency?: number } | undefined {
    let fn: ReturnType<LoadedProgram["fn"]>;
    try {
        fn = program.fn(`${channel}-sender`);
    } catch {
        return undefined;
    }
    const mapping = program
        .ofType("aws:lambda/eventSourceMapping:EventSourceMapping")
        .find((m) => fn.parent !== undefined && m.parent === fn.parent);
    const max = (mapping?.inputs as { scalingConfig?: { maximumConcurrency?: number } } | undefined)?.scalingConfig
        ?.maximumConcurrency;
    return { memoryMb: fn.memorySizeMb, maxConcurrency: max === undefined ? undefined : Number(max) };
}

/**
 * One design and channel as the model reads it: the call profile of the full workload run (calls do not
 * depend on latency) with the durations of the run at the model's round trip (`timed`, same batch size).
 */
export function measurement(
    program: LoadedProgram,
    calls: DesignResult,
    timed: DesignResult | undefined,
    seedMemoryMb: number,
): ChannelMeasurement | undefined {
    const settings = calls.design === "seed" ? { memoryMb: seedMemoryMb } : senderSettings(program, calls.channel);
    if (!settings || calls.channel === "overall") return undefined;
    return {
        design: calls.design,
        channel: calls.channel,
        function: calls.design === "seed" ? "seed NotificationProcessor" : `${calls.channel}-sender-fn`,
        memoryMb: settings.memoryMb,
        delivered: calls.delivered,
        messages: calls.messages,
        invocations: calls.invocations,
        msPerDelivered: (timed ?? calls).perInvocation.msPerDelivered,
        profile: calls.profile,
        logBytes: calls.logBytes,
        configuredMaxConcurrency: "maxConcurrency" in settings ? settings.maxConcurrency : undefined,
    };
}

const n = (x: number, d = 0) =>
    Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "n/a";
const usd = (x: number) => (x >= 100 ? `$${n(x, 0)}` : `$${n(x, x >= 1 ? 2 : 3)}`);

function channelLine(c: ChannelCapacity, label: string): string {
    if (!c.measured) return `    ${label.padEnd(16)} not measured: ${c.reason}`;
    const k = c.concurrency!;
    return `    ${label.padEnd(16)} ${n(c.peakPerSecond).padStart(8)}/s  concurrency ${n(k.median).padStart(6)} (p10–p90 ${n(k.p10)}–${n(k.p90)}, n=${k.samples} invocations)  ${Object.entries(
        c.requestsPerSecond,
    )
        .map(([op, r]) => `${op} ${n(r)}/s`)
        .join(", ")}`;
}

export function formatCapacity(model: CapacityModel, basis: string): string[] {
    const lines = [
        `    volume ${n(model.volume.perDay)}/day (average ${n(model.averagePerSecond)}/s), peak ${n(model.volume.peakPerSecond)}/s split as the workload's deliveries; ${basis}`,
        `    ${"channel".padEnd(16)} ${"peak".padStart(10)}  Lambda concurrency at peak; requests/s at peak`,
    ];
    for (const c of model.channels) lines.push(channelLine(c, `ours ${c.channel}`));
    for (const c of model.seed) lines.push(channelLine(c, `seed ${c.channel}`));
    lines.push(
        `    DynamoDB at peak (units/s; hottest key: a shared key keeps its workload share, a per-request/user key takes its own units within one second):`,
    );
    for (const t of model.tables) {
        const hot = (h: typeof t.hottestRead) =>
            h ? `${h.attribute}=${h.value.slice(0, 40)} ${n(h.unitsPerSecond, 1)}/s (${h.scope})` : "—";
        lines.push(
            `      ${t.table.padEnd(14)} reads ${n(t.readUnitsPerSecond).padStart(9)}  writes ${n(t.writeUnitsPerSecond).padStart(9)}   hottest read ${hot(t.hottestRead)}; hottest write ${hot(t.hottestWrite)}`,
        );
    }
    lines.push(`    against the default quotas (quotas.ts, read ${QUOTAS_DATE}, ${model.region}):`);
    for (const q of model.quotaChecks)
        lines.push(
            `      ${q.needsIncrease ? "INCREASE" : "ok      "} ${q.what.padEnd(72)} ${n(q.required, q.required < 10 ? 2 : 0).padStart(10)} / ${n(q.quota.value)} ${q.quota.unit}${q.needsIncrease && !q.quota.adjustable ? " (hard limit: spread the key)" : ""}`,
        );
    return lines;
}

export function formatCosts(model: CapacityModel): string[] {
    const lines = [
        `    USD per million delivered notifications, ${PRICES.region} list prices of ${PRICES.date} (prices.ts); carrier fees apart (SMS to ${PRICES.carriers.sms.destination}; APNs/FCM free)`,
        `    ${"".padEnd(16)}${COST_PARTS.map((p) => p.split(" ")[0].padStart(11)).join("")}${"AWS total".padStart(12)}${"carrier".padStart(10)}`,
    ];
    const row = (c: ChannelCapacity, label: string) =>
        c.measured
            ? `    ${label.padEnd(16)}${COST_PARTS.map((p) => usd(c.costPerMillion[p]).padStart(11)).join("")}${usd(c.awsCostPerMillion).padStart(12)}${usd(c.carrierPerMillion).padStart(10)}`
            : `    ${label.padEnd(16)}not measured${c.channel === "inapp" ? " (no provider price: Lambda, DynamoDB and the shared queue, analytics and log parts)" : ""}`;
    for (const c of model.channels) lines.push(row(c, `ours ${c.channel}`));
    for (const c of model.seed) lines.push(row(c, `seed ${c.channel}`));
    lines.push(
        `    at ${n(model.volume.perDay)}/day in the workload's mix: ${usd(model.costPerDay.aws)} per day AWS + ${usd(model.costPerDay.carrier)} carrier fees`,
    );
    return lines;
}
