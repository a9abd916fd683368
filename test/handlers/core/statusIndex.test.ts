import {
    CreateTableCommand,
    DynamoDBClient,
    PutItemCommand,
    QueryCommand,
    type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import { marshall } from "../../../handlers/core/attributes";
import { deliveryLogRow, type RecipientOutcome } from "../../../handlers/core/deliveryLog";
import {
    INDEXED_STATUSES,
    STATUS_INDEX_ATTRIBUTE,
    STATUS_INDEX_NAME,
    STATUS_INDEX_SHARDS,
    mergeStatusPages,
    queryStatusIndex,
    statusIndexKey,
    statusShard,
    statusShardQueries,
} from "../../../handlers/core/statusIndex";
import type { DeliveryStatus } from "../../../handlers/core/types";
import { TABLES } from "../../../infra/tables";
import { type Emulators, clientConfig, startEmulators } from "../../../toolkit/local-cloud/emulators";
import { createTableInput } from "../../../toolkit/local-cloud/resources";

const HOUR = 3_600_000;
const NOW = Date.parse("2026-12-01T12:00:00.000Z");

const outcome = (
    i: number,
    status: DeliveryStatus,
    channel: RecipientOutcome["channel"] = "email",
): RecipientOutcome => ({
    notificationId: `n-${i}`,
    recipientKey: `${channel}#user-${i}`,
    channel,
    status,
});

describe("core/statusIndex: the sharded status index of the delivery log", function () {
    it("keys a FAILED, BOUNCED or COMPLAINT row by status, channel and a shard in range", function () {
        for (const status of INDEXED_STATUSES) {
            const key = statusIndexKey({ ...outcome(1, status), channel: "sms" });
            expect(key).to.match(new RegExp(`^${status}#sms#\\d+$`));
            expect(Number(key!.split("#")[2])).to.be.within(0, STATUS_INDEX_SHARDS - 1);
        }
    });

    it("leaves SENT, DELIVERED, SUPPRESSED, DEFERRED and PENDING rows out of the index", function () {
        for (const status of ["SENT", "DELIVERED", "SUPPRESSED", "DEFERRED", "PENDING"] as DeliveryStatus[]) {
            expect(statusIndexKey(outcome(1, status)), status).to.equal(undefined);
        }
    });

    it("gives a row the same shard wherever it is computed (sender and feedback processor)", function () {
        expect(statusShard("n-1", "email#user-1")).to.equal(statusShard("n-1", "email#user-1"));
    });

    it("spreads rows evenly over the shards (no shard above twice the mean for 64K rows)", function () {
        const counts = new Array(STATUS_INDEX_SHARDS).fill(0);
        const rows = 64_000;
        for (let i = 0; i < rows; i++) counts[statusShard(`n-${i}`, `email#user-${i % 97}`)]++;
        const mean = rows / STATUS_INDEX_SHARDS;
        expect(Math.max(...counts)).to.be.below(2 * mean);
        expect(Math.min(...counts)).to.be.above(mean / 2);
    });

    it("writes the index key on the delivery-log rows the senders build, and only on indexed statuses", function () {
        const failed = deliveryLogRow(outcome(7, "FAILED"), NOW, 90) as unknown as Record<string, unknown>;
        expect(failed[STATUS_INDEX_ATTRIBUTE]).to.equal(statusIndexKey(outcome(7, "FAILED")));
        const sent = deliveryLogRow(outcome(7, "SENT"), NOW, 90) as unknown as Record<string, unknown>;
        expect(sent).not.to.have.property(STATUS_INDEX_ATTRIBUTE);
    });

    it("builds one newest-first Query per shard, bounded by the time window", function () {
        const queries = statusShardQueries({
            tableName: "log",
            status: "FAILED",
            channel: "push",
            since: "2026-12-01T11:00:00.000Z",
        });
        expect(queries).to.have.length(STATUS_INDEX_SHARDS);
        expect(new Set(queries.map((q) => q.ExpressionAttributeValues[":shard"].S)).size).to.equal(STATUS_INDEX_SHARDS);
        expect(queries[5]).to.deep.include({
            TableName: "log",
            IndexName: STATUS_INDEX_NAME,
            KeyConditionExpression: "#shard = :shard AND #updatedAt >= :since",
            ScanIndexForward: false,
        });
        expect(queries[5].ExpressionAttributeValues[":shard"]).to.deep.equal({ S: "FAILED#push#5" });
    });

    it("refuses a status the index does not hold, and a malformed instant", function () {
        const base = { tableName: "log", channel: "push" as const, since: "2026-12-01T11:00:00.000Z" };
        expect(() => statusShardQueries({ ...base, status: "SENT" })).to.throw(/holds FAILED, BOUNCED, COMPLAINT only/);
        expect(() => statusShardQueries({ ...base, status: "FAILED", since: "an hour ago" })).to.throw(
            /since 'an hour ago' is not an ISO-8601 instant/,
        );
    });

    it("merges the shards' pages newest first", function () {
        const item = (id: string, at: string) => ({
            notificationId: { S: id },
            recipientKey: { S: "r" },
            updatedAt: { S: at },
        });
        const merged = mergeStatusPages([
            [item("a", "2026-12-01T11:10:00Z"), item("b", "2026-12-01T11:05:00Z")],
            [item("c", "2026-12-01T11:20:00Z")],
        ]);
        expect(merged.map((e) => e.notificationId)).to.deep.equal(["c", "a", "b"]);
    });

    describe("against the local DynamoDB emulator, on the table built from infra/tables.ts", function () {
        this.timeout(60_000);
        let emulators: Emulators;
        let client: DynamoDBClient;
        const table = "delivery-log-status-index";

        before(async function () {
            emulators = await startEmulators();
            client = new DynamoDBClient(clientConfig(emulators.endpoints, "dynamodb"));
            await client.send(new CreateTableCommand(createTableInput(table, TABLES.deliveryLog)));
            // 300 FAILED e-mail rows (200 in the last hour, 100 older), FAILED push and SENT e-mail rows
            // in the last hour: the query must return exactly the 200.
            const rows = [
                ...Array.from({ length: 200 }, (_, i) =>
                    deliveryLogRow(outcome(i, "FAILED"), NOW - (i + 1) * 10_000, 90),
                ),
                ...Array.from({ length: 100 }, (_, i) =>
                    deliveryLogRow(outcome(1000 + i, "FAILED"), NOW - 2 * HOUR - i, 90),
                ),
                ...Array.from({ length: 50 }, (_, i) =>
                    deliveryLogRow(outcome(2000 + i, "FAILED", "push"), NOW - 60_000, 90),
                ),
                ...Array.from({ length: 50 }, (_, i) => deliveryLogRow(outcome(3000 + i, "SENT"), NOW - 60_000, 90)),
            ];
            for (const row of rows)
                await client.send(new PutItemCommand({ TableName: table, Item: marshall({ ...row }) }));
        });

        after(async function () {
            client?.destroy();
            await emulators?.close();
        });

        it("finds exactly the channel's FAILED rows of the last hour, newest first, across pages", async function () {
            const found = await queryStatusIndex(
                {
                    tableName: table,
                    status: "FAILED",
                    channel: "email",
                    since: new Date(NOW - HOUR).toISOString(),
                    limit: 1, // one item per page: every shard with two rows pages
                },
                (input: QueryCommandInput) => client.send(new QueryCommand(input)),
            );
            expect(found).to.have.length(200);
            expect(found.map((e) => e.notificationId)).to.have.members(Array.from({ length: 200 }, (_, i) => `n-${i}`));
            expect(found[0].notificationId).to.equal("n-0");
            expect(found.at(-1)!.notificationId).to.equal("n-199");
        });
    });
});
