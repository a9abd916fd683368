/**
 * CreateSchedule throttled, through the serialized e-mail sender: a throttle that clears up is retried
 * with backoff within the invocation (one schedule, a DEFERRED row); a persistent one leaves the record
 * in batchItemFailures with no DEFERRED row, and its redelivery schedules it.
 */
import { expect } from "chai";
import { CreateScheduleCommand, ThrottlingException } from "@aws-sdk/client-scheduler";
import { DEFAULT_BACKOFF } from "../../../handlers/core/retry";
import { createWorld, type World } from "./world";

describe("emulator: throttled CreateSchedule through the serialized e-mail sender", function () {
    this.timeout(120_000);
    let world: World;
    /** notificationId -> how many more CreateSchedule calls for it are throttled. */
    const throttles = new Map<string, number>();
    const attempts = new Map<string, number>();

    before(async function () {
        world = await createWorld();
        const sendAt = new Date(Date.now() + 3 * 3_600_000).toISOString();
        await world.seedUser({ userId: "st-user", email: "st@example.com" });
        // The stand-in's behaviour (a name clash is a ConflictException), throttled on demand.
        world.services.scheduler.on(CreateScheduleCommand).callsFake((input: any) => {
            const id = JSON.parse(input.Target.Input).notificationId as string;
            attempts.set(id, (attempts.get(id) ?? 0) + 1);
            const left = throttles.get(id) ?? 0;
            if (left > 0) {
                throttles.set(id, left - 1);
                throw new ThrottlingException({
                    message: "Rate exceeded",
                    Message: "Rate exceeded",
                    $metadata: { httpStatusCode: 429 },
                });
            }
            world.services.schedules.set(`${input.GroupName}/${input.Name}`, input);
            return {
                ScheduleArn: `arn:aws:scheduler:eu-west-1:000000000000:schedule/${input.GroupName}/${input.Name}`,
            };
        });
        for (const id of ["st-brief", "st-long"]) {
            await world.publishRequest({
                notificationId: id,
                userId: "st-user",
                channels: ["email"],
                subject: "s",
                body: "b",
                sendAt,
            });
        }
    });
    after(async () => world?.close());

    it("backs off within the invocation; past the budget the record is retried, and its redelivery schedules it once", async () => {
        throttles.set("st-brief", 2);
        throttles.set("st-long", DEFAULT_BACKOFF.maxAttempts);
        const report = await world.drain("email", { retryFailuresNow: true });

        expect(attempts.get("st-brief")).to.equal(3);
        expect((await world.logRows("st-brief")).map((r) => r.status)).to.deep.equal(["DEFERRED"]);
        // st-long: every attempt of the first receive throttled -> reported, no row; the next receive schedules it.
        expect((report.batches[0].response as any).batchItemFailures).to.have.length(1);
        expect(attempts.get("st-long")).to.equal(DEFAULT_BACKOFF.maxAttempts + 1);
        expect(report.failedDeliveries).to.equal(1);
        expect((await world.logRows("st-long")).map((r) => r.status)).to.deep.equal(["DEFERRED"]);
        const names = [...world.services.schedules.values()]
            .map((s) => JSON.parse(s.Target.Input).notificationId)
            .sort();
        expect(names).to.deep.equal(["st-brief", "st-long"]);
    });
});
