import { expect } from "chai";
import { deferralScheduleName } from "../../../handlers/core/deliveryLog";

describe("core/deliveryLog: deferral schedule names carry the deferral's target time", () => {
    const at = Date.parse("2026-03-29T05:00:00Z");

    it("a retry of the same deferral gets the same name (the clash means 'already scheduled')", () => {
        expect(deferralScheduleName("n1", "email", "email#u1", at)).to.equal(
            deferralScheduleName("n1", "email", "email#u1", at),
        );
        // The at-expression counts whole seconds: the same second is the same schedule.
        expect(deferralScheduleName("n1", "email", "email#u1", at + 200)).to.equal(
            deferralScheduleName("n1", "email", "email#u1", at + 900),
        );
    });

    it("a different deferral of the same recipient (sendAt that fires into quiet hours) gets a name of its own", () => {
        const first = deferralScheduleName("n1", "email", "email#u1", at);
        const second = deferralScheduleName("n1", "email", "email#u1", at + 2 * 3_600_000);
        expect(second).to.not.equal(first);
        for (const name of [first, second, deferralScheduleName("n".repeat(128), "push", "push#u1", at)]) {
            expect(name).to.match(/^[0-9A-Za-z_.-]{1,64}$/);
        }
    });
});
