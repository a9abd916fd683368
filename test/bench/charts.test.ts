import { expect } from "chai";
import { CHANNELS } from "../../handlers/core/channels";
import { type CapacityModel, type ChannelCapacity, COST_PARTS, type CostPart } from "../../toolkit/bench/capacity";
import { costChartSvg, throughputChartSvg } from "../../toolkit/bench/charts";
import { spread } from "../../toolkit/bench/stats";
import { findAll, parseXml } from "./svg";

const costs = (over: Partial<Record<CostPart, number>>) =>
    ({ ...Object.fromEntries(COST_PARTS.map((p) => [p, 0])), ...over }) as Record<CostPart, number>;

function channel(name: string, measured: boolean, over: Partial<ChannelCapacity> = {}): ChannelCapacity {
    const costPerMillion = costs(measured ? { Lambda: 1, DynamoDB: 2 } : {});
    return {
        design: "ours",
        channel: name,
        measured,
        share: measured ? 0.5 : 0,
        peakPerSecond: 0,
        requestsPerSecond: {},
        costPerMillion,
        awsCostPerMillion: measured ? 3 : 0,
        carrierPerMillion: 0,
        ...over,
    };
}

/** Every channel of the list, the last one not measured (as a channel another branch adds would be). */
function model(): CapacityModel {
    const names = [...CHANNELS, "inapp"].filter((c, i, all) => all.indexOf(c) === i);
    return {
        volume: { perDay: 1e9, peakPerSecond: 1e5 },
        averagePerSecond: 1e9 / 86_400,
        region: "eu-west-1",
        pricesDate: "2026-12-06",
        channels: names.map((c, i) =>
            channel(
                c,
                i < names.length - 1,
                c === "sms"
                    ? {
                          carrierPerMillion: 3000,
                          costPerMillion: costs({ "Provider (SNS/SES/SMS)": 5810 }),
                          awsCostPerMillion: 5810,
                      }
                    : {},
            ),
        ),
        seed: [
            channel("push", true, {
                design: "seed",
                costPerMillion: costs({ S3: 5, CloudWatch: 10 }),
                awsCostPerMillion: 15,
            }),
        ],
        tables: [],
        quotaChecks: [],
        costPerDay: { aws: 0, carrier: 0 },
    };
}

describe("bench charts (hand-written SVG)", function () {
    it("draws a well-formed cost chart with one bar per channel of the list and the seed's apart", function () {
        const m = model();
        const svg = parseXml(costChartSvg(m));
        expect(svg.name).to.equal("svg");
        const bars = findAll(svg, (e) => e.attributes.class === "bar");
        const ours = bars
            .filter((b) => b.attributes["data-design"] === "ours")
            .map((b) => b.attributes["data-channel"]);
        expect(ours).to.deep.equal(m.channels.map((c) => c.channel));
        expect(bars.filter((b) => b.attributes["data-design"] === "seed")).to.have.length(1);
    });

    it("stacks each measured bar from its parts, the carrier fee as its own segment", function () {
        const svg = parseXml(costChartSvg(model()));
        const bar = (c: string) =>
            findAll(
                svg,
                (e) =>
                    e.attributes.class === "bar" &&
                    e.attributes["data-channel"] === c &&
                    e.attributes["data-design"] === "ours",
            )[0];
        const parts = (c: string) =>
            findAll(bar(c), (e) => e.attributes.class === "segment").map((s) => s.attributes["data-part"]);
        expect(parts("push")).to.deep.equal(["Lambda", "DynamoDB"]);
        expect(parts("sms")).to.deep.equal(["Provider (SNS/SES/SMS)", "carrier fee (apart)"]);
        const widths = findAll(bar("sms"), (e) => e.attributes.class === "segment").map((s) =>
            Number(s.attributes.width),
        );
        // 5,810 of 8,810 and 3,000 of 8,810 of the 440 px bar
        expect(widths[0]).to.be.closeTo((5810 / 8810) * 440, 0.01);
        expect(widths[1]).to.be.closeTo((3000 / 8810) * 440, 0.01);
        expect(parts("inapp")).to.deep.equal([]);
    });

    it("draws a well-formed throughput chart with a point per round trip for both designs", function () {
        const point = (rtt: number, ours: number, seed: number) => ({
            roundTripMs: rtt,
            users: 100,
            ours: { deliveredPerSecond: ours, perInvocation: spread([ours * 0.8, ours, ours * 1.2]) },
            seed: { deliveredPerSecond: seed, perInvocation: spread([seed]) },
        });
        const svg = parseXml(
            throughputChartSvg([point(0, 300, 120), point(2, 290, 60), point(10, 200, 20), point(50, 80, 5)]),
        );
        for (const design of ["ours", "seed"]) {
            const series = findAll(
                svg,
                (e) => e.attributes.class === "series" && e.attributes["data-design"] === design,
            )[0];
            expect(findAll(series, (e) => e.attributes.class === "point")).to.have.length(4);
        }
    });

    it("refuses malformed XML (the parser the tests rest on can fail)", function () {
        expect(() => parseXml("<svg><g></svg>")).to.throw(/does not close/);
        expect(() => parseXml('<svg a="1" a="2"/>')).to.throw(/repeated/);
        expect(() => parseXml("<svg>A & B</svg>")).to.throw(/entity/);
    });
});
