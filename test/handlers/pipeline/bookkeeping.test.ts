/** Bookkeeping: one BatchWriteItem round for rows and counters, one analytics batch, the outcome metrics. */
import { expect } from "chai";
import { countOutcomes, createLogWriter, writeAnalytics } from "../../../handlers/lib/pipeline/bookkeeping";
import { createLogger } from "../../../handlers/lib/log";
import type { Dynamo } from "../../../handlers/lib/dynamo";

const telemetry = () => {
    const added: string[] = [];
    return {
        added,
        telemetry: {
            service: "t",
            log: createLogger({ service: "t", level: "ERROR", write: () => {} }),
            metrics: { add: (_c: string, name: string) => added.push(name), flush: () => {} },
        } as any,
    };
};
const outcome = (status: any, extra = {}) => ({
    notificationId: "n",
    recipientKey: `push#${status}`,
    channel: "push" as const,
    status,
    ...extra,
});

describe("lib/pipeline/bookkeeping: after the sends", () => {
    it("counts Attempted for every outcome and the metric of its status (none for PENDING)", () => {
        const { added, telemetry: t } = telemetry();
        countOutcomes(t, "push", [
            outcome("SENT"),
            outcome("FAILED"),
            outcome("PENDING"),
            outcome("DEFERRED"),
            outcome("SUPPRESSED"),
        ]);
        expect(added.sort()).to.deep.equal(
            [
                "Attempted",
                "Attempted",
                "Attempted",
                "Attempted",
                "Attempted",
                "Delivered",
                "Failed",
                "Deferred",
                "Suppressed",
            ].sort(),
        );
    });

    const fakeDynamo = (failFirst = 0) => {
        const writes: any[] = [];
        let failures = failFirst;
        const dynamo: Dynamo = {
            async call(operation, input) {
                if (failures-- > 0)
                    throw Object.assign(new Error("slow down"), { name: "ProvisionedThroughputExceededException" });
                writes.push({ operation, input });
                return {} as any;
            },
        };
        return { dynamo, writes };
    };
    const queued: string[] = [];
    const sqs = { send: async (cmd: any) => queued.push(cmd.input.MessageBody) } as any;
    const writer = (dynamo: Dynamo, remaining = () => 30_000) =>
        createLogWriter({
            outcomes: { sqs, queueUrl: "http://sqs/feedback" },
            dynamo,
            tables: { preferences: "p", templates: "t", deliveryLog: "log", idempotency: "idem" },
            ttlDays: 90,
            telemetry: telemetry().telemetry,
            logRows: new Map(),
            now: () => Date.parse("2026-01-15T12:00:00Z"),
            remaining,
        });
    const many = (n: number) => Array.from({ length: n }, (_, i) => outcome("SENT", { recipientKey: `push#u${i}` }));

    it("writes each full group of 25 rows as soon as it is complete, before the batch ends", async () => {
        const { dynamo, writes } = fakeDynamo();
        const w = writer(dynamo);
        await w.add(many(10));
        expect(writes).to.have.length(0);
        await w.add(many(20));
        expect(writes.map((x) => x.input.RequestItems.log.length)).to.deep.equal([25]);
    });

    it("writes the rest at the end, log rows only (the rate counters were counted with the claims)", async () => {
        const { dynamo, writes } = fakeDynamo();
        const w = writer(dynamo);
        await w.add([outcome("SENT", { rateCounterId: "rate#push#u#1" }), outcome("FAILED")]);
        await w.finish();
        expect(writes).to.have.length(1);
        expect(Object.keys(writes[0].input.RequestItems)).to.deep.equal(["log"]);
        expect(writes[0].input.RequestItems.log).to.have.length(2);
    });

    it("makes no call at the end when every row is already written", async () => {
        const { dynamo, writes } = fakeDynamo();
        const w = writer(dynamo);
        await w.add(many(25));
        await w.finish();
        expect(writes).to.have.length(1);
    });

    it("retries a failing write within the time budget until it lands", async () => {
        const { dynamo, writes } = fakeDynamo(3);
        const w = writer(dynamo);
        await w.add(many(2));
        await w.finish();
        expect(writes).to.have.length(1);
    });

    it("past the time budget, a write that keeps failing puts its rows on the outcome queue, not only in a log line", async () => {
        const { dynamo, writes } = fakeDynamo(1_000);
        queued.splice(0);
        const w = writer(dynamo, () => 1_000);
        await w.add(many(3));
        await w.finish();
        expect(writes).to.have.length(0);
        expect(queued.map((b) => JSON.parse(b).rows.map((r: any) => [r.recipientKey, r.status]))).to.deep.equal([
            [
                ["push#u0", "SENT"],
                ["push#u1", "SENT"],
                ["push#u2", "SENT"],
            ],
        ]);
    });

    it("writes the analytics lines in one batch", async () => {
        const analytics: any[] = [];
        await writeAnalytics({
            firehose: { send: async (cmd: any) => analytics.push(cmd.input) } as any,
            analyticsStream: "s",
            telemetry: telemetry().telemetry,
            outcomes: many(3),
            now: 0,
        });
        expect(analytics).to.have.length(1);
        expect(analytics[0].Records).to.have.length(3);
    });
});
