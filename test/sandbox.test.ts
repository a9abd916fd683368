/**
 * `npm run sandbox` once, with a small generated load on the prod stack (its batch size, 50): every
 * request is accounted for on every channel it reached, the analytics records are valid, and the
 * functions' API calls are per batch, not per record (counts are deterministic; no timing asserted).
 */
import { expect } from "chai";
import { account, queuedOutcomes } from "../toolkit/sandbox/run";
import {
    CALLS_PER_DELIVERED_TARGET,
    parseRequestFile,
    runSandbox,
    type SandboxSummary,
} from "../toolkit/sandbox/sandbox";

describe("npm run sandbox", function () {
    this.timeout(120_000);
    const lines: string[] = [];
    let summary: SandboxSummary;

    before(async () => {
        summary = await runSandbox({ stack: "prod", requests: 200, print: (line) => lines.push(line) });
    });

    it("prints every hop: request, channel queues, per-channel sends, delivery log, analytics, summary", () => {
        const text = lines.join("\n");
        for (const hop of [
            "[1] request -> ingress topic",
            "[2] channel queues",
            "[3] push: push-sender-fn",
            "[3] email: email-sender-fn",
            "[3] sms: sms-sender-fn",
            "[3] inapp: inapp-sender-fn",
            "[4] delivery log",
            "[5] analytics",
            "Summary",
        ]) {
            expect(text, hop).to.contain(hop);
        }
        expect(text).to.contain("SNS Publish TargetArn");
        expect(text).to.contain("SES SendEmail to");
        expect(text).to.contain("SNS Publish PhoneNumber");
        expect(text).to.contain("DynamoDB PutItem inbox");
    });

    it("loses nothing: every routed request has a delivery-log row or a DLQ message, and the queues are empty", () => {
        expect(summary.lost).to.deep.equal([]);
        expect(summary.leftInQueues).to.equal(0);
        expect(summary.routed).to.be.greaterThan(summary.requests); // some requests reach several channels
        expect(summary.logged + summary.deadLettered + summary.queuedForReplay).to.equal(summary.routed);
        expect(summary.ok).to.equal(true);
    });

    it("delivers on every channel and sends valid analytics records, one per delivery-log row", () => {
        expect(summary.delivered.push).to.be.greaterThan(0);
        expect(summary.delivered.email).to.be.greaterThan(0);
        expect(summary.delivered.sms).to.be.greaterThan(0);
        expect(summary.delivered.inapp).to.be.greaterThan(0);
        expect(summary.analyticsProblems).to.deep.equal([]);
        expect(summary.analyticsRecords).to.equal(summary.logged);
    });

    it("API calls: push and overall within the per-delivered target; reads and bookkeeping batch-wide on every channel", () => {
        expect(summary.callsPerDelivered.push, "push").to.be.at.most(CALLS_PER_DELIVERED_TARGET);
        expect(summary.callsPerDelivered.overall, "overall").to.be.at.most(CALLS_PER_DELIVERED_TARGET);
        const ops = summary.operations;
        // Never a per-record read or write: no GetItem/PutItem/Query, and batch calls far fewer than records
        // (in-app's PutItem is its delivery, one per inbox item: counted with the provider calls below).
        for (const op of [
            "DynamoDB.GetItem",
            "DynamoDB.Query",
            "DynamoDB.UpdateItem",
            "SNS.CheckIfPhoneNumberIsOptedOut",
            "Firehose.PutRecord",
        ]) {
            expect(ops[op] ?? 0, op).to.equal(0);
        }
        expect(ops["DynamoDB.BatchGetItem"]).to.be.at.most(summary.routed / 10);
        expect(ops["DynamoDB.BatchWriteItem"]).to.be.at.most(summary.routed / 10);
        // One provider call per delivery (no throttling in the sandbox).
        expect((ops["SNS.Publish"] ?? 0) + (ops["SESv2.SendEmail"] ?? 0)).to.equal(
            summary.delivered.push + summary.delivered.sms + summary.delivered.email,
        );
        expect(ops["DynamoDB.PutItem"] ?? 0, "in-app: one conditional PutItem per inbox item").to.equal(
            summary.delivered.inapp,
        );
    });

    it("refuses a request file that is not a request, with a clear error", () => {
        expect(() => parseRequestFile("{not json", "bad.json")).to.throw(/bad.json is not JSON/);
        expect(() => parseRequestFile("[]", "list.json")).to.throw(/one JSON object/);
        expect(() => parseRequestFile('{"userId":"u"}', "noid.json")).to.throw(/notificationId/);
        expect(parseRequestFile('{"notificationId":"n-1","userId":"u"}', "ok.json")).to.deep.equal({
            notificationId: "n-1",
            userId: "u",
        });
    });

    it("accounting: a routed request without a delivery-log row or DLQ message is lost; a DLQ message accounts for it", () => {
        const requests = [{ notificationId: "a" }, { notificationId: "b" }, { notificationId: "c" }];
        const routing = new Map<string, any[]>([
            ["a", ["push", "email"]],
            ["b", ["sms"]],
            ["c", []],
        ]);
        const rows = [{ notificationId: "a", channel: "push", status: "SENT" }];
        const dlq = { push: [], email: [JSON.stringify({ notificationId: "a" })], sms: [], inapp: [] };
        const result = account(requests, routing, rows, dlq, 0);
        expect(result.routed).to.equal(3);
        expect(result.logged).to.equal(1);
        expect(result.deadLettered).to.equal(1);
        expect(result.lost.map((l) => `${l.notificationId}/${l.channel}`)).to.deep.equal(["b/sms", "c/ingress"]);
    });

    it("accounts an outcome queued for replay (a claim-only row is no outcome)", () => {
        const requests = [{ notificationId: "q" }] as any;
        const routing = new Map<string, any>([["q", ["sms"]]]);
        const claimOnly = [{ notificationId: "q", channel: "sms", claimOwner: "x" }];
        const body = JSON.stringify({
            type: "notify.outcomes",
            version: 1,
            rows: [{ notificationId: "q", channel: "sms", status: "SENT" }],
        });
        const dlq = { push: [], email: [], sms: [], inapp: [] };
        const queued = queuedOutcomes([body, "not json"]);
        expect(account(requests, routing, claimOnly, dlq, 0, queued).queuedForReplay).to.equal(1);
        expect(account(requests, routing, claimOnly, dlq, 0).lost).to.have.length(1);
    });
});
