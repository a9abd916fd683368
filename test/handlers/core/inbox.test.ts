import { expect } from "chai";
import { inboxItemId, parseInboxItemId } from "../../../handlers/core/inbox";

describe("inbox item ids", () => {
    it("pads the time to 13 digits so ids sort by time", () => {
        expect(inboxItemId(5, "n-1")).to.equal("0000000000005_n-1");
        expect(inboxItemId(1_796_000_000_000, "a") < inboxItemId(1_796_000_000_001, "a")).to.equal(true);
    });

    it("round-trips through parseInboxItemId", () => {
        expect(parseInboxItemId(inboxItemId(1_796_587_330_413, "order_1234"))).to.deep.equal({
            queuedAtMs: 1_796_587_330_413,
            notificationId: "order_1234",
        });
    });

    it("refuses ids that are not item ids", () => {
        for (const bad of ["", "123_n", "1796587330413-n", "1796587330413_", "1796587330413_a#b", "x".repeat(200)]) {
            expect(parseInboxItemId(bad), bad).to.equal(undefined);
        }
    });

    it("refuses a notification id outside the contract and a time past 13 digits", () => {
        expect(() => inboxItemId(1, "a#b")).to.throw(RangeError);
        expect(() => inboxItemId(10_000_000_000_000, "a")).to.throw(RangeError);
    });
});
