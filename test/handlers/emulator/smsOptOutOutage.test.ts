/**
 * SMS opt-out data unavailable, through the serialized SMS sender: ListPhoneNumbersOptedOut and
 * CheckIfPhoneNumberIsOptedOut both throttled past the backoff. The batch is not thrown away: the
 * record is reported in batchItemFailures with nothing published and no row; once the listing answers
 * again, its redelivery is sent once.
 */
import { expect } from "chai";
import {
    CheckIfPhoneNumberIsOptedOutCommand,
    ListPhoneNumbersOptedOutCommand,
    ThrottledException,
} from "@aws-sdk/client-sns";
import { drainQueue } from "../../../toolkit/local-cloud/drain";
import { createWorld, REGION, type World } from "./world";

describe("emulator: SMS opt-out listing and checks throttled through the serialized SMS sender", function () {
    this.timeout(120_000);
    let world: World;
    const throttled = () => new ThrottledException({ message: "Rate exceeded", $metadata: { httpStatusCode: 400 } });

    before(async function () {
        world = await createWorld();
        await world.seedUser({ userId: "oo-user", phone: "+4917055552222", preferences: { sms: { optIn: true } } });
    });
    after(async () => world?.close());

    it("leaves the record for a retry with nothing sent; sends it once the listing is back", async () => {
        world.standIn.mock.on(ListPhoneNumbersOptedOutCommand).rejects(throttled());
        world.standIn.mock.on(CheckIfPhoneNumberIsOptedOutCommand).rejects(throttled());
        await world.publishRequest({ notificationId: "oo-1", userId: "oo-user", channels: ["sms"], body: "b" });
        world.counter.reset();
        const publishes = () =>
            world.counter.calls.filter((c) => c.operation === "Publish" && c.input?.PhoneNumber === "+4917055552222")
                .length;

        // First receive: both throttled. Then the listing answers again and the redelivery (made visible
        // at once) goes through.
        const sender = world.sender("sms");
        let invocations = 0;
        const afterFirst: { publishes: number; rows: unknown[] }[] = [];
        const report = await drainQueue({
            sqs: world.plane.sqs,
            queue: world.plane.queue("messaging-sms"),
            region: REGION,
            retryFailuresNow: true,
            invoke: async (event) => {
                if (invocations++ > 0) return sender.invoke(event);
                const response = await sender.invoke(event);
                afterFirst.push({ publishes: publishes(), rows: await world.logRows("oo-1") });
                world.standIn.mock.on(ListPhoneNumbersOptedOutCommand).resolves({ phoneNumbers: [] });
                return response;
            },
        });
        expect(report.errors).to.deep.equal([]);
        expect(report.batches.map((b) => (b.response as any).batchItemFailures.length)).to.deep.equal([1, 0]);
        expect(afterFirst).to.deep.equal([{ publishes: 0, rows: [] }]);
        expect(publishes()).to.equal(1);
        expect((await world.logRows("oo-1")).map((r) => r.status)).to.deep.equal(["SENT"]);
    });
});
