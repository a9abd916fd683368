/**
 * Hand-written SVG charts next to bench/results.json: the cost breakdown per channel (one 100 %-stacked
 * bar per channel, its total written beside it, so SMS's dollars and push's cents both stay readable) and
 * throughput against the simulated network round trip (ours vs the seed port, median of the run with the
 * p10–p90 of its invocations as whiskers). No dependency: strings in, strings out.
 */
import { COST_PARTS, type CapacityModel, type ChannelCapacity } from "./capacity";
import type { Spread } from "./stats";

const COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"];
const CARRIER_COLOR = "#9c9c9c";

export const escapeXml = (s: string) =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const money = (x: number) => (x >= 100 ? `$${x.toFixed(0)}` : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toFixed(3)}`);
const text = (x: number, y: number, s: string, attrs = "") =>
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${escapeXml(s)}</text>`;

function costBar(c: ChannelCapacity, label: string, y: number, x0: number, width: number): string {
    const total = c.awsCostPerMillion + c.carrierPerMillion;
    const parts = [
        `<g class="bar" data-channel="${escapeXml(c.channel)}" data-design="${c.design}" data-total="${total.toFixed(6)}">`,
    ];
    parts.push(text(x0 - 10, y + 17, label, 'text-anchor="end"'));
    if (!c.measured) {
        parts.push(
            `<rect x="${x0}" y="${y}" width="${width}" height="26" fill="none" stroke="#bbb" stroke-dasharray="4 3"/>`,
        );
        parts.push(text(x0 + 10, y + 17, "not measured (the bench workload does not cover it)", 'fill="#777"'));
        return `${parts.join("")}</g>`;
    }
    let x = x0;
    const segments: [string, number, string][] = [
        ...COST_PARTS.map((p, i): [string, number, string] => [p, c.costPerMillion[p], COLORS[i % COLORS.length]]),
        ["carrier fee (apart)", c.carrierPerMillion, CARRIER_COLOR],
    ];
    for (const [name, value, color] of segments) {
        if (value <= 0 || total <= 0) continue;
        const w = (value / total) * width;
        parts.push(
            `<rect class="segment" data-part="${escapeXml(name)}" x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="26" fill="${color}"><title>${escapeXml(`${name}: ${money(value)} per million`)}</title></rect>`,
        );
        x += w;
    }
    parts.push(
        text(
            x0 + width + 10,
            y + 17,
            `${money(c.awsCostPerMillion)} AWS${c.carrierPerMillion > 0 ? ` + ${money(c.carrierPerMillion)} carrier` : ""}`,
        ),
    );
    return `${parts.join("")}</g>`;
}

