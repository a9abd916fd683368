/** Bookkeeping: one BatchWriteItem round for rows and counters, one analytics batch, the outcome metrics. */
import { expect } from "chai";
import { countOutcomes, writeBookkeeping } from "../../../handlers/lib/pipeline/bookkeeping";
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

    it("writes the rows and the counters of the sends in one BatchWriteItem and the analytics in one batch", async () => {
        const writes: any[] = [];
        const dynamo: Dynamo = {
            async call(operation, input) {
                writes.push({ operation, input });
                return {} as any;
            },
        };
        const analytics: any[] = [];
        await writeBookkeeping({
            dynamo,
            firehose: { send: async (cmd: any) => analytics.push(cmd.input) } as any,
            tables: { preferences: "p", templates: "t", deliveryLog: "log", idempotency: "idem" },
            analyticsStream: "s",
            ttlDays: 90,
            telemetry: telemetry().telemetry,
            outcomes: [outcome("SENT", { rateCounterId: "rate#push#u#1" }), outcome("FAILED")],
            logRows: new Map(),
            rateCounts: new Map([["rate#push#u#1", 2]]),
            now: Date.parse("2026-01-15T12:00:00Z"),
        });
        expect(writes).to.have.length(1);
        expect(writes[0].input.RequestItems.log).to.have.length(2);
        expect(writes[0].input.RequestItems.idem[0].PutRequest.Item.count).to.deep.equal({ N: "3" });
        expect(analytics).to.have.length(1);
        expect(analytics[0].Records).to.have.length(2);
    });
});
