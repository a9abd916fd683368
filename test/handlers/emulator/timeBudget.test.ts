/**
 * The time guard through the serialized senders: an invocation with less time left than a provider call
 * plus the bookkeeping reserve makes no provider call; its records are reported in batchItemFailures
 * (PENDING rows, so a redelivery sends them), and with time enough the redelivery sends each once.
 */
import { expect } from "chai";
import { SEND_TIME_GUARD_MS } from "../../../handlers/lib/backoff";
import { CHANNELS } from "../../../handlers/lib/telemetry-names";
import { drainQueue } from "../../../toolkit/local-cloud/drain";
import { createWorld, REGION, type World } from "./world";

const PROVIDER_CALLS: Record<(typeof CHANNELS)[number], [string, string]> = {
    push: ["SNS", "Publish"],
    email: ["SESv2", "SendEmail"],
    sms: ["SNS", "Publish"],
    inapp: ["DynamoDB", "PutItem"],
};

describe("emulator: a sender nearly out of time makes no provider call and leaves the records for retry", function () {
    this.timeout(120_000);
    let world: World;

    before(async function () {
        world = await createWorld();
        await world.seedUser({
            userId: "tb-user",
            email: "tb@example.com",
            phone: "+4917055551111",
            preferences: { sms: { optIn: true } },
            devices: { "tb-phone": { platform: "android", token: "tok-tb-phone" } },
        });
        await world.emulators.ses.clear();
    });
    after(async () => world?.close());

    for (const channel of CHANNELS) {
        it(`${channel}: little time left -> batchItemFailures, no ${PROVIDER_CALLS[channel].join(" ")}; then sent once`, async () => {
            const notificationId = `tb-${channel}`;
            await world.publishRequest({
                notificationId,
                userId: "tb-user",
                channels: [channel],
                title: "t",
                subject: "s",
                body: "b",
            });
            world.counter.reset();
            const providerCalls = () =>
                world.counter.calls.filter(
                    (c) => c.service === PROVIDER_CALLS[channel][0] && c.operation === PROVIDER_CALLS[channel][1],
                ).length;

            // The first receive runs nearly out of time; the redelivery (made visible at once) has time enough.
            const sender = world.sender(channel);
            let invocations = 0;
            const statusesAfterFirst: string[] = [];
            const report = await drainQueue({
                sqs: world.plane.sqs,
                queue: world.plane.queue(`messaging-${channel}`),
                region: REGION,
                retryFailuresNow: true,
                invoke: async (event) => {
                    if (invocations++ > 0) return sender.invoke(event);
                    const response = await sender.invoke(event, {
                        getRemainingTimeInMillis: () => SEND_TIME_GUARD_MS - 1,
                    });
                    expect(providerCalls(), "no provider call nearly out of time").to.equal(0);
                    statusesAfterFirst.push(...(await world.logRows(notificationId)).map((r) => r.status));
                    return response;
                },
            });
            expect(report.batches.map((b) => (b.response as any).batchItemFailures.length)).to.deep.equal([1, 0]);
            expect(statusesAfterFirst).to.deep.equal(["PENDING"]);
            expect(providerCalls()).to.equal(1);
            expect((await world.logRows(notificationId)).map((r) => r.status)).to.deep.equal(["SENT"]);
        });
    }
});
