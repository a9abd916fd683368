/**
 * The bad inputs the channel senders test does not cover, through the ingress topic and the serialized
 * senders: unknown channel, invalid e-mail address (explicit recipients), invalid phone number
 * (explicit and on a profile), push payload above the 4 KB APNs/FCM limit. Each is recorded FAILED with
 * its reason and acknowledged; the valid recipients and requests beside them are delivered.
 */
import { expect } from "chai";
import { MAX_PUSH_PAYLOAD_BYTES } from "../../../handlers/core/push";
import type { Channel } from "../../../handlers/lib/telemetry-names";
import { createWorld, type World } from "./world";

const CHANNELS: Channel[] = ["push", "email", "sms"];

describe("emulator: bad input through the serialized senders", function () {
    this.timeout(120_000);
    let world: World;

    before(async function () {
        world = await createWorld();
        await world.seedUser({
            userId: "bi-ada",
            email: "ada@example.com",
            phone: "+4917012340000",
            preferences: { sms: { optIn: true } },
            devices: {
                "bi-iphone": { platform: "ios", token: "tok-bi-iphone" },
                "bi-pixel": { platform: "android", token: "tok-bi-pixel" },
            },
        });
        await world.seedUser({ userId: "bi-badphone", phone: "0170 1234567", preferences: { sms: { optIn: true } } });
        await world.emulators.ses.clear();

        const publish = world.publishRequest;
        await publish({ notificationId: "bi-channel", userId: "bi-ada", channels: ["fax"], body: "b" });
        await publish({
            notificationId: "bi-email",
            recipients: [{ email: "not-an-address" }, { email: "ok@example.com" }],
            channels: ["email"],
            subject: "Hi",
            body: "b",
        });
        await publish({
            notificationId: "bi-phone",
            recipients: [{ phone: "017012345" }, { phone: "+4917099990000" }],
            channels: ["sms"],
            body: "b",
        });
        await publish({ notificationId: "bi-profile-phone", userId: "bi-badphone", channels: ["sms"], body: "b" });
        await publish({
            notificationId: "bi-oversize",
            userId: "bi-ada",
            channels: ["push"],
            title: "Big",
            body: "x".repeat(MAX_PUSH_PAYLOAD_BYTES),
        });
        await publish({
            notificationId: "bi-good",
            userId: "bi-ada",
            title: "Fine",
            subject: "Fine",
            body: "all good",
        });
        world.counter.reset();
        for (const channel of CHANNELS) {
            const report = await world.drain(channel);
            expect(report.failedDeliveries, `${channel} retried bad input`).to.equal(0);
        }
    });
    after(async () => world?.close());

    /** recipientKey -> [status, reason] of a notification's delivery-log rows. */
    const rows = async (notificationId: string): Promise<Record<string, [string, string | undefined]>> =>
        Object.fromEntries((await world.logRows(notificationId)).map((r) => [r.recipientKey, [r.status, r.reason]]));

    it("unknown channel: routed to every channel queue (the filters' anything-but), FAILED on each with the reason", async () => {
        const logged = await rows("bi-channel");
        expect(Object.keys(logged).sort()).to.deep.equal(["email#bi-ada", "push#bi-ada", "sms#bi-ada"]);
        for (const [status, reason] of Object.values(logged)) {
            expect(status).to.equal("FAILED");
            expect(reason).to.match(/unknown channel 'fax'/);
        }
    });

    it("invalid e-mail address among explicit recipients: that one FAILED, the valid one sent", async () => {
        const logged = await rows("bi-email");
        expect(logged["email#not-an-address"][0]).to.equal("FAILED");
        expect(logged["email#not-an-address"][1]).to.match(/invalid e-mail address/);
        expect(logged["email#ok@example.com"][0]).to.equal("SENT");
        const to = (await world.emulators.ses.emails()).map((e) => e.destination.to[0]).sort();
        expect(to).to.deep.equal(["ada@example.com", "ok@example.com"]);
    });

    it("invalid phone numbers (explicit and on the profile) are FAILED as not E.164; the valid number gets its SMS", async () => {
        const logged = await rows("bi-phone");
        expect(logged["sms#017012345"]).to.deep.equal(["FAILED", "invalid phone number 017012345 (E.164 expected)"]);
        expect(logged["sms#+4917099990000"][0]).to.equal("SENT");
        const profile = await rows("bi-profile-phone");
        expect(profile["sms#bi-badphone"][0]).to.equal("FAILED");
        expect(profile["sms#bi-badphone"][1]).to.match(/E\.164/);
        expect(world.standIn.sms.map((s) => s.phoneNumber).sort()).to.deep.equal(["+4917012340000", "+4917099990000"]);
        // The invalid numbers never reached SNS.
        expect(
            world.counter.calls.filter((c) => c.input?.PhoneNumber && !c.input.PhoneNumber.startsWith("+")),
        ).to.deep.equal([]);
    });

    it("a push payload above 4 KB is FAILED with its size, and nothing is published for it", async () => {
        const logged = await rows("bi-oversize");
        expect(logged["push#bi-ada"][0]).to.equal("FAILED");
        expect(logged["push#bi-ada"][1]).to.match(/payload is \d+ bytes, above the 4096-byte limit/);
        const published = world.standIn.pushes.map((p) => p.payload);
        expect(published).to.have.length(2); // bi-good, once per device
        for (const payload of published) expect(JSON.stringify(payload)).to.contain("all good");
    });

    it("the valid request beside them is delivered on every channel, and no DLQ holds anything", async () => {
        const logged = await rows("bi-good");
        expect(Object.values(logged).map(([status]) => status)).to.deep.equal(["SENT", "SENT", "SENT"]);
        for (const channel of CHANNELS) expect(await world.dlqBodies(channel), channel).to.deep.equal([]);
    });
});
