/**
 * Every figure the bench reports carries the samples it rests on and their spread. A figure from one
 * deterministic measurement (a byte count, one preview run) says so with `samples: 1`.
 */

export interface Spread {
    samples: number;
    min: number;
    p10: number;
    median: number;
    p90: number;
    max: number;
}

/** Nearest-rank percentile of ascending values (NaN when there are none). */
export function percentile(sorted: number[], p: number): number {
    if (sorted.length === 0) return Number.NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Median as the mean of the two middle values for an even count (the usual statistical median). */
export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    if (sorted.length === 0) return Number.NaN;
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function spread(values: number[]): Spread {
    const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    return {
        samples: sorted.length,
        min: sorted[0] ?? Number.NaN,
        p10: percentile(sorted, 10),
        median: median(sorted),
        p90: percentile(sorted, 90),
        max: sorted[sorted.length - 1] ?? Number.NaN,
    };
}

/** One deterministic figure: one sample, no spread. */
export function single(value: number): Spread {
    return { samples: 1, min: value, p10: value, median: value, p90: value, max: value };
}

/** "12.3 (n=10, 11.0–14.2 p10–p90)" — how the printed tables show a figure with its spread. */
export function showSpread(s: Spread, digits = 1): string {
    if (s.samples === 0) return "n/a (0 samples)";
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");
    if (s.samples === 1) return `${f(s.median)} (n=1)`;
    return `${f(s.median)} (n=${s.samples}, p10–p90 ${f(s.p10)}–${f(s.p90)}, min–max ${f(s.min)}–${f(s.max)})`;
}