export function costChartSvg(model: CapacityModel): string {
    const rows: [ChannelCapacity, string][] = [
        ...model.channels.map((c): [ChannelCapacity, string] => [c, `ours ${c.channel}`]),
        ...model.seed.map((c): [ChannelCapacity, string] => [c, `seed port ${c.channel}`]),
    ];
    const x0 = 150;
    const width = 440;
    const top = 60;
    const height = top + rows.length * 40 + 100;
    const out = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="820" height="${height}" viewBox="0 0 820 ${height}" font-family="sans-serif" font-size="13">`,
        `<rect width="820" height="${height}" fill="#fff"/>`,
        text(
            20,
            24,
            `Cost per million delivered notifications, by part (USD, ${model.region} list prices of ${model.pricesDate})`,
            'font-size="15" font-weight="bold"',
        ),
        text(
            20,
            44,
            "Each bar is 100 % of its channel's cost; the total is written beside it. Carrier fees are paid to others, shown apart.",
            'fill="#555"',
        ),
    ];
    rows.forEach(([c, label], i) => {
        out.push(costBar(c, label, top + i * 40, x0, width));
    });
    const legendY = top + rows.length * 40 + 20;
    [...COST_PARTS, "carrier fee (apart)"].forEach((p, i) => {
        const x = 20 + (i % 3) * 260;
        const y = legendY + Math.floor(i / 3) * 22;
        out.push(
            `<rect x="${x}" y="${y}" width="12" height="12" fill="${i < COST_PARTS.length ? COLORS[i % COLORS.length] : CARRIER_COLOR}"/>`,
        );
        out.push(text(x + 18, y + 11, p));
    });
    out.push("</svg>");
    return `${out.join("\n")}\n`;
}

export interface ThroughputPoint {
    roundTripMs: number;
    users: number;
    ours: { deliveredPerSecond: number; perInvocation: Spread };
    seed: { deliveredPerSecond: number; perInvocation: Spread };
}

function axisLabels(
    points: ThroughputPoint[],
    maxY: number,
    xOf: (i: number) => number,
    yOf: (v: number) => number,
    box: { left: number; right: number; bottom: number; w: number; h: number },
): string[] {
    const { left, right, bottom, w, h } = box;
    const out: string[] = [];
    for (let k = 0; k <= 4; k++) {
        const v = (maxY * k) / 4;
        out.push(
            `<line x1="${left - 4}" y1="${yOf(v).toFixed(1)}" x2="${w - right}" y2="${yOf(v).toFixed(1)}" stroke="#eee"/>`,
        );
        out.push(text(left - 8, yOf(v) + 4, v.toFixed(0), 'text-anchor="end" fill="#555"'));
    }
    points.forEach((p, i) => {
        out.push(text(xOf(i), h - bottom + 20, `${p.roundTripMs} ms`, 'text-anchor="middle"'));
    });
    out.push(
        text(
            (left + w - right) / 2,
            h - 12,
            "simulated round trip per API call (both designs)",
            'text-anchor="middle" fill="#555"',
        ),
    );
    return out;
}

export function throughputChartSvg(points: ThroughputPoint[]): string {
    const w = 720;
    const h = 400;
    const left = 70;
    const right = 170;
    const top = 60;
    const bottom = 60;
    const maxY = Math.max(
        1,
        ...points.flatMap((p) => [
            p.ours.deliveredPerSecond,
            p.seed.deliveredPerSecond,
            p.ours.perInvocation.p90 || 0,
            p.seed.perInvocation.p90 || 0,
        ]),
    );
    const step = (w - left - right) / Math.max(1, points.length - 1);
    const xOf = (i: number) => left + i * step;
    const yOf = (v: number) => top + (h - top - bottom) * (1 - v / maxY);
    const out = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="13">`,
        `<rect width="${w}" height="${h}" fill="#fff"/>`,
        text(
            20,
            24,
            "Push throughput against the round trip per API call (delivered/s)",
            'font-size="15" font-weight="bold"',
        ),
        text(
            20,
            44,
            "Points: the whole run; whiskers: p10–p90 of its invocations. One invocation at a time for both designs.",
            'fill="#555"',
        ),
        `<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" stroke="#333"/>`,
        `<line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" stroke="#333"/>`,
    ];
    out.push(...axisLabels(points, maxY, xOf, yOf, { left, right, bottom, w, h }));
    const series: ["ours" | "seed", string, string][] = [
        ["ours", "#4e79a7", "ours (push sender)"],
        ["seed", "#e15759", "seed port"],
    ];
    for (const [design, color, label] of series) {
        const coords = points.map((p, i) => `${xOf(i).toFixed(1)},${yOf(p[design].deliveredPerSecond).toFixed(1)}`);
        out.push(`<g class="series" data-design="${design}">`);
        out.push(`<polyline points="${coords.join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`);
        points.forEach((p, i) => {
            const s = p[design].perInvocation;
            if (s.samples > 1)
                out.push(
                    `<line x1="${xOf(i).toFixed(1)}" y1="${yOf(s.p10).toFixed(1)}" x2="${xOf(i).toFixed(1)}" y2="${yOf(s.p90).toFixed(1)}" stroke="${color}" stroke-width="1.5" opacity="0.6"/>`,
                );
            out.push(
                `<circle class="point" cx="${xOf(i).toFixed(1)}" cy="${yOf(p[design].deliveredPerSecond).toFixed(1)}" r="4" fill="${color}"><title>${escapeXml(`${label}, ${p.roundTripMs} ms: ${p[design].deliveredPerSecond.toFixed(0)}/s (${s.samples} invocations)`)}</title></circle>`,
            );
        });
        out.push("</g>");
    }
    series.forEach(([, color, label], i) => {
        out.push(`<rect x="${w - right + 15}" y="${top + i * 22}" width="12" height="12" fill="${color}"/>`);
        out.push(text(w - right + 33, top + i * 22 + 11, label));
    });
    out.push("</svg>");
    return `${out.join("\n")}\n`;
}
