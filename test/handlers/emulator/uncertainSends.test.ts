/**
 * Uncertain sends through the serialized senders, with the injected fault "the provider accepted the
 * request and answered after the client's timeout": for SES a front before aws-ses-v2-local that
 * forwards the request (the e-mail is stored) and holds the answer until the SES client's own
 * requestTimeout closes the socket; for mobile push and SMS the stand-in delivers, then throws what
 * smithy throws at its requestTimeout. The policy (core/retry UNCERTAIN_SEND_POLICY): push and e-mail
 * resend once, SMS never; the row says uncertain; a later copy of the request never sends again.
 */
import { expect } from "chai";
import { startLateAnswerFront } from "../../../toolkit/local-cloud/emulators";
import type { Channel } from "../../../handlers/lib/telemetry-names";
import { createWorld, type World } from "./world";

/** UncertainSends counts in the EMF lines the invocations wrote while `run` ran. */
async function uncertainSendsDuring(run: () => Promise<unknown>): Promise<number> {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
        lines.push(String(chunk));
        return true;
    }) as typeof process.stdout.write;
    try {
        await run();
    } finally {
        process.stdout.write = write;
    }
    return lines
        .flatMap((l) => l.split("\n"))
        .filter((l) => l.includes('"UncertainSends"'))
        .reduce((sum, l) => sum + Number(JSON.parse(l).UncertainSends), 0);
}

describe("emulator: uncertain sends follow the per-channel policy", function () {
    this.timeout(120_000);
    let world: World;
    let arn = "";

    before(async () => {
        world = await createWorld();
        await world.seedUser({
            userId: "us-user",
            email: "us@example.com",
            phone: "+4917055552222",
            preferences: { sms: { optIn: true } },
            devices: { "us-phone": { platform: "android", token: "tok-us-phone" } },
        });
        const summary = await world.plane.db.getItem(world.plane.tables.devices, {
            userId: "us-user",
            deviceId: "#summary",
        });
        arn = (summary!.devices as Record<string, { endpointArn: string }>)["us-phone"].endpointArn;
    });
    after(async () => world?.close());

    const request = (notificationId: string, channel: Channel) => ({
        notificationId,
        userId: "us-user",
        channels: [channel],
        title: "t",
        subject: "s",
        body: "b",
    });
    const pushesTo = () => world.standIn.pushes.filter((p) => p.targetArn === arn).length;
    const row = async (id: string) => (await world.logRows(id))[0];

    it("push: the first publish answered late is resent once; the row is SENT and says uncertain", async () => {
        world.standIn.lateAnswers.push((input) => input.TargetArn === arn);
        const before = pushesTo();
        await world.publishRequest(request("us-push-1", "push"));
        const uncertain = await uncertainSendsDuring(async () => {
            const report = await world.drain("push");
            expect(report.failedDeliveries).to.equal(0);
        });
        expect(pushesTo() - before, "delivered by the late attempt and by the resend").to.equal(2);
        expect(uncertain).to.equal(1);
        const r = await row("us-push-1");
        expect([r.status, r.uncertain]).to.deep.equal(["SENT", true]);
    });

    it("push: the resend answered late too ends UNCERTAIN, acknowledged, and a later copy sends nothing", async () => {
        world.standIn.lateAnswers.push(
            (input) => input.TargetArn === arn,
            (input) => input.TargetArn === arn,
        );
        const before = pushesTo();
        await world.publishRequest(request("us-push-2", "push"));
        const uncertain = await uncertainSendsDuring(async () => {
            const report = await world.drain("push");
            expect(report.failedDeliveries).to.equal(0);
        });
        expect(uncertain).to.equal(2);
        const r = await row("us-push-2");
        expect([r.status, r.uncertain, r.sentDevices]).to.deep.equal(["UNCERTAIN", true, ["us-phone"]]);
        expect(r.reason).to.match(/no answer from the provider after the request was sent \(2 attempts/);
        await world.publishRequest(request("us-push-2", "push"));
        await world.drain("push");
        expect(pushesTo() - before, "two attempts, no third").to.equal(2);
        expect(await world.dlqBodies("push")).to.deep.equal([]);
    });

    it("sms: a publish answered late is never resent; the row is UNCERTAIN, and a later copy sends nothing", async () => {
        const phone = "+4917055552222";
        world.standIn.lateAnswers.push((input) => input.PhoneNumber === phone);
        const texts = () => world.standIn.sms.filter((s) => s.phoneNumber === phone).length;
        await world.publishRequest(request("us-sms-1", "sms"));
        const uncertain = await uncertainSendsDuring(async () => {
            const report = await world.drain("sms");
            expect(report.failedDeliveries).to.equal(0);
        });
        expect(uncertain).to.equal(1);
        const r = await row("us-sms-1");
        expect([r.status, r.uncertain]).to.deep.equal(["UNCERTAIN", true]);
        expect(r.reason).to.match(/TimeoutError.*not sent again/);
        await world.publishRequest(request("us-sms-1", "sms"));
        await world.drain("sms", { retryFailuresNow: true });
        expect(texts(), "the one text the provider accepted").to.equal(1);
        expect(await world.dlqBodies("sms")).to.deep.equal([]);
    });

    it("email: SES accepted and answered after the client's timeout: resent once, two e-mails, SENT uncertain", async () => {
        const front = await startLateAnswerFront(world.emulators.endpoints.sesv2);
        try {
            front.holdNext(1);
            await world.emulators.ses.clear();
            const sender = world.load("email-sender", { AWS_ENDPOINT_URL_SESV2: front.url });
            await world.publishRequest(request("us-email-1", "email"));
            const { drainQueue } = await import("../../../toolkit/local-cloud/drain");
            const uncertain = await uncertainSendsDuring(() =>
                drainQueue({
                    sqs: world.plane.sqs,
                    queue: world.plane.queue("messaging-email"),
                    region: world.emulators.endpoints.region,
                    invoke: (event) => sender.invoke(event),
                }),
            );
            expect(front.held, "the first answer never reached the client").to.equal(1);
            expect(uncertain).to.equal(1);
            const emails = (await world.emulators.ses.emails()).filter((e) =>
                e.destination.to.includes("us@example.com"),
            );
            expect(emails).to.have.length(2);
            const r = await row("us-email-1");
            expect([r.status, r.uncertain]).to.deep.equal(["SENT", true]);
        } finally {
            await front.close();
        }
    });
});
