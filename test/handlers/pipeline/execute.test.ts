/** Carrying out a record's plan: one outcome per recipient action and one retry signal per record. */
import { expect } from "chai";
import type { RecordPlan } from "../../../handlers/core/plan";
import { createLogger } from "../../../handlers/lib/log";
import { createMetrics } from "../../../handlers/lib/metrics";
import type { DeliveryResult } from "../../../handlers/lib/pipeline/channel";
import { executeRecord, outcomeOf } from "../../../handlers/lib/pipeline/execute";

const recipient = (id: string) => ({ userId: id, identity: id, recipientKey: `sms#${id}`, spec: { userId: id } });
const request = { notificationId: "n", priority: "normal" as const, campaignId: "c" };

function ctx(results: DeliveryResult[]) {
    const delivered: unknown[] = [];
    const lines: string[] = [];
    return {
        delivered,
        lines,
        ctx: {
            channel: "sms" as const,
            deliver: async (args: { delivery: unknown }) => {
                delivered.push(args.delivery);
                return results.shift()!;
            },
            scheduler: {} as any,
            deferral: { group: "g", roleArn: "r", queueArn: "q" },
            log: createLogger({ service: "t", level: "ERROR", write: () => {} }),
            metrics: createMetrics({ service: "t", write: (line) => void lines.push(line) }),
            now: 0,
            remaining: () => 30_000,
        },
    };
}

const plan = (actions: any[]): RecordPlan<string> => ({
    messageId: "m",
    kind: "request",
    request,
    recipients: actions.map((action, i) => ({ recipient: recipient(`u${i}`), action })),
});

describe("lib/pipeline/execute: one record's plan", () => {
    it("records a SENT outcome with its provider id and rate counter; no retry", async () => {
        const { ctx: c } = ctx([{ status: "SENT", providerMessageId: "p1" }]);
        const result = await executeRecord(c, plan([{ kind: "send", delivery: "x", rateCounterId: "rate" }]));
        expect(result).to.deep.equal({
            retry: false,
            outcomes: [
                {
                    notificationId: "n",
                    recipientKey: "sms#u0",
                    channel: "sms",
                    status: "SENT",
                    userId: "u0",
                    campaignId: "c",
                    providerMessageId: "p1",
                    rateCounterId: "rate",
                },
            ],
        });
    });

    it("a RETRY delivery is recorded PENDING and sends the record back (the one retry signal)", async () => {
        const { ctx: c } = ctx([{ status: "RETRY", reason: "Throttled: slow", errorClass: "throttled" }]);
        const result = await executeRecord(c, plan([{ kind: "send", delivery: "x", rateCounterId: "rate" }]));
        expect(result.retry).to.equal(true);
        expect(result.outcomes.map((o) => [o.status, o.reason, o.rateCounterId])).to.deep.equal([
            ["PENDING", "Throttled: slow", undefined],
        ]);
    });

    it("a plan-level retry records nothing and sends the record back; skip records nothing", async () => {
        const { ctx: c, delivered } = ctx([]);
        const result = await executeRecord(
            c,
            plan([
                { kind: "retry", reason: "later" },
                { kind: "skip", reason: "done" },
            ]),
        );
        expect(result).to.deep.equal({ retry: true, outcomes: [] });
        expect(delivered).to.deep.equal([]);
    });

    it("an unexpected error in one recipient retries the record and keeps the others' outcomes", async () => {
        const { ctx: c } = ctx([]);
        c.deliver = async () => {
            throw new Error("bug");
        };
        const result = await executeRecord(
            c,
            plan([
                { kind: "send", delivery: "x", rateCounterId: "r" },
                { kind: "fail", reason: "bad" },
            ]),
        );
        expect(result.retry).to.equal(true);
        expect(result.outcomes.map((o) => o.status)).to.deep.equal(["FAILED"]);
    });

    it("outcomeOf leaves undefined fields out", () => {
        const o = outcomeOf({
            ids: { notificationId: "n" },
            plan: {
                recipient: { identity: "a@b.c", recipientKey: "email#a@b.c", spec: {} },
                action: { kind: "skip", reason: "" },
            },
            channel: "email",
            status: "FAILED",
            reason: undefined,
        });
        expect(o).to.deep.equal({
            notificationId: "n",
            recipientKey: "email#a@b.c",
            channel: "email",
            status: "FAILED",
        });
    });

    it("a bad request with no usable id: nothing recorded, one RejectedRequests line carrying the SQS message id", async () => {
        const { ctx: c, lines } = ctx([]);
        const result = await executeRecord(c, {
            messageId: "sqs-1",
            kind: "invalid",
            reason: "body is not valid JSON",
            recipients: [],
        });
        expect(result).to.deep.equal({ retry: false, outcomes: [] });
        expect(lines).to.have.length(1);
        expect(JSON.parse(lines[0])).to.include({
            messageId: "sqs-1",
            reason: "body is not valid JSON",
            RejectedRequests: 1,
        });
    });
});
