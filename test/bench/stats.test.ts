import { expect } from "chai";
import { showSpread, spread } from "../../toolkit/bench/stats";
import { invocationStats } from "../../toolkit/bench/workload-run";

describe("bench figures with their samples and spread", function () {
    it("spreads values by nearest rank, the median as the middle pair's mean", function () {
        expect(spread([5, 1, 4, 2, 3, 6, 8, 7, 10, 9])).to.deep.equal({
            samples: 10,
            min: 1,
            p10: 1,
            median: 5.5,
            p90: 9,
            max: 10,
        });
        expect(spread([]).samples).to.equal(0);
        expect(showSpread(spread([2, 4, 6]))).to.equal("4.0 (n=3, p10–p90 2.0–6.0, min–max 2.0–6.0)");
    });

    it("derives per-invocation ratios, leaving out invocations that delivered nothing", function () {
        const s = invocationStats([
            { ms: 100, calls: 55, delivered: 50 },
            { ms: 400, calls: 12, delivered: 10 },
            { ms: 30, calls: 3, delivered: 0 },
        ]);
        expect(s.invocations).to.equal(3);
        expect(s.msPerInvocation.samples).to.equal(3);
        // 100/50 = 2 ms and 400/10 = 40 ms per delivered notification
        expect(s.msPerDelivered).to.deep.include({ samples: 2, min: 2, max: 40, median: 21 });
        expect(s.callsPerDelivered).to.deep.include({ min: 1.1, max: 1.2 });
        // 50 in 0.1 s = 500/s; 10 in 0.4 s = 25/s
        expect(s.deliveredPerSecond).to.deep.include({ min: 25, max: 500 });
    });
});
