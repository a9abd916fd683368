/**
 * The serialized feedback processor against the emulators: SES events (as a configuration set's SNS
 * event destination publishes them) and SNS platform-application events go to the feedback topic in
 * fauxqs, reach the feedback queue through the program's subscription, and are drained through the
 * function. Checked: delivery-log statuses, the profile's suppression flag (and that the next e-mail to
 * that user is SUPPRESSED), devices disabled through the byEndpointArn index with their summary entry.
 */
import { expect } from "chai";
import { STATUS_INDEX_ATTRIBUTE, statusIndexKey } from "../../../handlers/core/statusIndex";
import type { DeliveryStatus } from "../../../handlers/core/types";
import { createWorld, type World } from "./world";

const SES_ACCOUNT = "123456789012";
const CONFIGURATION_SET = "notify-dev";

/** The `mail` object SES puts in every event, with the sender's EmailTags as mail.tags. */
function mail(messageId: string, to: string, tags: Record<string, string>) {
    const now = new Date().toISOString();
    return {
        timestamp: now,
        source: "notifications@dev.notify.example.com",
        sourceArn: `arn:aws:ses:eu-west-1:${SES_ACCOUNT}:identity/dev.notify.example.com`,
        sendingAccountId: SES_ACCOUNT,
        messageId,
        destination: [to],
        headersTruncated: false,
        headers: [{ name: "To", value: to }],
        commonHeaders: { from: ["notifications@dev.notify.example.com"], to: [to], messageId, subject: "Hello" },
        tags: {
            "ses:configuration-set": [CONFIGURATION_SET],
            "ses:source-ip": ["192.0.2.1"],
            "ses:from-domain": ["dev.notify.example.com"],
            "ses:caller-identity": ["email-sender"],
            ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, [v]])),
        },
    };
}

