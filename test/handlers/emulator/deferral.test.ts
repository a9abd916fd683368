/**
 * Deferral through the serialized e-mail sender: quiet hours in the user's time zone and a future
 * `sendAt` become a one-time EventBridge Scheduler schedule (Scheduler on aws-sdk-client-mock) that puts
 * the request back on the channel queue, with a DEFERRED row and nothing sent; priority high is sent at
 * once. The schedule's firing is then played: its input sent to the queue it targets, processed at the
 * schedule's time.
 */
import { expect } from "chai";
import { CreateScheduleCommand } from "@aws-sdk/client-scheduler";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { drainQueue } from "../../../toolkit/local-cloud/drain";
import { createWorld, REGION, type World } from "./world";

const TIME_ZONE = "Asia/Tokyo";

/** "HH:MM" in `timeZone`, `offsetMinutes` from now. */
function wallTime(offsetMinutes: number, timeZone: string): string {
    const parts = new Intl.DateTimeFormat("en-GB", {
        timeZone,
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
    }).formatToParts(new Date(Date.now() + offsetMinutes * 60_000));
    return `${parts.find((p) => p.type === "hour")!.value}:${parts.find((p) => p.type === "minute")!.value}`;
}

/** Parses Scheduler's `at(yyyy-mm-ddThh:mm:ss)` (UTC, as the sender sets ScheduleExpressionTimezone). */
const atInstant = (expression: string) => Date.parse(`${/^at\((.+)\)$/.exec(expression)![1]}Z`);

