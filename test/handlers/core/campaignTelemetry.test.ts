import { expect } from "chai";
import {
    CAMPAIGN_ID_MAX,
    campaignNotificationId,
    campaignRequest,
    checkpointId,
    nextCheckpoint,
    packPublishBatches,
    parseCampaignInput,
} from "../../../handlers/core/campaign";
import { ID_PATTERN } from "../../../handlers/core/request";
import {
    atExpression,
    deferralScheduleName,
    deferredRequestBody,
    recipientsFor,
} from "../../../handlers/core/deliveryLog";
import { marshall, unmarshall } from "../../../handlers/core/attributes";
import { createLogger } from "../../../handlers/lib/log";
import { createMetrics } from "../../../handlers/lib/metrics";

const AT = Date.UTC(2026, 10, 21, 22, 0, 0);
const input = { campaignId: "spring", template: "promo", segment: "beta", scheduledTime: "2026-03-29T09:00:00Z" };

describe("core/campaign: ids, batching, checkpoints", () => {
    it("derives deterministic notification ids per campaign, day and user", () => {
        expect(campaignNotificationId("spring", "2026-03-29T09:00:00Z", "u1")).to.equal("spring-20260329-u1");
        expect(campaignRequest(parseCampaignInput(input), "u1")).to.deep.equal({
            notificationId: "spring-20260329-u1",
            userId: "u1",
            template: "promo",
            priority: "normal",
            campaignId: "spring",
        });
        expect(() => campaignNotificationId("c", "2026-03-29T09:00:00Z", "bad user")).to.throw(
            /userId bad user breaks/,
        );
        expect(checkpointId("spring", "2026-03-29T23:59:00Z")).to.equal("campaign#spring#20260329");
    });

    it("gives a user whose full id would pass 128 characters a deterministic hashed id instead of skipping her", () => {
        const day = "2026-03-29T09:00:00Z";
        const longUser = `${"u".repeat(120)}-a`;
        const otherLongUser = `${"u".repeat(120)}-b`; // the kept start is the same: only the hash tells them apart
        const id = campaignNotificationId("spring", day, longUser);
        expect(id).to.have.length(128);
        expect(id).to.match(ID_PATTERN);
        expect(id).to.match(/^spring-20260329-u+_[0-9a-f]{16}$/);
        expect(campaignNotificationId("spring", day, longUser), "the same on every retry").to.equal(id);
        expect(campaignNotificationId("spring", day, otherLongUser)).to.not.equal(id);
        expect(campaignRequest(parseCampaignInput(input), longUser)).to.include({
            notificationId: id,
            userId: longUser,
        });
        // Exactly 128 still fits whole; one more takes the hash.
        const fits = "x".repeat(128 - "spring-20260329-".length);
        expect(campaignNotificationId("spring", day, fits)).to.equal(`spring-20260329-${fits}`);
        expect(campaignNotificationId("spring", day, `${fits}y`)).to.match(/_[0-9a-f]{16}$/);
        // The longest campaign id with the longest user id still fits; a longer campaign id is refused up front.
        const longestCampaign = "c".repeat(CAMPAIGN_ID_MAX);
        expect(campaignNotificationId(longestCampaign, day, "u".repeat(128)))
            .to.have.length(128)
            .and.match(ID_PATTERN);
        expect(() => parseCampaignInput({ ...input, campaignId: `${longestCampaign}c` })).to.throw(
            /campaignId must be at most 101 characters/,
        );
        expect(parseCampaignInput({ ...input, campaignId: longestCampaign }).campaignId).to.equal(longestCampaign);
    });

    it("validates the Scheduler input", () => {
        expect(() => parseCampaignInput({ ...input, campaignId: "bad id" })).to.throw(/campaignId/);
        expect(() => parseCampaignInput({ ...input, channels: ["fax"] })).to.throw(/channels/);
        expect(() => parseCampaignInput({ ...input, scheduledTime: "soon" })).to.throw(/scheduledTime/);
        expect(parseCampaignInput(JSON.stringify(input)).segment).to.equal("beta");
    });

    it("packs 10 entries per PublishBatch and keeps each call under 256 KB", () => {
        const small = Array.from({ length: 23 }, (_, i) => ({ id: `u${i}`, message: "{}" }));
        expect(packPublishBatches(small).batches.map((b) => b.length)).to.deep.equal([10, 10, 3]);
        const big = Array.from({ length: 5 }, (_, i) => ({ id: `u${i}`, message: "x".repeat(100 * 1024) }));
        const packed = packPublishBatches([...big, { id: "huge", message: "x".repeat(257 * 1024) }]);
        expect(packed.batches.map((b) => b.length)).to.deep.equal([2, 2, 1]);
        expect(packed.oversize).to.deep.equal(["huge"]);
        for (const b of packed.batches) expect(new Set(b.map((e) => e.Id)).size).to.equal(b.length);
    });

    it("moves the checkpoint forward and marks the run done without a cursor", () => {
        const first = nextCheckpoint(undefined, "id", '{"k":1}', 10, 0);
        expect(first).to.include({ status: "RUNNING", published: 10, cursor: '{"k":1}' });
        expect(nextCheckpoint(first, "id", undefined, 5, 0)).to.deep.include({ status: "DONE", published: 15 });
    });
});

