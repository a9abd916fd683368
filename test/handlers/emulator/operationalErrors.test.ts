/**
 * Operational provider errors through the serialized senders: an SES AccessDenied (a missing IAM grant)
 * or NotFoundException (the configuration set is gone) and a disabled SNS platform application are our
 * setup's fault, not the message's. The record is reported in batchItemFailures on every receive (no
 * backoff within the invocation), its row stays PENDING (never FAILED), it ends in the DLQ where it can
 * be redriven after the fix, and the device is not disabled.
 */
import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import { NotFoundException, SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { PlatformApplicationDisabledException, PublishCommand } from "@aws-sdk/client-sns";
import { createWorld, type World } from "./world";

describe("emulator: operational provider errors are retried through the queue and DLQ, never FAILED", function () {
    this.timeout(120_000);
    let world: World;
    let ses: ReturnType<typeof mockClient>;

    before(async function () {
        world = await createWorld();
        await world.seedUser({ userId: "op-denied", email: "denied@example.com" });
        await world.seedUser({ userId: "op-noconfig", email: "noconfig@example.com" });
        await world.seedUser({
            userId: "op-push",
            devices: { "op-phone": { platform: "ios", token: "tok-op-phone" } },
        });
        ses = mockClient(SESv2Client);
        ses.on(SendEmailCommand).resolves({ MessageId: "ses-ok" });
        ses.on(SendEmailCommand, { Destination: { ToAddresses: ["denied@example.com"] } }).callsFake(() => {
            throw Object.assign(new Error("User is not authorized to perform: ses:SendEmail"), {
                name: "AccessDeniedException",
                $metadata: { httpStatusCode: 403 },
            });
        });
        ses.on(SendEmailCommand, { Destination: { ToAddresses: ["noconfig@example.com"] } }).callsFake(() => {
            throw new NotFoundException({
                message: "Configuration set <notify-dev> does not exist.",
                $metadata: { httpStatusCode: 404 },
            });
        });
    });
    after(async () => {
        ses?.restore();
        await world?.close();
    });

    it("SES AccessDenied and a missing configuration set: batchItemFailures on each receive, PENDING rows, the DLQ; the other e-mail sent once", async () => {
        await world.seedUser({ userId: "op-fine", email: "fine@example.com" });
        await world.publishRequest({
            notificationId: "op-denied-1",
            userId: "op-denied",
            channels: ["email"],
            subject: "s",
            body: "b",
        });
        await world.publishRequest({
            notificationId: "op-noconfig-1",
            userId: "op-noconfig",
            channels: ["email"],
            subject: "s",
            body: "b",
        });
        await world.publishRequest({
            notificationId: "op-fine-1",
            userId: "op-fine",
            channels: ["email"],
            subject: "s",
            body: "b",
        });
        world.counter.reset();
        const report = await world.drain("email", { retryFailuresNow: true });
        const maxReceiveCount = world.plane.queue("messaging-email").redrive!.maxReceiveCount;

        expect(report.failedDeliveries).to.equal(2 * maxReceiveCount);
        expect(report.acknowledged).to.equal(1);
        // Not retried within an invocation: one SendEmail per receive.
        const sendsTo = (to: string) =>
            ses.commandCalls(SendEmailCommand).filter((c) => c.args[0].input.Destination?.ToAddresses?.[0] === to)
                .length;
        expect(sendsTo("denied@example.com")).to.equal(maxReceiveCount);
        expect(sendsTo("noconfig@example.com")).to.equal(maxReceiveCount);
        expect(sendsTo("fine@example.com")).to.equal(1);

        for (const [id, reason] of [
            ["op-denied-1", /AccessDeniedException/],
            ["op-noconfig-1", /NotFoundException: Configuration set/],
        ] as const) {
            const rows = await world.logRows(id);
            expect(
                rows.map((r) => r.status),
                id,
            ).to.deep.equal(["PENDING"]);
            expect(rows[0].reason).to.match(reason);
        }
        expect((await world.logRows("op-fine-1")).map((r) => r.status)).to.deep.equal(["SENT"]);
        const dlq = (await world.dlqBodies("email")).map((b) => JSON.parse(b).notificationId).sort();
        expect(dlq).to.deep.equal(["op-denied-1", "op-noconfig-1"]);
    });

    it("a disabled platform application: the push record is retried, the device stays enabled", async () => {
        const summary = await world.plane.db.getItem(world.plane.tables.devices, {
            userId: "op-push",
            deviceId: "#summary",
        });
        const endpointArn = (summary!.devices as Record<string, any>)["op-phone"].endpointArn;
        world.standIn.mock.on(PublishCommand, { TargetArn: endpointArn }).callsFake(() => {
            throw new PlatformApplicationDisabledException({
                message: "Platform application is disabled.",
                $metadata: { httpStatusCode: 400 },
            });
        });
        const report = await world.drain("push"); // nothing yet: a clean start for the counts below
        expect(report.invocations).to.equal(0);
        await world.publishRequest({
            notificationId: "op-push-1",
            userId: "op-push",
            channels: ["push"],
            title: "t",
            body: "b",
        });
        const first = await world.drain("push");
        expect(first.failedDeliveries).to.equal(1);
        const [row] = await world.logRows("op-push-1");
        expect(row.status).to.equal("PENDING");
        expect(row.reason).to.match(/PlatformApplicationDisabledException/);
        const device = await world.plane.db.getItem(world.plane.tables.devices, {
            userId: "op-push",
            deviceId: "op-phone",
        });
        expect(device!.enabled).to.equal(true);
    });
});
