/**
 * No outcome is ever lost: the delivery-log write failing persistently after the sends (every
 * BatchWriteItem to the delivery log answered ProvisionedThroughputExceededException by the injected
 * DynamoDB fault, past the writer's time budget). The rows go to the feedback queue as one outcome
 * message; once DynamoDB takes writes again the feedback processor replays them: every outcome lands
 * in the delivery log, nothing is sent twice (not by the batch, not by a later copy of the request).
 */
import { expect } from "chai";
import { CHANNELS, type Channel } from "../../../handlers/lib/telemetry-names";
import { createWorld, type World } from "./world";

const PROVIDER_OPERATION: Record<Channel, string> = {
    push: "Publish",
    email: "SendEmail",
    sms: "Publish",
    inapp: "PutItem",
};

describe("emulator: outcomes the delivery log would not take are queued and replayed", function () {
    this.timeout(180_000);
    let world: World;
    const provider = {
        push: () => world.standIn.pushes.length,
        sms: () => world.standIn.sms.length,
        email: async () => (await world.emulators.ses.emails()).length,
        inapp: async () => (await world.inboxItems("uo-user")).length,
    };
    const sends = async (channel: Channel) => provider[channel]();

    before(async () => {
        world = await createWorld();
        await world.emulators.ses.clear();
        await world.seedUser({
            userId: "uo-user",
            email: "uo@example.com",
            phone: "+4917055553333",
            preferences: { sms: { optIn: true } },
            devices: { "uo-phone": { platform: "android", token: "tok-uo-phone" } },
        });
    });
    after(async () => world?.close());

    for (const channel of CHANNELS) {
        it(`${channel}: sent once, the rows replayed from the feedback queue, a later copy sends nothing`, async () => {
            const notificationId = `uo-${channel}`;
            const request = {
                notificationId,
                userId: "uo-user",
                channels: [channel],
                title: "t",
                subject: "s",
                body: "b",
            };
            const logTable = world.plane.tables.deliveryLog;
            const logWritesFail = (operation: string, body: string) =>
                operation === "BatchWriteItem" && body.includes(`"${logTable}"`);
            const before = await sends(channel);
            await world.publishRequest(request);
            world.emulators.dynamodbFaults.push(logWritesFail);
            try {
                // Injected clock: plenty of time until the provider call is made, then the writer's budget is
                // nearly spent, so it gives up on the log after its first failed round (no long backoff).
                const providerCalls = () =>
                    world.counter.calls.filter((c) => c.operation === PROVIDER_OPERATION[channel]).length;
                const callsBefore = providerCalls();
                const context = { getRemainingTimeInMillis: () => (providerCalls() > callsBefore ? 1_500 : 60_000) };
                const report = await world.drain(channel, { context });
                expect(report.failedDeliveries, "the batch is acknowledged: its sends happened").to.equal(0);
            } finally {
                world.emulators.dynamodbFaults.splice(world.emulators.dynamodbFaults.indexOf(logWritesFail), 1);
            }
            expect((await sends(channel)) - before).to.equal(1);
            const claimOnly = (await world.logRows(notificationId))[0];
            expect(claimOnly.status, "only the claim reached the log").to.equal(undefined);

            await world.drain("feedback");
            const [row] = await world.logRows(notificationId);
            expect(row.status).to.equal("SENT");
            expect(row.providerMessageId).to.be.a("string");

            await world.publishRequest(request);
            await world.drain(channel);
            expect((await sends(channel)) - before, "no resend").to.equal(1);
            expect(await world.dlqBodies("feedback")).to.deep.equal([]);
        });
    }
});
