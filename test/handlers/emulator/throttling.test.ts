/**
 * Throttling through the serialized push sender: the platform publish throttled (ThrottledException from
 * the SNS mock) is retried with backoff inside the invocation; when it persists, the record is reported
 * in batchItemFailures and stays on the queue, is received again (fauxqs) until maxReceiveCount sends it
 * to the DLQ, and nothing else is lost or sent twice on the way.
 */
import { expect } from "chai";
import { PublishCommand, ThrottledException } from "@aws-sdk/client-sns";
import { DEFAULT_BACKOFF } from "../../../handlers/core/retry";
import { createWorld, type World } from "./world";

describe("emulator: throttled platform publishes through the serialized push sender", function () {
    this.timeout(120_000);
    let world: World;
    const arns: Record<string, string> = {};
    const throttled = (message = "Rate exceeded") =>
        new ThrottledException({ message, $metadata: { httpStatusCode: 400 } });
    const attemptsTo = (arn: string) =>
        world.counter.calls.filter((c) => c.operation === "Publish" && c.input?.TargetArn === arn).length;

    before(async function () {
        world = await createWorld();
        await world.seedUser({
            userId: "thr-two",
            devices: {
                "thr-ok": { platform: "android", token: "tok-thr-ok" },
                "thr-busy": { platform: "ios", token: "tok-thr-busy" },
            },
        });
        await world.seedUser({
            userId: "thr-other",
            devices: { "thr-other-phone": { platform: "android", token: "tok-thr-other" } },
        });
        await world.seedUser({
            userId: "thr-brief",
            devices: { "thr-brief-phone": { platform: "ios", token: "tok-thr-brief" } },
        });
        for (const userId of ["thr-two", "thr-other", "thr-brief"]) {
            const summary = await world.plane.db.getItem(world.plane.tables.devices, { userId, deviceId: "#summary" });
            for (const [deviceId, entry] of Object.entries(summary!.devices as Record<string, any>))
                arns[deviceId] = entry.endpointArn;
        }
    });
    after(async () => world?.close());

    it("a throttle that clears up within the time budget is retried with backoff and delivered in the same invocation", async () => {
        let throttles = 0;
        world.standIn.mock.on(PublishCommand, { TargetArn: arns["thr-brief-phone"] }).callsFake(() => {
            if (throttles++ < 2) throw throttled();
            return { MessageId: "brief-ok" };
        });
        world.counter.reset();
        await world.publishRequest({
            notificationId: "thr-brief-1",
            userId: "thr-brief",
            channels: ["push"],
            title: "t",
            body: "b",
        });
        const report = await world.drain("push");
        expect(report.invocations).to.equal(1);
        expect(report.failedDeliveries).to.equal(0);
        expect(attemptsTo(arns["thr-brief-phone"])).to.equal(3);
        expect((await world.logRows("thr-brief-1")).map((r) => [r.status, r.providerMessageId])).to.deep.equal([
            ["SENT", "brief-ok"],
        ]);
    });

    it("SMS publish throttled with the query protocol's code (Throttling) is retried the same way", async () => {
        await world.seedUser({ userId: "thr-sms", phone: "+4917055550000", preferences: { sms: { optIn: true } } });
        let throttles = 0;
        world.standIn.mock.on(PublishCommand, { PhoneNumber: "+4917055550000" }).callsFake(() => {
            if (throttles++ < 2)
                throw Object.assign(new Error("Rate exceeded"), {
                    name: "Throttling",
                    $metadata: { httpStatusCode: 400 },
                });
            return { MessageId: "sms-after-throttle" };
        });
        world.counter.reset();
        await world.publishRequest({ notificationId: "thr-sms-1", userId: "thr-sms", channels: ["sms"], body: "b" });
        const report = await world.drain("sms");
        expect(report.failedDeliveries).to.equal(0);
        expect(world.counter.calls.filter((c) => c.input?.PhoneNumber === "+4917055550000")).to.have.length(3);
        expect((await world.logRows("thr-sms-1")).map((r) => [r.status, r.providerMessageId])).to.deep.equal([
            ["SENT", "sms-after-throttle"],
        ]);
    });

    it("a persistent throttle: reported in batchItemFailures on each receive, dead-lettered after maxReceiveCount; the rest delivered once", async () => {
        world.standIn.mock.on(PublishCommand, { TargetArn: arns["thr-busy"] }).callsFake(() => {
            throw throttled();
        });
        world.standIn.pushes.splice(0);
        world.counter.reset();
        await world.publishRequest({
            notificationId: "thr-1",
            userId: "thr-two",
            channels: ["push"],
            title: "t",
            body: "b",
        });
        await world.publishRequest({
            notificationId: "thr-2",
            userId: "thr-other",
            channels: ["push"],
            title: "t",
            body: "b",
        });
        const queue = world.plane.queue("messaging-push");
        const maxReceiveCount = queue.redrive!.maxReceiveCount;
        const report = await world.drain("push", { retryFailuresNow: true });

        // Each receive of thr-1 reported it failed, and only it.
        expect(report.failedDeliveries).to.equal(maxReceiveCount);
        for (const batch of report.batches) {
            const failures = (batch.response as { batchItemFailures: { itemIdentifier: string }[] }).batchItemFailures;
            expect(failures).to.have.length(1);
        }
        expect(report.acknowledged).to.equal(1);
        // Backoff inside each invocation: every attempt the policy allows, on every receive.
        expect(attemptsTo(arns["thr-busy"])).to.equal(maxReceiveCount * DEFAULT_BACKOFF.maxAttempts);

        // The DLQ holds exactly the throttled request; the other device of the same user was published to
        // on the first receive whatever order DynamoDB returns the device map in (the sender does not stop
        // at a retryable device), and only the throttled one was retried.
        const dlq = await world.dlqBodies("push");
        expect(dlq.map((b) => JSON.parse(b).notificationId)).to.deep.equal(["thr-1"]);
        expect(world.standIn.pushes.map((p) => p.targetArn).sort()).to.deep.equal(
            [arns["thr-ok"], arns["thr-other-phone"]].sort(),
        );
        const [row] = await world.logRows("thr-1");
        expect(row.status).to.equal("PENDING");
        expect(row.sentDevices).to.deep.equal(["thr-ok"]);
        expect(row.reason).to.match(/ThrottledException/);
        expect((await world.logRows("thr-2")).map((r) => r.status)).to.deep.equal(["SENT"]);
        // The other device was published to once, and not again on the redeliveries.
        expect(attemptsTo(arns["thr-ok"])).to.equal(1);
    });
});
