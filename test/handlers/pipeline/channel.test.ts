/** The one helper that turns a provider call's backoff result into a channel's delivery result. */
import { expect } from "chai";
import { deliveryResultOf, failedDelivery } from "../../../handlers/lib/pipeline/channel";

const failure = (name: string, errorClass: "throttled" | "transient" | "operational" | "permanent") => ({
    ok: false as const,
    error: Object.assign(new Error("boom"), { name }),
    errorClass,
});

describe("lib/pipeline/channel: delivery results from provider calls", () => {
    it("a successful call is SENT with the provider's message id", () => {
        expect(deliveryResultOf({ ok: true, value: { MessageId: "m-1" } })).to.deep.equal({
            status: "SENT",
            providerMessageId: "m-1",
        });
    });

    for (const errorClass of ["throttled", "transient", "operational"] as const) {
        it(`a ${errorClass} failure is RETRY with its class`, () => {
            expect(deliveryResultOf(failure("X", errorClass))).to.deep.equal({
                status: "RETRY",
                reason: "X: boom",
                errorClass,
            });
        });
    }

    it("a permanent failure is FAILED with the error as reason", () => {
        expect(deliveryResultOf(failure("InvalidParameter", "permanent"))).to.deep.equal({
            status: "FAILED",
            reason: "InvalidParameter: boom",
        });
    });

    it("keeps the devices already reached on a failure", () => {
        expect(failedDelivery(failure("Throttled", "throttled"), { sentDevices: ["d1"] })).to.deep.equal({
            status: "RETRY",
            reason: "Throttled: boom",
            errorClass: "throttled",
            sentDevices: ["d1"],
        });
    });
});
