/**
 * The in-app sender as it ships (its serialized closure) on the local cloud: requests in through the
 * ingress topic and the inapp filter policy, items out in the inbox table of DynamoDB Local. One item per
 * recipient whatever happens — concurrent copies (claims), a crash after some writes and a redelivery,
 * a duplicate publish whose first copy crashed between its item and its row (the conditional put on the
 * table key, user + notification), a throttled table — plus preferences and quiet
 * hours. Deterministic: barriers and held calls, an injected clock for lease expiry, never a sleep.
 */
import { BatchWriteItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import { CLAIM_MARGIN_MS } from "../../../handlers/core/claims";
import { parseInboxItemId } from "../../../handlers/core/inbox";
import { claimBarrier, dynamoProto as proto } from "./barrier";
import { createWorld, type World } from "./world";

const record = (messageId: string, body: unknown, sentTimestamp = Date.now()) => ({
    messageId,
    body: JSON.stringify(body),
    attributes: { SentTimestamp: String(sentTimestamp), ApproximateReceiveCount: "1" },
});

describe("emulator: the in-app sender writes each recipient's inbox item exactly once", function () {
    this.timeout(180_000);
    let world: World;
    let inboxTable: string;

    before(async () => {
        world = await createWorld();
        inboxTable = world.plane.tables.inbox;
        for (const userId of ["ia-ada", "ia-bob", "ia-cat"]) await world.seedUser({ userId, timezone: "UTC" });
        await world.plane.db.putItems(world.plane.tables.templates, [
            {
                templateId: "ia-shipped",
                locale: "en",
                title: "Shipped {{orderId}}",
                body: "Order {{orderId}} is on its way",
            },
            {
                templateId: "ia-shipped",
                locale: "de",
                title: "Versandt {{orderId}}",
                body: "Bestellung {{orderId}} unterwegs",
            },
        ]);
    });
    after(async () => world?.close());

    const itemsOf = async (userId: string, notificationId: string) =>
        (await world.inboxItems(userId)).filter((i) => i.notificationId === notificationId);

    it("through the ingress topic: one item per recipient with its id, content, unread flag and TTL; a SENT row naming the item", async () => {
        const before = Date.now();
        await world.publishRequest({
            notificationId: "ia-e2e",
            recipients: [{ userId: "ia-ada" }, { userId: "ia-bob" }],
            channels: ["inapp"],
            template: "ia-shipped",
            locale: "de",
            data: { orderId: "A-17" },
        });
        world.counter.reset();
        const report = await world.drain("inapp");
        expect(report.failedDeliveries).to.equal(0);
        const ttlDays = Number(world.sender("inapp").env.INBOX_TTL_DAYS);
        expect(ttlDays, "dev stack: inboxTtlDays default").to.equal(90);
        const rows = await world.logRows("ia-e2e");
        expect(rows.map((r) => [r.recipientKey, r.status]).sort()).to.deep.equal([
            ["inapp#ia-ada", "SENT"],
            ["inapp#ia-bob", "SENT"],
        ]);
        for (const userId of ["ia-ada", "ia-bob"]) {
            const [item, ...more] = await itemsOf(userId, "ia-e2e");
            expect(more, userId).to.deep.equal([]);
            const id = parseInboxItemId(item.itemId);
            expect(id?.notificationId).to.equal("ia-e2e");
            expect(id!.queuedAtMs).to.be.within(before - 1_000, Date.now());
            expect(item).to.deep.equal({
                userId,
                itemId: item.itemId,
                notificationId: "ia-e2e",
                title: "Versandt A-17",
                body: "Bestellung A-17 unterwegs",
                data: { orderId: "A-17" },
                createdAt: new Date(id!.queuedAtMs).toISOString(),
                read: false,
                unreadUserId: userId,
                expiresAt: Math.floor(id!.queuedAtMs / 1000) + ttlDays * 86_400,
            });
            expect(rows.find((r) => r.userId === userId)?.providerMessageId, "the row names the item").to.equal(
                item.itemId,
            );
        }
        // Unread: both items are in the sparse byUnread index.
        const unread = await world.plane.db.queryAll(inboxTable, "unreadUserId", "ia-ada", "byUnread");
        expect(unread.map((i) => i.itemId)).to.include((await itemsOf("ia-ada", "ia-e2e"))[0].itemId);
        // The sender put exactly one item per recipient: two conditional PutItem calls.
        expect(world.counter.count("DynamoDB", "PutItem")).to.equal(2);
    });

    for (const copies of [2, 5]) {
        it(`${copies} concurrent copies of one request: one item, one SENT row`, async () => {
            const id = `ia-copies-${copies}`;
            const body = { notificationId: id, userId: "ia-ada", channels: ["inapp"], title: id, body: "b" };
            const senders = Array.from({ length: copies }, () => world.load("inapp-sender"));
            const restore = claimBarrier(copies);
            try {
                // Each copy is its own SQS message (a duplicate publish): its own SentTimestamp, so only the
                // claim keeps a second item out.
                await Promise.all(
                    senders.map((s, i) => s.invoke({ Records: [record(`${id}-m${i}`, body, Date.now() + i)] })),
                );
            } finally {
                restore();
            }
            expect(await itemsOf("ia-ada", id)).to.have.length(1);
            const again = await senders[1].invoke({ Records: [record(`${id}-again`, body)] });
            expect(again.batchItemFailures).to.deep.equal([]);
            expect(await itemsOf("ia-ada", id)).to.have.length(1);
            expect((await world.logRows(id)).map((r) => [r.status, r.claimOwner])).to.deep.equal([["SENT", undefined]]);
        });
    }

    it("a crash after 4 of 6 items (no row written yet), then the redelivery past the lease: 6 items, none twice, every row SENT", async () => {
        const id = "ia-crash";
        const queuedAt = Date.now();
        const users = ["ia-ada", "ia-bob", "ia-cat"];
        // Six requests, two per user; the records keep their SentTimestamp on redelivery, as SQS does.
        const records = Array.from({ length: 6 }, (_, i) =>
            record(
                `${id}-m${i}`,
                { notificationId: `${id}-${i}`, userId: users[i % 3], channels: ["inapp"], body: `b${i}` },
                queuedAt,
            ),
        );
        const original = proto.send;
        let puts = 0;
        let done = 0;
        const held: ((e: Error) => void)[] = [];
        // Resolved once 4 puts have been answered and the other 2 are held: the invocation is dead there.
        let crashed!: () => void;
        const crash = new Promise<void>((resolve) => {
            crashed = resolve;
        });
        const check = () => {
            if (done === 4 && held.length === 2) crashed();
        };
        proto.send = function (this: unknown, command: unknown) {
            if (!(command instanceof PutItemCommand && command.input.TableName === inboxTable))
                return original.call(this, command);
            if (++puts > 4)
                return new Promise((_, reject) => {
                    held.push(reject);
                    check();
                });
            return original.call(this, command).finally(() => {
                done++;
                check();
            });
        };
        const first = world
            .load("inapp-sender")
            .invoke({ Records: records })
            .catch(() => undefined);
        const written = async () =>
            (await Promise.all(users.map((u) => world.inboxItems(u))))
                .flat()
                .filter((i) => String(i.notificationId).startsWith(`${id}-`));
        try {
            await crash;
        } finally {
            proto.send = original;
        }
        expect(await written()).to.have.length(4);
        const rowsBefore = (await Promise.all(records.map((_, i) => world.logRows(`${id}-${i}`)))).flat();
        expect(
            rowsBefore.filter((r) => r.status),
            "no outcome is durable yet: only claims",
        ).to.deep.equal([]);
        // The user reads one of the four meanwhile: the redelivery must not put it back as unread.
        const [readOne] = await written();
        const { unreadUserId: _, ...asRead } = readOne;
        await world.plane.db.putItems(inboxTable, [{ ...asRead, read: true, readAt: new Date().toISOString() }]);

        const realNow = Date.now;
        Date.now = () => realNow() + 31_000 + CLAIM_MARGIN_MS + 60_000;
        let response: { batchItemFailures: unknown[] };
        try {
            response = await world.load("inapp-sender").invoke({ Records: records });
        } finally {
            Date.now = realNow;
        }
        expect(response.batchItemFailures).to.deep.equal([]);
        const items = await written();
        expect(items.map((i) => i.notificationId).sort()).to.deep.equal(records.map((_, i) => `${id}-${i}`).sort());
        expect(new Set(items.map((i) => i.itemId)).size).to.equal(6);
        const stillRead = items.find((i) => i.itemId === readOne.itemId)!;
        expect([stillRead.read, stillRead.unreadUserId], "a repeat never overwrites an item").to.deep.equal([
            true,
            undefined,
        ]);
        for (let i = 0; i < 6; i++) {
            const [row] = await world.logRows(`${id}-${i}`);
            expect(row.status).to.equal("SENT");
            expect(parseInboxItemId(row.providerMessageId)).to.deep.equal({
                queuedAtMs: queuedAt,
                notificationId: `${id}-${i}`,
            });
        }
        for (const reject of held) reject(new Error("the crashed invocation is gone"));
        await first;
    });

    it("a duplicate publish (two SQS messages, two SentTimestamps): the first crashes after its item, before its row; the second takes over past the lease: one item, still read, one SENT row naming it", async () => {
        const id = "ia-dup-publish";
        await world.seedUser({ userId: "ia-dup", timezone: "UTC" });
        const body = { notificationId: id, userId: "ia-dup", channels: ["inapp"], title: "T", body: "b" };
        const firstQueued = Date.now() - 5_000;
        // Two messages of one request: their own message ids and queued times, hence two different item ids.
        const firstCopy = record(`${id}-m1`, body, firstQueued);
        const secondCopy = record(`${id}-m2`, body, firstQueued + 4_000);
        const logTable = world.plane.tables.deliveryLog;
        const original = proto.send;
        let itemWritten = false;
        let crashed!: () => void;
        const crash = new Promise<void>((resolve) => {
            crashed = resolve;
        });
        const held: ((e: Error) => void)[] = [];
        // The first copy's inbox PutItem goes through; its delivery-log write (the outcome row) never returns.
        proto.send = function (this: unknown, command: unknown) {
            if (command instanceof PutItemCommand && command.input.TableName === inboxTable)
                return original.call(this, command).then((out) => {
                    itemWritten = true;
                    return out;
                });
            if (
                itemWritten &&
                command instanceof BatchWriteItemCommand &&
                logTable in (command.input.RequestItems ?? {})
            )
                return new Promise((_, reject) => {
                    held.push(reject);
                    crashed();
                });
            return original.call(this, command);
        };
        const first = world
            .load("inapp-sender")
            .invoke({ Records: [firstCopy] })
            .catch(() => undefined);
        try {
            await crash;
        } finally {
            proto.send = original;
        }
        const [written, ...none] = await itemsOf("ia-dup", id);
        expect(none, "the first copy wrote one item").to.deep.equal([]);
        expect(parseInboxItemId(written.itemId)).to.deep.equal({ queuedAtMs: firstQueued, notificationId: id });
        const [claim] = await world.logRows(id);
        expect([claim.status, claim.claimOwner !== undefined], "only the claim is durable").to.deep.equal([
            undefined,
            true,
        ]);
        // The user reads it meanwhile: the takeover must not put it back as unread.
        const { unreadUserId: _, ...asRead } = written;
        await world.plane.db.putItems(inboxTable, [{ ...asRead, read: true, readAt: new Date().toISOString() }]);

        const realNow = Date.now;
        Date.now = () => realNow() + 31_000 + CLAIM_MARGIN_MS + 60_000;
        let response: { batchItemFailures: unknown[] };
        try {
            response = await world.load("inapp-sender").invoke({ Records: [secondCopy] });
        } finally {
            Date.now = realNow;
        }
        expect(response.batchItemFailures).to.deep.equal([]);
        const items = await itemsOf("ia-dup", id);
        expect(
            items.map((i) => [i.itemId, i.read, i.unreadUserId]),
            "exactly one item: the first, still read",
        ).to.deep.equal([[written.itemId, true, undefined]]);
        const rows = await world.logRows(id);
        expect(rows.map((r) => [r.recipientKey, r.status, r.claimOwner])).to.deep.equal([
            ["inapp#ia-dup", "SENT", undefined],
        ]);
        expect(rows[0].providerMessageId, "the row names the item that exists (ALL_OLD)").to.equal(written.itemId);
        for (const reject of held) reject(new Error("the crashed invocation is gone"));
        await first;
    });

    it("a throttled inbox table: retried with backoff within the invocation, one item; throttled past it, the record goes back and is written once", async () => {
        const isInboxPut = (operation: string, body: string) =>
            operation === "PutItem" && body.includes(`"${inboxTable}"`);
        let throttled = 0;
        const twice = (operation: string, body: string) => isInboxPut(operation, body) && ++throttled <= 2;
        world.emulators.dynamodbFaults.push(twice);
        try {
            await world.sender("inapp").invoke({
                Records: [record("ia-thr-1-m", { notificationId: "ia-thr-1", userId: "ia-bob", body: "b" })],
            });
        } finally {
            world.emulators.dynamodbFaults.splice(world.emulators.dynamodbFaults.indexOf(twice), 1);
        }
        expect(throttled).to.equal(3);
        expect(await itemsOf("ia-bob", "ia-thr-1")).to.have.length(1);
        expect((await world.logRows("ia-thr-1")).map((r) => r.status)).to.deep.equal(["SENT"]);

        // Always throttled: after the backoff the record is reported for a retry, PENDING, nothing written.
        const rec = record("ia-thr-2-m", { notificationId: "ia-thr-2", userId: "ia-bob", body: "b" });
        world.emulators.dynamodbFaults.push(isInboxPut);
        let response: { batchItemFailures: { itemIdentifier: string }[] };
        try {
            response = await world.sender("inapp").invoke({ Records: [rec] });
        } finally {
            world.emulators.dynamodbFaults.splice(world.emulators.dynamodbFaults.indexOf(isInboxPut), 1);
        }
        expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: "ia-thr-2-m" }]);
        const [pending] = await world.logRows("ia-thr-2");
        expect(pending.status).to.equal("PENDING");
        expect(pending.reason).to.match(/Throughput|Throttl/);
        expect(await itemsOf("ia-bob", "ia-thr-2")).to.deep.equal([]);
        const retried = await world.sender("inapp").invoke({ Records: [rec] });
        expect(retried.batchItemFailures).to.deep.equal([]);
        expect(await itemsOf("ia-bob", "ia-thr-2")).to.have.length(1);
        expect((await world.logRows("ia-thr-2")).map((r) => r.status)).to.deep.equal(["SENT"]);
    });

    it("the per-user hourly limit: past it, SUPPRESSED as rate limited, no item", async () => {
        await world.seedUser({ userId: "ia-limited" });
        const sender = world.load("inapp-sender", { RATE_LIMITS: JSON.stringify({ inapp: 1 }) });
        const limited = (n: number) =>
            record(`ia-rl-${n}-m`, { notificationId: `ia-rl-${n}`, userId: "ia-limited", body: `b${n}` });
        await sender.invoke({ Records: [limited(1)] });
        await sender.invoke({ Records: [limited(2)] });
        expect((await world.logRows("ia-rl-1")).map((r) => r.status)).to.deep.equal(["SENT"]);
        const [second] = await world.logRows("ia-rl-2");
        expect(second.status).to.equal("SUPPRESSED");
        expect(second.reason).to.match(/rate limit/);
        expect((await world.inboxItems("ia-limited")).map((i) => i.notificationId)).to.deep.equal(["ia-rl-1"]);
    });

    it("an opted-out user: SUPPRESSED, no item; quiet hours hold nothing back: the item is there now, nothing scheduled", async () => {
        await world.seedUser({ userId: "ia-quiet-out", preferences: { inapp: { optIn: false } } });
        const now = new Date();
        const hhmm = (d: Date) =>
            `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
        const quietHours = {
            start: hhmm(new Date(now.getTime() - 3_600_000)),
            end: hhmm(new Date(now.getTime() + 3_600_000)),
        };
        await world.seedUser({
            userId: "ia-quiet",
            timezone: "UTC",
            preferences: { inapp: { quietHours }, push: { quietHours } },
        });
        await world.publishRequest({ notificationId: "ia-optout", userId: "ia-quiet-out", body: "b" });
        await world.publishRequest({
            notificationId: "ia-quiet-1",
            userId: "ia-quiet",
            channels: ["inapp"],
            body: "b",
        });
        world.counter.reset();
        await world.drain("inapp");
        const [suppressed] = await world.logRows("ia-optout").then((rows) => rows.filter((r) => r.channel === "inapp"));
        expect([suppressed.status, suppressed.reason]).to.deep.equal(["SUPPRESSED", "user has not opted in to inapp"]);
        expect(await world.inboxItems("ia-quiet-out")).to.deep.equal([]);
        expect((await world.logRows("ia-quiet-1")).map((r) => r.status)).to.deep.equal(["SENT"]);
        expect(await itemsOf("ia-quiet", "ia-quiet-1")).to.have.length(1);
        expect(world.counter.count("Scheduler"), "no deferral").to.equal(0);
    });
});
