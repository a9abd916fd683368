import { expect } from "chai";
import { UsageError } from "../../toolkit/command";
import { API_REQUESTS, warmFigures } from "../../toolkit/bench/api-latency";
import { parseArgs } from "../../toolkit/bench/cli";

describe("bench API latency phase (pure parts)", function () {
    it("--api-requests defaults to 30 and takes an integer from 1 to 500 only", function () {
        expect(parseArgs([]).apiRequests).to.equal(API_REQUESTS.default).and.to.equal(30);
        expect(parseArgs(["--api-requests", "1"]).apiRequests).to.equal(1);
        expect(parseArgs(["--api-requests", "500"]).apiRequests).to.equal(500);
        for (const bad of ["0", "501", "2.5", "-3", "ten"])
            expect(() => parseArgs(["--api-requests", bad]), bad).to.throw(
                UsageError,
                "--api-requests must be an integer from 1 to 500",
            );
        expect(() => parseArgs(["--api-requests"])).to.throw(UsageError);
    });

    it("spreads the 2xx answers only and counts every status", function () {
        const w = warmFigures([
            { status: 202, clientMs: 10, functionMs: 4, deliveryMs: 5 },
            { status: 202, clientMs: 30, functionMs: 6, deliveryMs: 20 },
            { status: 500, clientMs: 1, functionMs: 1, deliveryMs: 0 },
            { status: 202, clientMs: 20, functionMs: 5, deliveryMs: 10 },
        ]);
        expect(w).to.deep.include({ requests: 4, ok: 3, statuses: { 202: 3, 500: 1 } });
        expect(w.clientMs).to.deep.equal({ samples: 3, min: 10, p10: 10, median: 20, p90: 30, max: 30 });
        expect(w.functionMs).to.deep.include({ samples: 3, min: 4, max: 6 });
        expect(w.deliveryMs).to.deep.include({ samples: 3, median: 10 });
    });

    it("leaves a missing server timing out of the spread instead of counting it as zero", function () {
        const w = warmFigures([
            { status: 200, clientMs: 8 },
            { status: 200, clientMs: 12, functionMs: 7 },
        ]);
        expect(w.clientMs.samples).to.equal(2);
        expect(w.functionMs).to.deep.include({ samples: 1, median: 7 });
    });
});
