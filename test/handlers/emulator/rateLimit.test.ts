/**
 * The hourly rate limit through the serialized SMS sender on DynamoDB Local: each claimed send is
 * counted in the claim's own TransactWriteItems (an atomic ADD, conditional on the limit), so a user
 * at the limit is suppressed by the transaction's CancellationReasons, without a counter read or write
 * of its own.
 */
import { expect } from "chai";
import { drainQueue } from "../../../toolkit/local-cloud/drain";
import { createWorld, REGION, type World } from "./world";

describe("emulator: the rate limit is counted in the claim transaction", function () {
    this.timeout(120_000);
    let world: World;

    before(async () => {
        world = await createWorld();
        await world.seedUser({ userId: "rl-user", phone: "+4917055554444", preferences: { sms: { optIn: true } } });
    });
    after(async () => world?.close());

    const drainWithLimit = async (limit: number) => {
        const sender = world.load("sms-sender", { RATE_LIMITS: JSON.stringify({ push: 20, email: 20, sms: limit }) });
        return drainQueue({
            sqs: world.plane.sqs,
            queue: world.plane.queue("messaging-sms"),
            region: REGION,
            invoke: (event) => sender.invoke(event),
        });
    };
    const publish = (notificationId: string) =>
        world.publishRequest({ notificationId, userId: "rl-user", channels: ["sms"], body: "b" });

    it("the first send counts 1; a later batch for the user at its limit is SUPPRESSED, not sent", async () => {
        await publish("rl-1");
        await drainWithLimit(1);
        await publish("rl-2");
        world.counter.reset();
        await drainWithLimit(1);
        expect(world.standIn.sms.filter((s) => s.phoneNumber === "+4917055554444")).to.have.length(1);
        const [second] = await world.logRows("rl-2");
        expect([second.status, second.reason]).to.deep.equal(["SUPPRESSED", "rate limited: 1 sms per hour"]);
        expect(world.counter.count("DynamoDB", "BatchWriteItem"), "only the log row; no counter write").to.equal(1);
        const counters = (await world.plane.db.scanAll(world.plane.tables.idempotency)).filter((r) =>
            String(r.id).startsWith("rate#sms#rl-user#"),
        );
        expect(counters.map((c) => c.count)).to.deep.equal([1]);
    });
});