describe("emulator: serialized feedback processor", function () {
    this.timeout(120_000);
    let world: World;
    /** notificationId -> SES message id of the e-mail sent for it. */
    const sent = new Map<string, { messageId: string; to: string; userId: string }>();

    const sendEmail = async (notificationId: string, userId: string) => {
        await world.publishRequest({ notificationId, userId, channels: ["email"], subject: "Hello", body: "Body" });
        const report = await world.drain("email");
        expect(report.failedDeliveries).to.equal(0);
    };

    const sesEvent = (notificationId: string, eventType: string, detail: Record<string, unknown> = {}) => {
        const s = sent.get(notificationId)!;
        return {
            eventType,
            mail: mail(s.messageId, s.to, { notificationId, userId: s.userId, channel: "email" }),
            ...detail,
        };
    };

    const status = async (notificationId: string, userId: string) =>
        (await world.plane.db.getItem(world.plane.tables.deliveryLog, {
            notificationId,
            recipientKey: `email#${userId}`,
        }))!;

    before(async function () {
        world = await createWorld();
        await world.emulators.ses.clear();
        for (const [userId, email] of [
            ["fb-ann", "ann@example.com"],
            ["fb-bob", "bob@example.com"],
            ["fb-cid", "cid@example.com"],
        ]) {
            await world.seedUser({ userId, email });
        }
        const plan: [string, string][] = [
            ["fb-delivery", "fb-ann"],
            ["fb-transient", "fb-ann"],
            ["fb-delay", "fb-ann"],
            ["fb-reject", "fb-ann"],
            ["fb-render", "fb-ann"],
            ["fb-permanent", "fb-bob"],
            ["fb-complaint", "fb-cid"],
        ];
        for (const [notificationId, userId] of plan) await sendEmail(notificationId, userId);
        const emails = await world.emulators.ses.emails();
        expect(emails).to.have.length(plan.length);
        for (const [notificationId, userId] of plan) {
            const row = await status(notificationId, userId);
            expect(row.status, notificationId).to.equal("SENT");
            const email = emails.find((e) => e.messageId === row.providerMessageId)!;
            sent.set(notificationId, { messageId: email.messageId, to: email.destination.to[0], userId });
        }
    });
    after(async () => world?.close());

    it("maps every SES event type onto the delivery log, and suppresses addresses on permanent bounces and complaints", async () => {
        const t = new Date().toISOString();
        await world.publishFeedback(
            sesEvent("fb-delivery", "Delivery", {
                delivery: {
                    timestamp: t,
                    processingTimeMillis: 512,
                    recipients: ["ann@example.com"],
                    smtpResponse: "250 2.0.0 OK",
                    reportingMTA: "a8-1.smtp-out.amazonses.com",
                },
            }),
        );
        await world.publishFeedback(
            sesEvent("fb-transient", "Bounce", {
                bounce: {
                    bounceType: "Transient",
                    bounceSubType: "MailboxFull",
                    bouncedRecipients: [
                        {
                            emailAddress: "ann@example.com",
                            action: "failed",
                            status: "4.2.2",
                            diagnosticCode: "smtp; 452 4.2.2 Mailbox full",
                        },
                    ],
                    timestamp: t,
                    feedbackId: "0102-transient",
                },
            }),
        );
        await world.publishFeedback(
            sesEvent("fb-delay", "DeliveryDelay", {
                deliveryDelay: {
                    timestamp: t,
                    delayType: "TransientCommunicationFailure",
                    expirationTime: new Date(Date.now() + 86_400_000).toISOString(),
                    delayedRecipients: [
                        {
                            emailAddress: "ann@example.com",
                            status: "4.4.1",
                            diagnosticCode: "smtp; 421 4.4.1 Unable to connect",
                        },
                    ],
                },
            }),
        );
        await world.publishFeedback(sesEvent("fb-reject", "Reject", { reject: { reason: "Bad content" } }));
        await world.publishFeedback(
            sesEvent("fb-render", "Rendering Failure", {
                failure: {
                    errorMessage: "Attribute 'name' is not present in the rendering data.",
                    templateName: "welcome",
                },
            }),
        );
        await world.publishFeedback(
            sesEvent("fb-permanent", "Bounce", {
                bounce: {
                    bounceType: "Permanent",
                    bounceSubType: "General",
                    bouncedRecipients: [
                        {
                            emailAddress: "bob@example.com",
                            action: "failed",
                            status: "5.1.1",
                            diagnosticCode: "smtp; 550 5.1.1 user unknown",
                        },
                    ],
                    timestamp: t,
                    feedbackId: "0102-permanent",
                    reportingMTA: "dsn; a8-1.smtp-out.amazonses.com",
                },
            }),
        );
        await world.publishFeedback(
            sesEvent("fb-complaint", "Complaint", {
                complaint: {
                    complainedRecipients: [{ emailAddress: "cid@example.com" }],
                    timestamp: t,
                    feedbackId: "0102-complaint",
                    userAgent: "ExampleCorp Feedback Loop (V0.01)",
                    complaintFeedbackType: "abuse",
                    arrivalDate: t,
                },
            }),
        );
        const report = await world.drain("feedback");
        expect(report.failedDeliveries).to.equal(0);
        expect(report.acknowledged).to.equal(7);

        const expected: Record<string, [string, string, RegExp | undefined]> = {
            "fb-delivery": ["fb-ann", "DELIVERED", undefined],
            "fb-transient": ["fb-ann", "BOUNCED", /Transient bounce \(MailboxFull\)/],
            "fb-delay": ["fb-ann", "SENT", undefined], // SES keeps trying: nothing changes yet
            "fb-reject": ["fb-ann", "FAILED", /rejected by SES: Bad content/],
            "fb-render": ["fb-ann", "FAILED", /rendering failure: Attribute 'name'/],
            "fb-permanent": ["fb-bob", "BOUNCED", /Permanent bounce \(General\)/],
            "fb-complaint": ["fb-cid", "COMPLAINT", /complaint \(abuse\)/],
        };
        for (const [notificationId, [userId, wanted, reason]] of Object.entries(expected)) {
            const row = await status(notificationId, userId);
            expect(row.status, notificationId).to.equal(wanted);
            if (reason) expect(row.reason, notificationId).to.match(reason);
        }

        const profile = (userId: string) =>
            world.plane.db.getItem(world.plane.tables.preferences, { userId, channel: "profile" });
        expect(await profile("fb-bob")).to.include({
            emailSuppressed: true,
            emailSuppressedAddress: "bob@example.com",
        });
        expect(await profile("fb-cid")).to.include({
            emailSuppressed: true,
            emailSuppressedAddress: "cid@example.com",
        });
        expect((await profile("fb-ann"))!.emailSuppressed, "a transient bounce suppresses nothing").to.equal(undefined);
        expect(await world.dlqBodies("feedback")).to.deep.equal([]);
        // Feedback with an outcome goes to the analytics stream too.
        const feedbackLines = world.services.analytics
            .map((a) => JSON.parse(a.data))
            .filter((a) => a.type === "notification.feedback");
        expect(feedbackLines.map((l) => l.notificationId).sort()).to.deep.equal(
            ["fb-complaint", "fb-delivery", "fb-permanent", "fb-reject", "fb-render", "fb-transient"].sort(),
        );
    });

    it("puts bounced, complained and failed rows in the sharded status index, delivered and sent ones not", async () => {
        const indexed: Record<string, [string, string | undefined]> = {
            "fb-delivery": ["fb-ann", undefined],
            "fb-delay": ["fb-ann", undefined],
            "fb-transient": ["fb-ann", "BOUNCED"],
            "fb-reject": ["fb-ann", "FAILED"],
            "fb-permanent": ["fb-bob", "BOUNCED"],
            "fb-complaint": ["fb-cid", "COMPLAINT"],
        };
        for (const [notificationId, [userId, wanted]] of Object.entries(indexed)) {
            const row = await status(notificationId, userId);
            const key = wanted
                ? statusIndexKey({
                      notificationId,
                      recipientKey: `email#${userId}`,
                      channel: "email",
                      status: wanted as DeliveryStatus,
                  })
                : undefined;
            expect(row[STATUS_INDEX_ATTRIBUTE], notificationId).to.equal(key);
        }
    });

    it("a late or reordered event never moves a row backwards", async () => {
        await world.publishFeedback(
            sesEvent("fb-complaint", "Delivery", {
                delivery: { timestamp: new Date().toISOString(), recipients: ["cid@example.com"] },
            }),
        );
        await world.publishFeedback(
            sesEvent("fb-permanent", "Delivery", {
                delivery: { timestamp: new Date().toISOString(), recipients: ["bob@example.com"] },
            }),
        );
        const report = await world.drain("feedback");
        expect(report.failedDeliveries).to.equal(0);
        expect((await status("fb-complaint", "fb-cid")).status).to.equal("COMPLAINT");
        expect((await status("fb-permanent", "fb-bob")).status).to.equal("BOUNCED");
    });

    it("the next e-mail to a suppressed address is SUPPRESSED, not sent; an unsuppressed user still gets hers", async () => {
        await world.emulators.ses.clear();
        await world.publishRequest({
            notificationId: "after-bounce",
            userId: "fb-bob",
            channels: ["email"],
            subject: "Again",
            body: "b",
        });
        await world.publishRequest({
            notificationId: "after-complaint",
            userId: "fb-cid",
            channels: ["email"],
            subject: "Again",
            body: "b",
        });
        await world.publishRequest({
            notificationId: "after-transient",
            userId: "fb-ann",
            channels: ["email"],
            subject: "Again",
            body: "b",
        });
        const report = await world.drain("email");
        expect(report.failedDeliveries).to.equal(0);
        const emails = await world.emulators.ses.emails();
        expect(emails.map((e) => e.destination.to[0])).to.deep.equal(["ann@example.com"]);
        const bob = await status("after-bounce", "fb-bob");
        expect(bob.status).to.equal("SUPPRESSED");
        expect(bob.reason).to.match(/address suppressed: Permanent bounce/);
        expect((await status("after-complaint", "fb-cid")).status).to.equal("SUPPRESSED");
        expect((await status("after-transient", "fb-ann")).status).to.equal("SENT");
    });

    it("an event whose row is not written yet is retried a few receives, then acknowledged (not dead-lettered)", async () => {
        sent.set("fb-not-yet", { messageId: "0100-not-yet", to: "ann@example.com", userId: "fb-ann" });
        await world.publishFeedback(
            sesEvent("fb-not-yet", "Delivery", {
                delivery: { timestamp: new Date().toISOString(), recipients: ["ann@example.com"] },
            }),
        );
        const report = await world.drain("feedback", { retryFailuresNow: true });
        // ApproximateReceiveCount 1 and 2 fail (the sender's write may still be in flight), 3 gives up.
        expect(report.failedDeliveries).to.equal(2);
        expect(report.acknowledged).to.equal(1);
        expect(await world.dlqBodies("feedback")).to.deep.equal([]);
        expect(
            await world.plane.db.getItem(world.plane.tables.deliveryLog, {
                notificationId: "fb-not-yet",
                recipientKey: "email#fb-ann",
            }),
        ).to.equal(undefined);
    });

    it("SNS platform-endpoint events disable the device found by endpoint ARN, and its summary entry; platform-level failures disable none", async () => {
        await world.seedUser({
            userId: "fb-dev",
            devices: {
                "fb-dev-iphone": { platform: "ios", token: "tok-fb-iphone" },
                "fb-dev-pixel": { platform: "android", token: "tok-fb-pixel" },
                "fb-dev-ipad": { platform: "ios", token: "tok-fb-ipad" },
                "fb-dev-tablet": { platform: "android", token: "tok-fb-tablet" },
                "fb-dev-watch": { platform: "ios", token: "tok-fb-watch" },
                "fb-dev-mac": { platform: "ios", token: "tok-fb-mac" },
                "fb-dev-pixel2": { platform: "android", token: "tok-fb-pixel2" },
            },
        });
        const devices = world.plane.tables.devices;
        const summary = async () =>
            (await world.plane.db.getItem(devices, { userId: "fb-dev", deviceId: "#summary" }))!.devices as Record<
                string,
                any
            >;
        const arnOf = async (deviceId: string) => (await summary())[deviceId].endpointArn as string;
        const event = async (deviceId: string, extra: Record<string, unknown>) => ({
            EndpointArn: await arnOf(deviceId),
            Resource:
                deviceId.includes("pixel") || deviceId.includes("tablet")
                    ? "arn:aws:sns:eu-west-1:000000000000:app/GCM/notify-dev-android"
                    : "arn:aws:sns:eu-west-1:000000000000:app/APNS_SANDBOX/notify-dev-ios",
            Service: "SNS",
            Time: new Date().toISOString(),
            ...extra,
        });
        await world.publishFeedback(
            await event("fb-dev-iphone", {
                EventType: "DeliveryFailure",
                FailureType: "EndpointDisabled",
                FailureMessage: "Endpoint is disabled",
                DeliveryAttempts: 1,
                MessageId: "m-1",
            }),
        );
        await world.publishFeedback(await event("fb-dev-pixel", { EventType: "EndpointDeleted" }));
        await world.publishFeedback(await event("fb-dev-ipad", { EventType: "EndpointUpdated", Enabled: "false" }));
        // Needs no action: still enabled, and a transient delivery failure.
        await world.publishFeedback(await event("fb-dev-tablet", { EventType: "EndpointUpdated", Enabled: "true" }));
        await world.publishFeedback(
            await event("fb-dev-watch", {
                EventType: "DeliveryFailure",
                FailureType: "TemporaryFailure",
                FailureMessage: "service unavailable",
                DeliveryAttempts: 3,
            }),
        );
        // Platform-level failures (a disabled application, expired credentials): every device would fail
        // alike, so none is disabled; the processor logs them and counts push Failed instead.
        await world.publishFeedback(
            await event("fb-dev-mac", {
                EventType: "DeliveryFailure",
                FailureType: "PlatformApplicationDisabled",
                FailureMessage: "Platform application is disabled",
                DeliveryAttempts: 1,
            }),
        );
        await world.publishFeedback(
            await event("fb-dev-pixel2", {
                EventType: "DeliveryFailure",
                FailureType: "DeliveryFailure",
                FailureMessage: "FCM credentials expired",
                DeliveryAttempts: 1,
            }),
        );
        // An endpoint no device row points at.
        await world.publishFeedback({
            EndpointArn: "arn:aws:sns:eu-west-1:000000000000:endpoint/GCM/notify-dev-android/unknown",
            EventType: "EndpointDeleted",
        });
        const written: string[] = [];
        const write = process.stdout.write;
        process.stdout.write = ((chunk: string | Uint8Array, ...rest: any[]) => {
            written.push(String(chunk));
            return (write as any).call(process.stdout, chunk, ...rest);
        }) as typeof process.stdout.write;
        let report: Awaited<ReturnType<typeof world.drain>>;
        try {
            report = await world.drain("feedback");
        } finally {
            process.stdout.write = write;
        }
        expect(report.failedDeliveries).to.equal(0);
        const lines = written
            .join("")
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l));
        const platformErrors = lines.filter(
            (l) => l.message === "push platform application failing; no device disabled",
        );
        expect(platformErrors.map((l) => l.endpointArn).sort()).to.deep.equal(
            [await arnOf("fb-dev-mac"), await arnOf("fb-dev-pixel2")].sort(),
        );
        const failedCounts = lines.filter((l) => l._aws && l.channel === "push").map((l) => l.Failed ?? 0);
        expect(
            failedCounts.reduce((a, b) => a + b, 0),
            "push Failed counted once per platform failure",
        ).to.equal(2);
        const platformCounts = lines.filter((l) => l._aws && l.channel === "push").map((l) => l.PlatformFailure ?? 0);
        expect(
            platformCounts.reduce((a, b) => a + b, 0),
            "the metric the platform-failure alarm watches",
        ).to.equal(2);

        const row = (deviceId: string) => world.plane.db.getItem(devices, { userId: "fb-dev", deviceId });
        for (const deviceId of ["fb-dev-iphone", "fb-dev-pixel", "fb-dev-ipad"]) {
            const device = await row(deviceId);
            expect(device!.enabled, deviceId).to.equal(false);
            expect(device!.disabledReason, deviceId).to.be.a("string").and.not.equal("");
        }
        expect((await row("fb-dev-iphone"))!.disabledReason).to.match(/EndpointDisabled/);
        expect((await row("fb-dev-tablet"))!.enabled).to.equal(true);
        expect((await row("fb-dev-watch"))!.enabled).to.equal(true);
        expect((await row("fb-dev-mac"))!.enabled, "PlatformApplicationDisabled disables no device").to.equal(true);
        expect((await row("fb-dev-pixel2"))!.enabled, "expired credentials disable no device").to.equal(true);
        const entries = await summary();
        expect(Object.fromEntries(Object.entries(entries).map(([id, e]) => [id, e.enabled]))).to.deep.equal({
            "fb-dev-iphone": false,
            "fb-dev-pixel": false,
            "fb-dev-ipad": false,
            "fb-dev-tablet": true,
            "fb-dev-watch": true,
            "fb-dev-mac": true,
            "fb-dev-pixel2": true,
        });

        // The push sender now reaches only the enabled devices.
        world.standIn.pushes.splice(0);
        await world.publishRequest({
            notificationId: "fb-dev-push",
            userId: "fb-dev",
            channels: ["push"],
            title: "t",
            body: "b",
        });
        await world.drain("push");
        expect(world.standIn.pushes.map((p) => p.targetArn).sort()).to.deep.equal(
            [
                await arnOf("fb-dev-tablet"),
                await arnOf("fb-dev-watch"),
                await arnOf("fb-dev-mac"),
                await arnOf("fb-dev-pixel2"),
            ].sort(),
        );
    });
    it("an EndpointUpdated event without attributes is checked with GetEndpointAttributes: disabled or gone disables the device", async () => {
        await world.seedUser({
            userId: "fb-upd",
            devices: {
                "fb-upd-off": { platform: "ios", token: "tok-upd-off" },
                "fb-upd-on": { platform: "android", token: "tok-upd-on" },
                "fb-upd-gone": { platform: "ios", token: "tok-upd-gone" },
            },
        });
        const devices = world.plane.tables.devices;
        const summary = async () =>
            (await world.plane.db.getItem(devices, { userId: "fb-upd", deviceId: "#summary" }))!.devices as Record<
                string,
                any
            >;
        const arns = Object.fromEntries(
            Object.entries(await summary()).map(([deviceId, entry]) => [deviceId, entry.endpointArn as string]),
        );
        // What SNS did before it sent the events: APNs feedback disabled one endpoint, one was deleted.
        world.standIn.disable(arns["fb-upd-off"]);
        world.standIn.endpoints.delete(arns["fb-upd-gone"]);
        // Real EndpointUpdated events may carry no attributes at all.
        for (const deviceId of ["fb-upd-off", "fb-upd-on", "fb-upd-gone"]) {
            await world.publishFeedback({
                EndpointArn: arns[deviceId],
                EventType: "EndpointUpdated",
                Resource: "arn:aws:sns:eu-west-1:000000000000:app/APNS_SANDBOX/notify-dev-ios",
                Service: "SNS",
                Time: new Date().toISOString(),
            });
        }
        const report = await world.drain("feedback");
        expect(report.failedDeliveries).to.equal(0);
        const row = async (deviceId: string) =>
            (await world.plane.db.getItem(devices, { userId: "fb-upd", deviceId }))!;
        expect((await row("fb-upd-off")).enabled).to.equal(false);
        expect((await row("fb-upd-off")).disabledReason).to.equal("endpoint disabled by the platform");
        expect((await row("fb-upd-gone")).enabled).to.equal(false);
        expect((await row("fb-upd-gone")).disabledReason).to.equal("endpoint deleted");
        expect((await row("fb-upd-on")).enabled).to.equal(true);
        const entries = await summary();
        expect(Object.fromEntries(Object.entries(entries).map(([id, e]) => [id, e.enabled]))).to.deep.equal({
            "fb-upd-off": false,
            "fb-upd-on": true,
            "fb-upd-gone": false,
        });
    });
});