describe("emulator: deferral (quiet hours, sendAt) through the serialized e-mail sender", function () {
    this.timeout(120_000);
    let world: World;
    /** Every CreateSchedule the sender made (redeliveries included). */
    const schedules = () =>
        world.services.scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input as any);

    before(async function () {
        world = await createWorld();
        // Quiet from an hour ago until two hours from now, on the user's own clock (Tokyo, not UTC).
        await world.seedUser({
            userId: "night-owl",
            email: "owl@example.com",
            timezone: TIME_ZONE,
            preferences: {
                email: { optIn: true, quietHours: { start: wallTime(-60, TIME_ZONE), end: wallTime(120, TIME_ZONE) } },
            },
        });
        await world.seedUser({ userId: "early-bird", email: "bird@example.com", timezone: "Europe/Berlin" });
        await world.emulators.ses.clear();
    });
    after(async () => world?.close());

    it("normal priority inside quiet hours: a schedule onto the channel queue with the deferral role, a DEFERRED row, nothing sent", async () => {
        const before = Date.now();
        await world.publishRequest({
            notificationId: "quiet-1",
            userId: "night-owl",
            channels: ["email"],
            subject: "Later",
            body: "b",
        });
        const report = await world.drain("email");
        expect(report.failedDeliveries).to.equal(0);
        expect(await world.emulators.ses.emails()).to.deep.equal([]);

        const created = schedules();
        expect(created).to.have.length(1);
        const schedule = created[0];
        const email = world.program.fn("email-sender").environment;
        expect(schedule.Target.Arn).to.equal(world.plane.queue("messaging-email").arn);
        expect(schedule.Target.RoleArn).to.equal(email.DEFERRAL_ROLE_ARN);
        expect(schedule.GroupName).to.equal(email.DEFERRAL_SCHEDULE_GROUP);
        expect(schedule).to.include({ ScheduleExpressionTimezone: "UTC", ActionAfterCompletion: "DELETE" });
        expect(schedule.FlexibleTimeWindow).to.deep.equal({ Mode: "OFF" });
        // The quiet hours end about two hours from now (to the minute of the wall clock).
        const at = atInstant(schedule.ScheduleExpression);
        expect(at).to.be.greaterThan(before + 119 * 60_000 - 60_000);
        expect(at).to.be.lessThan(before + 121 * 60_000 + 60_000);
        expect(JSON.parse(schedule.Target.Input)).to.deep.include({
            notificationId: "quiet-1",
            userId: "night-owl",
            channels: ["email"],
        });

        const [row] = await world.logRows("quiet-1");
        expect(row.status).to.equal("DEFERRED");
        expect(row.reason).to.match(/quiet hours in Asia\/Tokyo/);
    });

    it("priority high inside quiet hours is sent now", async () => {
        await world.publishRequest({
            notificationId: "quiet-high",
            userId: "night-owl",
            channels: ["email"],
            subject: "Now",
            body: "b",
            priority: "high",
        });
        await world.drain("email");
        expect((await world.emulators.ses.emails()).map((e) => e.subject)).to.deep.equal(["Now"]);
        expect((await world.logRows("quiet-high")).map((r) => r.status)).to.deep.equal(["SENT"]);
        expect(schedules()).to.have.length(1); // still only quiet-1's
    });

    it("sendAt in the future is deferred to that instant, and the schedule's input carries no sendAt", async () => {
        const sendAt = new Date(Math.ceil((Date.now() + 3 * 3_600_000) / 1000) * 1000)
            .toISOString()
            .replace(/\.\d{3}Z$/, "Z");
        await world.publishRequest({
            notificationId: "later-1",
            userId: "early-bird",
            channels: ["email"],
            subject: "Later",
            body: "b",
            sendAt,
        });
        await world.drain("email");
        expect((await world.emulators.ses.emails()).map((e) => e.subject)).to.deep.equal(["Now"]);
        const schedule = schedules().find((s) => JSON.parse(s.Target.Input).notificationId === "later-1")!;
        expect(atInstant(schedule.ScheduleExpression)).to.equal(Date.parse(sendAt));
        expect(JSON.parse(schedule.Target.Input)).to.not.have.property("sendAt");
        expect((await world.logRows("later-1")).map((r) => r.status)).to.deep.equal(["DEFERRED"]);
    });

    it("the same deferred request redelivered schedules nothing new (the name clash means 'already scheduled')", async () => {
        await world.publishRequest({
            notificationId: "quiet-1",
            userId: "night-owl",
            channels: ["email"],
            subject: "Later",
            body: "b",
        });
        const report = await world.drain("email");
        expect(report.failedDeliveries).to.equal(0);
        expect(world.services.schedules.size).to.equal(2);
        expect((await world.logRows("quiet-1")).map((r) => r.status)).to.deep.equal(["DEFERRED"]);
    });

    it("when a schedule fires, its input on the channel queue is sent (once) at that time", async () => {
        const realNow = Date.now;
        for (const schedule of schedules()) {
            await world.plane.sqs.send(
                new SendMessageCommand({
                    QueueUrl: world.plane.queue("messaging-email").url,
                    MessageBody: schedule.Target.Input,
                }),
            );
        }
        const latest = Math.max(...schedules().map((s) => atInstant(s.ScheduleExpression)));
        const sender = world.sender("email");
        try {
            // The function runs at the schedules' time; the emulators keep the real clock between calls.
            const report = await drainQueue({
                sqs: world.plane.sqs,
                queue: world.plane.queue("messaging-email"),
                region: REGION,
                invoke: async (event) => {
                    Date.now = () => latest + 1_000;
                    try {
                        return await sender.invoke(event);
                    } finally {
                        Date.now = realNow;
                    }
                },
            });
            expect(report.failedDeliveries).to.equal(0);
        } finally {
            Date.now = realNow;
        }
        const subjects = (await world.emulators.ses.emails()).map((e) => `${e.destination.to[0]}: ${e.subject}`).sort();
        expect(subjects).to.deep.equal(["bird@example.com: Later", "owl@example.com: Later", "owl@example.com: Now"]);
        expect((await world.logRows("quiet-1")).map((r) => r.status)).to.deep.equal(["SENT"]);
        expect((await world.logRows("later-1")).map((r) => r.status)).to.deep.equal(["SENT"]);
    });

    it("a sendAt that fires into quiet hours is deferred again, to the quiet hours' end: a second schedule, not taken for the first", async () => {
        // Quiet from two to four hours from now on the user's clock; sendAt in three hours falls inside.
        await world.seedUser({
            userId: "late-sleeper",
            email: "sleeper@example.com",
            timezone: TIME_ZONE,
            preferences: {
                email: { optIn: true, quietHours: { start: wallTime(120, TIME_ZONE), end: wallTime(240, TIME_ZONE) } },
            },
        });
        const sendAt = new Date(Math.ceil((Date.now() + 3 * 3_600_000) / 1000) * 1000)
            .toISOString()
            .replace(/\.\d{3}Z$/, "Z");
        await world.publishRequest({
            notificationId: "twice-1",
            userId: "late-sleeper",
            channels: ["email"],
            subject: "Twice",
            body: "b",
            sendAt,
        });
        await world.drain("email");
        const mine = () => schedules().filter((s) => JSON.parse(s.Target.Input).notificationId === "twice-1");
        expect(mine()).to.have.length(1);
        expect(atInstant(mine()[0].ScheduleExpression)).to.equal(Date.parse(sendAt));

        // The first schedule fires at sendAt: the user is asleep by then.
        await world.plane.sqs.send(
            new SendMessageCommand({
                QueueUrl: world.plane.queue("messaging-email").url,
                MessageBody: mine()[0].Target.Input,
            }),
        );
        const realNow = Date.now;
        const sender = world.sender("email");
        try {
            const report = await drainQueue({
                sqs: world.plane.sqs,
                queue: world.plane.queue("messaging-email"),
                region: REGION,
                invoke: async (event) => {
                    Date.now = () => Date.parse(sendAt) + 1_000;
                    try {
                        return await sender.invoke(event);
                    } finally {
                        Date.now = realNow;
                    }
                },
            });
            expect(report.failedDeliveries).to.equal(0);
        } finally {
            Date.now = realNow;
        }
        const [first, second] = mine();
        expect(mine()).to.have.length(2);
        expect(second.Name).to.not.equal(first.Name);
        // The quiet hours end four hours from the first processing (to the minute of the wall clock).
        expect(atInstant(second.ScheduleExpression)).to.be.greaterThan(Date.parse(sendAt) + 55 * 60_000);
        expect(atInstant(second.ScheduleExpression)).to.be.lessThan(Date.parse(sendAt) + 65 * 60_000);
        expect(world.services.schedules.has(`${second.GroupName}/${second.Name}`)).to.equal(true);
        expect((await world.emulators.ses.emails()).map((e) => e.subject)).to.not.include("Twice");
        const [row] = await world.logRows("twice-1");
        expect(row.status).to.equal("DEFERRED");
        expect(row.reason).to.match(/quiet hours in Asia\/Tokyo/);
    });
});
