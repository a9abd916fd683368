/**
 * The serialized channel senders (the __index.js each CallbackFunction ships) against the emulators:
 * requests go in through the ingress topic and the program's filter policies, come out of the channel
 * queues through drainQueue (Lambda's event source, partial batch responses), and land in the SES
 * store, the push/SMS stand-in and the delivery log.
 */
import { expect } from "chai";
import { createWorld, type World } from "./world";
import type { Channel } from "../../../handlers/lib/telemetry-names";

describe("emulator: serialized channel senders", function () {
    this.timeout(120_000);
    let world: World;

    before(async function () {
        world = await createWorld();
        await world.plane.db.putItems(world.plane.tables.templates, [
            {
                templateId: "order-shipped",
                locale: "en",
                title: "Order {{orderId}} shipped",
                body: "Your order {{orderId}} is on its way",
                subject: "Your order {{orderId}} has shipped",
                html: "<p>Order <b>{{orderId}}</b> is on its way</p>",
                text: "Order {{orderId}} is on its way",
                sms: "Order {{orderId}} shipped",
            },
        ]);
        await world.seedUser({
            userId: "ada",
            email: "ada@example.com",
            phone: "+4917012345678",
            preferences: { sms: { optIn: true } },
            devices: {
                "ada-iphone": { platform: "ios", token: "apns-token-ada" },
                "ada-pixel": { platform: "android", token: "fcm-token-ada" },
            },
        });
        await world.seedUser({ userId: "nodevice", email: "nodevice@example.com" });
    });
    after(async () => world?.close());

    const templated = (notificationId: string, extra: Record<string, unknown> = {}) => ({
        notificationId,
        userId: "ada",
        template: "order-shipped",
        data: { orderId: "A-17" },
        ...extra,
    });

    const drainAll = async () => {
        const reports: Record<string, Awaited<ReturnType<World["drain"]>>> = {};
        for (const channel of ["push", "email", "sms"] as Channel[]) reports[channel] = await world.drain(channel);
        return reports;
    };

    const reset = async () => {
        await world.emulators.ses.clear();
        world.standIn.pushes.splice(0);
        world.standIn.sms.splice(0);
        world.counter.reset();
    };

    it("end to end: one request reaches every channel once, is logged SENT, leaves the DLQs empty; API calls per delivery", async () => {
        await reset();
        await world.publishRequest(templated("e2e-1"));
        // Drained one channel at a time, so each channel's API calls are counted on their own.
        const reports: Record<string, Awaited<ReturnType<World["drain"]>>> = {};
        const callsPerChannel: Record<string, Record<string, number>> = {};
        for (const channel of ["push", "email", "sms"] as Channel[]) {
            world.counter.reset();
            reports[channel] = await world.drain(channel);
            callsPerChannel[channel] = world.counter.byOperation();
        }

        const emails = await world.emulators.ses.emails();
        expect(emails).to.have.length(1);
        expect(emails[0].destination.to).to.deep.equal(["ada@example.com"]);
        expect(emails[0].subject).to.equal("Your order A-17 has shipped");
        expect(emails[0].body.html).to.contain("<b>A-17</b>");
        expect(emails[0].body.text).to.contain("Order A-17 is on its way");

        const pushes = world.standIn.pushes;
        expect(pushes.map((p) => p.platform).sort()).to.deep.equal(["APNS_SANDBOX", "GCM"]);
        const apns = pushes.find((p) => p.platform === "APNS_SANDBOX")!.payload;
        expect(apns.aps.alert).to.deep.include({ title: "Order A-17 shipped", body: "Your order A-17 is on its way" });
        expect(world.standIn.sms.map((s) => [s.phoneNumber, s.message])).to.deep.equal([
            ["+4917012345678", "Order A-17 shipped"],
        ]);
        expect(world.standIn.sms[0].attributes["AWS.SNS.SMS.SMSType"]).to.equal("Transactional");

        const rows = await world.logRows("e2e-1");
        const byChannel = Object.fromEntries(rows.map((r) => [r.channel, r]));
        expect(Object.keys(byChannel).sort()).to.deep.equal(["email", "push", "sms"]);
        for (const row of rows) expect(row.status, row.recipientKey).to.equal("SENT");
        expect(byChannel.email.providerMessageId).to.equal(emails[0].messageId);

        for (const channel of ["push", "email", "sms"]) {
            expect(reports[channel].failedDeliveries, channel).to.equal(0);
            expect(await world.dlqBodies(channel as Channel), channel).to.deep.equal([]);
        }
        // The calls each channel's function made for this one delivered notification (deterministic
        // counts, printed for the issue note): one batch read, one claim transaction, the provider
        // call(s), one batch write, one analytics batch; SMS also reads the opted-out list once per cold start.
        for (const [channel, calls] of Object.entries(callsPerChannel)) {
            const total = Object.values(calls).reduce((a, b) => a + b, 0);
            console.log(
                `      API calls for 1 delivered notification on ${channel}: ${total} ${JSON.stringify(calls)}`,
            );
        }
        expect(callsPerChannel).to.deep.equal({
            push: {
                "DynamoDB.BatchGetItem": 1,
                "SNS.Publish": 2,
                "DynamoDB.BatchWriteItem": 1,
                "DynamoDB.TransactWriteItems": 1,
                "Firehose.PutRecordBatch": 1,
            },
            email: {
                "DynamoDB.BatchGetItem": 1,
                "SESv2.SendEmail": 1,
                "DynamoDB.BatchWriteItem": 1,
                "DynamoDB.TransactWriteItems": 1,
                "Firehose.PutRecordBatch": 1,
            },
            sms: {
                "DynamoDB.BatchGetItem": 1,
                "SNS.ListPhoneNumbersOptedOut": 1,
                "SNS.Publish": 1,
                "DynamoDB.BatchWriteItem": 1,
                "DynamoDB.TransactWriteItems": 1,
                "Firehose.PutRecordBatch": 1,
            },
        });
    });

    it("redelivery: the same request processed again sends nothing twice", async () => {
        await reset();
        await world.publishRequest(templated("redeliver-1"));
        await world.publishRequest(templated("redeliver-1"));
        await drainAll();
        await world.publishRequest(templated("redeliver-1"));
        await drainAll();
        expect(await world.emulators.ses.emails()).to.have.length(1);
        expect(world.standIn.pushes).to.have.length(2); // two devices, once each
        expect(world.standIn.sms).to.have.length(1);
        const rows = await world.logRows("redeliver-1");
        expect(rows.map((r) => r.status)).to.deep.equal(["SENT", "SENT", "SENT"]);
    });

    it("bad input in a batch is recorded FAILED and acknowledged; the valid request beside it is delivered", async () => {
        await reset();
        await world.publishRequest({}, { raw: "this is not JSON" });
        await world.publishRequest({ notificationId: "bad-types", userId: 42, body: ["x"] });
        await world.publishRequest({
            notificationId: "bad-user",
            userId: "nobody-here",
            channels: ["email"],
            subject: "s",
            body: "b",
        });
        await world.publishRequest({
            notificationId: "bad-devices",
            userId: "nodevice",
            channels: ["push"],
            title: "t",
            body: "b",
        });
        await world.publishRequest({
            notificationId: "bad-var",
            userId: "ada",
            channels: ["email"],
            template: "order-shipped",
            data: {},
        });
        await world.publishRequest({
            notificationId: "bad-past",
            userId: "ada",
            channels: ["email"],
            body: "b",
            subject: "s",
            sendAt: "2001-01-01T00:00:00Z",
        });
        await world.publishRequest({
            notificationId: "good-1",
            userId: "ada",
            channels: ["email"],
            subject: "Hello",
            body: "Plain body",
        });
        const reports = await drainAll();

        for (const channel of ["push", "email", "sms"]) {
            expect(reports[channel].failedDeliveries, `${channel} retried a bad record`).to.equal(0);
            expect(await world.dlqBodies(channel as Channel), channel).to.deep.equal([]);
        }
        const emails = await world.emulators.ses.emails();
        expect(emails.map((e) => e.subject)).to.deep.equal(["Hello"]);
        for (const id of ["bad-user", "bad-devices", "bad-var", "bad-past"]) {
            const rows = await world.logRows(id);
            expect(rows, id).to.have.length.greaterThan(0);
            for (const row of rows) {
                expect(row.status, id).to.equal("FAILED");
                expect(row.reason, id).to.be.a("string").and.not.equal("");
            }
        }
        expect((await world.logRows("good-1")).map((r) => r.status)).to.deep.equal(["SENT"]);
    });

    it("a disabled endpoint is not retried: the device is marked disabled and the other device still gets the push", async () => {
        await reset();
        await world.seedUser({
            userId: "grace",
            devices: {
                "grace-old": { platform: "ios", token: "old-token" },
                "grace-new": { platform: "android", token: "new-token" },
            },
        });
        const summary = await world.plane.db.getItem(world.plane.tables.devices, {
            userId: "grace",
            deviceId: "#summary",
        });
        world.standIn.disable((summary!.devices as any)["grace-old"].endpointArn);
        await world.publishRequest({
            notificationId: "disabled-1",
            userId: "grace",
            channels: ["push"],
            title: "t",
            body: "b",
        });
        const report = await world.drain("push");
        expect(report.failedDeliveries).to.equal(0);
        expect(world.standIn.pushes.map((p) => p.platform)).to.deep.equal(["GCM"]);
        const after = await world.plane.db.getItem(world.plane.tables.devices, {
            userId: "grace",
            deviceId: "#summary",
        });
        expect((after!.devices as any)["grace-old"].enabled).to.equal(false);
    });

    it("SMS to an opted-out number is SUPPRESSED, not sent", async () => {
        await reset();
        await world.seedUser({ userId: "optout", phone: "+4917099999999", preferences: { sms: { optIn: true } } });
        world.standIn.optedOut.add("+4917099999999");
        await world.publishRequest({ notificationId: "optout-1", userId: "optout", channels: ["sms"], body: "hello" });
        await world.drain("sms");
        expect(world.standIn.sms).to.have.length(0);
        expect((await world.logRows("optout-1")).map((r) => r.status)).to.deep.equal(["SUPPRESSED"]);
    });
});