describe("core/deliveryLog: deferral schedules and counters", () => {
    it("names schedules deterministically within Scheduler's limits", () => {
        const name = deferralScheduleName("n".repeat(128), "push", "push#u1", AT);
        expect(name).to.match(/^[0-9A-Za-z_.-]{1,64}$/);
        expect(deferralScheduleName("n1", "push", "push#u1", AT)).to.equal(
            deferralScheduleName("n1", "push", "push#u1", AT),
        );
        expect(deferralScheduleName("n1", "push", "push#u1", AT)).to.not.equal(
            deferralScheduleName("n1", "email", "push#u1", AT),
        );
        expect(atExpression(Date.parse("2026-03-29T05:00:00.200Z"))).to.equal("at(2026-03-29T05:00:01)");
    });

    it("narrows the deferred body to the channel and recipient and drops sendAt", () => {
        const request = {
            notificationId: "n",
            recipients: [{ userId: "a" }, { userId: "b" }],
            body: "x",
            priority: "normal" as const,
            sendAt: "2030-01-01T00:00:00Z",
        };
        const [, b] = recipientsFor(request, "email");
        expect(JSON.parse(deferredRequestBody(request, "email", b))).to.deep.equal({
            notificationId: "n",
            recipients: [{ userId: "b" }],
            body: "x",
            priority: "normal",
            channels: ["email"],
        });
    });

    it("round-trips items through DynamoDB attribute values", () => {
        const item = { a: "s", n: 1.5, b: false, z: null, l: [1, "x"], m: { deep: { x: 1 } }, skip: undefined };
        expect(marshall(item)).to.deep.equal({
            a: { S: "s" },
            n: { N: "1.5" },
            b: { BOOL: false },
            z: { NULL: true },
            l: { L: [{ N: "1" }, { S: "x" }] },
            m: { M: { deep: { M: { x: { N: "1" } } } } },
        });
        const { skip: _skip, ...rest } = item;
        expect(unmarshall(marshall(item))).to.deep.equal(rest);
    });
});

describe("lib: Powertools logger and EMF metrics", () => {
    // Lambda sets this for on-demand environments; Powertools reports cold_start only under it.
    const initType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    before(() => {
        process.env.AWS_LAMBDA_INITIALIZATION_TYPE = "on-demand";
    });
    after(() => {
        if (initType === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
        else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initType;
    });

    it("writes Powertools JSON lines with the invocation context and appended keys", () => {
        const lines: string[] = [];
        const log = createLogger({ service: "notify-dev", level: "INFO", write: (l) => lines.push(l) });
        log.addContext({ awsRequestId: "req-1", functionName: "f" });
        log.appendKeys({ notificationId: "n1", channel: "push" });
        log.debug("hidden");
        log.info("sent", { devices: 2 });
        log.addContext({ awsRequestId: "req-2" });
        log.error("boom", { error: new Error("bad") });
        expect(lines).to.have.length(2);
        const [first, second] = lines.map((l) => JSON.parse(l));
        expect(first).to.deep.include({
            level: "INFO",
            message: "sent",
            service: "notify-dev",
            cold_start: true,
            function_request_id: "req-1",
            function_name: "f",
            notificationId: "n1",
            channel: "push",
            devices: 2,
        });
        expect(Date.parse(first.timestamp)).to.be.a("number").and.not.NaN;
        expect(second).to.deep.include({ level: "ERROR", cold_start: false, function_request_id: "req-2" });
        expect(second).to.not.have.property("notificationId");
        expect(second.error).to.include({ name: "Error", message: "bad" });
    });

    it("writes WARN and ERROR lines to the same writer as INFO, in order", () => {
        const lines: string[] = [];
        const log = createLogger({ service: "s", level: "DEBUG", write: (l) => lines.push(l) });
        log.warn("one");
        log.debug("two");
        log.error("three");
        expect(lines.map((l) => JSON.parse(l).message)).to.deep.equal(["one", "two", "three"]);
    });

    it("flushes one EMF line per channel with dimensions exactly [service, channel]", () => {
        const lines: string[] = [];
        const metrics = createMetrics({ service: "notify-dev", write: (l) => lines.push(l) });
        metrics.add("push", "Attempted", 3);
        metrics.add("push", "Delivered");
        metrics.add("push", "Delivered");
        metrics.flush();
        metrics.flush(); // nothing new: no line
        expect(lines).to.have.length(1);
        const doc = JSON.parse(lines[0]);
        expect(doc._aws.Timestamp).to.be.a("number");
        expect(doc._aws.CloudWatchMetrics).to.deep.equal([
            {
                Namespace: "NotifyPlatform",
                Dimensions: [["service", "channel"]],
                Metrics: [
                    { Name: "Attempted", Unit: "Count" },
                    { Name: "Delivered", Unit: "Count" },
                ],
            },
        ]);
        expect(doc).to.include({ service: "notify-dev", channel: "push", Attempted: 3, Delivered: 2 });
    });

    it("writes a single metric at once with its properties beside the count", () => {
        const lines: string[] = [];
        const metrics = createMetrics({ service: "notify-dev", write: (l) => lines.push(l) });
        metrics.single("email", "RejectedRequests", { messageId: "m-1", reason: "not JSON" });
        expect(lines).to.have.length(1);
        const doc = JSON.parse(lines[0]);
        expect(doc._aws.CloudWatchMetrics[0].Dimensions).to.deep.equal([["service", "channel"]]);
        expect(doc).to.include({ channel: "email", RejectedRequests: 1, messageId: "m-1", reason: "not JSON" });
    });
});
