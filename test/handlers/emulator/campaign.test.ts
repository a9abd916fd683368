/**
 * The serialized campaign runner against the emulators: a segment seeded in the preferences table,
 * runs invoked with the input shape of the program's Scheduler schedule, PublishBatch to the ingress
 * topic in fauxqs (through the program's filter policies to the channel queues), checkpoints in the
 * idempotency table, a run out of time continuing itself through an asynchronous Invoke (Lambda mocked:
 * no emulator here runs functions), and the e-mail sender draining what the campaign published.
 */
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import { PUBLISH_BATCH_MAX_ENTRIES } from "../../../handlers/core/campaign";
import { AUDIENCE_PAGE_SIZE } from "../../../handlers/campaignRunner";
import { peekAll, queueDepth } from "../../../toolkit/local-cloud/drain";
import type { LoadedFunction } from "../../../toolkit/local-cloud/program";
import { createWorld, type World } from "./world";

const USERS = 230; // three audience pages: 100, 100, 30
const CAMPAIGN = "spring-sale";
const SEGMENT = "spring-buyers";
const SCHEDULED = "2026-03-29T09:00:00Z";

describe("emulator: serialized campaign runner", function () {
    this.timeout(180_000);
    let world: World;
    let runner: LoadedFunction;
    let input: Record<string, unknown>;
    const lambda = mockClient(LambdaClient);
    /** The continuation invokes the runner made since the mock was reset. */
    const invokes = () => lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    const userIds = Array.from({ length: USERS }, (_, i) => `cmp-${String(i).padStart(3, "0")}`);
    const expectedIds = userIds.map((u) => `${CAMPAIGN}-20260329-${u}`).sort();

    /** The PublishBatch calls the runner made since the counter was reset. */
    const publishBatches = () =>
        world.counter.calls.filter((c) => c.service === "SNS" && c.operation === "PublishBatch").map((c) => c.input);
    const publishedIds = () =>
        publishBatches().flatMap((b: any) =>
            b.PublishBatchRequestEntries.map((e: any) => JSON.parse(e.Message).notificationId as string),
        );
    const checkpoint = () =>
        world.plane.db.getItem(world.plane.tables.idempotency, { id: `campaign#${CAMPAIGN}#20260329` });

    before(async function () {
        expect(USERS).to.be.greaterThan(2 * AUDIENCE_PAGE_SIZE);
        world = await createWorld();
        runner = world.load("campaign-runner");
        // The input the program's schedule sends, with this test's campaign and the time Scheduler fills in.
        const schedules = world.program.ofType("aws:scheduler/schedule:Schedule");
        expect(schedules).to.have.length(1);
        const template = JSON.parse(schedules[0].inputs.target.input);
        expect(template.scheduledTime).to.equal("<aws.scheduler.scheduled-time>");
        input = {
            ...template,
            campaignId: CAMPAIGN,
            template: "spring-sale",
            segment: SEGMENT,
            channels: ["email"],
            scheduledTime: SCHEDULED,
        };

        await world.plane.db.putItems(world.plane.tables.templates, [
            {
                templateId: "spring-sale",
                locale: "en",
                subject: "Spring sale",
                html: "<p>Sale</p>",
                text: "Sale",
                title: "Sale",
                body: "Sale",
                sms: "Sale",
            },
        ]);
        await world.plane.db.putItems(
            world.plane.tables.preferences,
            userIds.map((userId) => ({
                userId,
                channel: "profile",
                segment: SEGMENT,
                timezone: "UTC",
                locale: "en",
                email: `${userId}@example.com`,
            })),
        );
        // Someone outside the segment is not part of the audience.
        await world.seedUser({ userId: "cmp-outsider", email: "outsider@example.com" });
        await world.emulators.ses.clear();
    });
    beforeEach(() => {
        lambda.reset();
        lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    });
    after(async () => {
        lambda.restore();
        await world?.close();
    });

    it("a run out of time checkpoints its pages, invokes itself once with the same input and returns; the continuation resumes after them; PublishBatch calls of at most 10", async () => {
        world.counter.reset();
        // The budget runs out once the first page is published (the runner keeps 15 s in reserve).
        const firstPageCalls = AUDIENCE_PAGE_SIZE / PUBLISH_BATCH_MAX_ENTRIES;
        const functionArn = "arn:aws:lambda:eu-west-1:000000000000:function:campaign-runner-1234567";
        const paused = await runner.invoke(input, {
            invokedFunctionArn: functionArn,
            getRemainingTimeInMillis: () =>
                world.counter.count("SNS", "PublishBatch") >= firstPageCalls ? 1_000 : 900_000,
        });
        expect(paused, "a pause is not an error").to.deep.equal({
            campaignId: CAMPAIGN,
            status: "PAUSED",
            publishedThisRun: AUDIENCE_PAGE_SIZE,
            publishedTotal: AUDIENCE_PAGE_SIZE,
        });
        const firstRun = publishedIds();
        expect(firstRun).to.have.length(AUDIENCE_PAGE_SIZE);
        expect(await checkpoint()).to.include({ status: "RUNNING", published: AUDIENCE_PAGE_SIZE });
        expect(invokes()).to.have.length(1);
        const [continuation] = invokes();
        expect(continuation).to.include({ FunctionName: functionArn, InvocationType: "Event" });
        const payload = JSON.parse(new TextDecoder().decode(continuation.Payload as Uint8Array));
        expect(payload, "the same input, nothing added").to.deep.equal(input);

        // Lambda delivers the continuation: the same event, a fresh invocation.
        world.counter.reset();
        lambda.resetHistory();
        const result = await runner.invoke(payload);
        expect(result).to.deep.equal({
            campaignId: CAMPAIGN,
            status: "DONE",
            publishedThisRun: USERS - AUDIENCE_PAGE_SIZE,
            publishedTotal: USERS,
        });
        expect(invokes(), "a finished run invokes nothing").to.deep.equal([]);
        const secondRun = publishedIds();
        expect(
            secondRun.filter((id) => firstRun.includes(id)),
            "pages already done are not published again",
        ).to.deep.equal([]);
        expect([...firstRun, ...secondRun].sort()).to.deep.equal(expectedIds);
        expect(await checkpoint()).to.include({ status: "DONE", published: USERS });

        const batches = publishBatches();
        expect(batches.map((b: any) => b.PublishBatchRequestEntries.length)).to.deep.equal(
            Array((USERS - AUDIENCE_PAGE_SIZE) / PUBLISH_BATCH_MAX_ENTRIES).fill(10),
        );
        for (const batch of batches) {
            expect(batch.TopicArn).to.equal(world.plane.topic("-ingress"));
            for (const entry of batch.PublishBatchRequestEntries) {
                expect(entry.MessageAttributes).to.deep.equal({
                    channels: { DataType: "String.Array", StringValue: '["email"]' },
                });
                expect(JSON.parse(entry.Message)).to.include({
                    campaignId: CAMPAIGN,
                    template: "spring-sale",
                    priority: "normal",
                });
            }
        }
        console.log(
            `      campaign of ${USERS} users: ${JSON.stringify(world.counter.byOperation())} in the resumed run`,
        );

        // The ingress filter policies route the requests to the e-mail queue only.
        expect(await queueDepth(world.plane.sqs, world.plane.queue("messaging-push"))).to.equal(0);
        expect(await queueDepth(world.plane.sqs, world.plane.queue("messaging-sms"))).to.equal(0);
        const queued = (await peekAll(world.plane.sqs, world.plane.queue("messaging-email"))).map(
            (m) => JSON.parse(m.Body!).notificationId,
        );
        expect(queued.sort()).to.deep.equal(expectedIds);
    });

    it("the e-mail sender delivers each campaign request once", async () => {
        const report = await world.drain("email");
        expect(report.failedDeliveries).to.equal(0);
        const emails = await world.emulators.ses.emails();
        expect(emails).to.have.length(USERS);
        expect(new Set(emails.map((e) => e.destination.to[0])).size).to.equal(USERS);
        expect(emails.some((e) => e.destination.to[0] === "outsider@example.com")).to.equal(false);
        const row = (await world.logRows(`${CAMPAIGN}-20260329-cmp-007`))[0];
        expect(row).to.include({ status: "SENT", campaignId: CAMPAIGN, recipientKey: "email#cmp-007" });
    });

    it("a retry of a finished run publishes nothing; a full re-run (checkpoint lost) publishes the same ids and the sender sends nothing twice", async () => {
        world.counter.reset();
        expect(await runner.invoke(input)).to.include({ status: "ALREADY_DONE", publishedThisRun: 0 });
        expect(publishBatches()).to.have.length(0);
        expect(invokes()).to.deep.equal([]);

        // As if the run had published everything and died before its checkpoint writes.
        await world.plane.db.deleteItem(world.plane.tables.idempotency, { id: `campaign#${CAMPAIGN}#20260329` });
        world.counter.reset();
        expect(await runner.invoke(input)).to.include({ status: "DONE", publishedThisRun: USERS });
        expect(publishedIds().sort()).to.deep.equal(expectedIds);

        const report = await world.drain("email");
        expect(report.failedDeliveries).to.equal(0);
        expect(report.acknowledged).to.equal(USERS);
        expect(await world.emulators.ses.emails()).to.have.length(USERS); // none new
        expect(world.counter.count("SESv2", "SendEmail")).to.equal(0);
        expect(await world.dlqBodies("email")).to.deep.equal([]);
    });

    it("a user whose full id would pass 128 characters gets a hashed id and her e-mail, not a skip", async () => {
        const longUser = `long-${"u".repeat(118)}`; // 123 characters: a valid userId, too long beside the prefix
        const segment = "long-ids";
        await world.plane.db.putItems(world.plane.tables.preferences, [
            { userId: longUser, channel: "profile", segment, timezone: "UTC", locale: "en", email: "long@example.com" },
        ]);
        await world.emulators.ses.clear();
        world.counter.reset();
        const longInput = { ...input, campaignId: "long-ids", segment };
        expect(await runner.invoke(longInput)).to.include({ status: "DONE", publishedThisRun: 1 });
        const [id] = publishedIds();
        expect(id)
            .to.have.length(128)
            .and.match(/^long-ids-20260329-long-u+_[0-9a-f]{16}$/);
        const report = await world.drain("email");
        expect(report.failedDeliveries).to.equal(0);
        expect((await world.emulators.ses.emails()).map((e) => e.destination.to[0])).to.deep.equal([
            "long@example.com",
        ]);
        expect((await world.logRows(id))[0]).to.include({ status: "SENT", recipientKey: `email#${longUser}` });
        // A re-run (checkpoint lost) derives the same id, so the sender sends nothing twice.
        await world.plane.db.deleteItem(world.plane.tables.idempotency, { id: "campaign#long-ids#20260329" });
        world.counter.reset();
        await runner.invoke(longInput);
        expect(publishedIds()).to.deep.equal([id]);
        await world.drain("email");
        expect(await world.emulators.ses.emails()).to.have.length(1);
    });

    it("a run that pauses before publishing a page throws instead of continuing (no loop without progress); a failed continuation invoke throws", async () => {
        const segment = "stalled";
        await world.plane.db.putItems(
            world.plane.tables.preferences,
            Array.from({ length: AUDIENCE_PAGE_SIZE + 1 }, (_, i) => ({
                userId: `stall-${i}`,
                channel: "profile",
                segment,
                timezone: "UTC",
                locale: "en",
            })),
        );
        const stalled = { ...input, campaignId: "stalled", segment };
        world.counter.reset();
        await runner.invoke(stalled, { getRemainingTimeInMillis: () => 1_000 }).then(
            () => expect.fail("a run that cannot publish one page must fail"),
            (err: Error) =>
                expect(err.message).to.match(
                    /campaign stalled made no progress \(checkpoint at 0 requests\); not continuing/,
                ),
        );
        expect(publishBatches()).to.have.length(0);
        expect(invokes()).to.deep.equal([]);

        // One page in, the continuation invoke is refused: a real failure, left to Lambda's async retry.
        lambda.on(InvokeCommand).rejects(
            Object.assign(new Error("User is not authorized to perform: lambda:InvokeFunction"), {
                name: "AccessDeniedException",
            }),
        );
        await runner
            .invoke(stalled, {
                getRemainingTimeInMillis: () => (world.counter.count("SNS", "PublishBatch") >= 10 ? 1_000 : 900_000),
            })
            .then(
                () => expect.fail("a pause that cannot continue must fail"),
                (err: Error) => expect(err.name).to.equal("AccessDeniedException"),
            );
        expect(invokes()).to.have.length(1);
        expect(
            await world.plane.db.getItem(world.plane.tables.idempotency, { id: "campaign#stalled#20260329" }),
        ).to.include({ status: "RUNNING", published: AUDIENCE_PAGE_SIZE });
        // The retry resumes from the checkpoint and finishes.
        expect(await runner.invoke(stalled)).to.include({
            status: "DONE",
            publishedThisRun: 1,
            publishedTotal: AUDIENCE_PAGE_SIZE + 1,
        });
    });

    it("bad Scheduler input fails the invocation (to the schedule's dead-letter queue) and publishes nothing", async () => {
        world.counter.reset();
        for (const bad of [
            { ...input, campaignId: "has spaces" },
            { ...input, channels: ["fax"] },
            { ...input, scheduledTime: "soon" },
        ]) {
            await runner.invoke(bad).then(
                () => expect.fail(`accepted ${JSON.stringify(bad)}`),
                (err: Error) => expect(err.message).to.match(/campaign input/),
            );
        }
        expect(publishBatches()).to.have.length(0);
    });
});
