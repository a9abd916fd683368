import { expect } from "chai";
import type { HttpApiEvent } from "../../../handlers/core/api/http";
import {
    acceptedAnswer,
    acceptRequest,
    CLAIM_LEASE_MS,
    type ClaimRow,
    callerPrincipal,
    canonicalJson,
    claimCondition,
    decideOnExisting,
    IDEMPOTENCY_TTL_SECONDS,
    idempotencyHeader,
    messageAttributes,
    notificationIdParameter,
    PRODUCER_TIMEOUT_SECONDS,
    pendingClaim,
    recipientStatus,
    sha256,
    statusAnswer,
} from "../../../handlers/core/api/notifications";

const NOW = new Date("2026-12-06T20:00:00Z");
const accept = (body: Record<string, unknown>, key?: string) => {
    const out = acceptRequest(body, key, NOW);
    if (!out.ok) throw new Error(`expected acceptance, got ${out.result.body}`);
    return out.request;
};

describe("core/api/notifications: the producer routes' decisions", () => {
    describe("caller principal", () => {
        it("an assumed role without its session: refreshed credentials are the same producer", () => {
            expect(callerPrincipal("arn:aws:sts::111122223333:assumed-role/order-service/i-0abc")).to.equal(
                "arn:aws:sts::111122223333:assumed-role/order-service",
            );
            expect(callerPrincipal("arn:aws-cn:sts::111122223333:assumed-role/r/s/with/slashes")).to.equal(
                "arn:aws-cn:sts::111122223333:assumed-role/r",
            );
        });
        it("users and other principals as they are; a very long one hashed for the key", () => {
            expect(callerPrincipal("arn:aws:iam::111122223333:user/tool")).to.equal(
                "arn:aws:iam::111122223333:user/tool",
            );
            expect(callerPrincipal(`arn:aws:iam::111122223333:user/${"p/".repeat(200)}x`)).to.match(
                /^sha256:[0-9a-f]{64}$/,
            );
        });
    });

    describe("canonical request", () => {
        it("sorts keys at every depth, drops whitespace, keeps array order", () => {
            expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" } })).to.equal(
                '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
            );
        });
        it("the same request in another key order has the same hash; another body another hash", () => {
            const a = accept({ notificationId: "n1", userId: "u", body: "hi", data: { x: 1, y: "2" } });
            const b = accept({ data: { y: "2", x: 1 }, body: "hi", userId: "u", notificationId: "n1" });
            const c = accept({ notificationId: "n1", userId: "u", body: "hi!" });
            expect(a.requestHash).to.equal(b.requestHash).and.to.equal(sha256(a.message));
            expect(c.requestHash).not.to.equal(a.requestHash);
        });
        it("the header key becomes the notificationId when the body has none; the header stays the key", () => {
            const fromHeader = accept({ userId: "u", body: "b" }, "k-1");
            expect(fromHeader).to.include({ key: "k-1", notificationId: "k-1" });
            expect(JSON.parse(fromHeader.message)).to.deep.equal({ notificationId: "k-1", userId: "u", body: "b" });
            expect(accept({ notificationId: "n-9", userId: "u", body: "b" }, "k-2")).to.include({
                key: "k-2",
                notificationId: "n-9",
            });
            expect(accept({ notificationId: "n-9", userId: "u", body: "b" })).to.include({ key: "n-9" });
        });
        it("the channels attribute: String.Array of the distinct channels; none without channels", () => {
            const request = accept({ notificationId: "n", userId: "u", body: "b", channels: ["sms", "push", "sms"] });
            expect(messageAttributes(request)).to.deep.equal({
                channels: { DataType: "String.Array", StringValue: '["sms","push"]' },
            });
            expect(messageAttributes(accept({ notificationId: "n", userId: "u", body: "b" }))).to.equal(undefined);
        });
        it("413 when the message and its attribute would not fit one SNS message", () => {
            const body = { notificationId: "n", userId: "u", body: "b", channels: ["email"], data: { x: "" } };
            const size = Buffer.byteLength(canonicalJson(body)) + "channelsString.Array".length + '["email"]'.length;
            const fill = "x".repeat(262_144 - size);
            expect(acceptRequest({ ...body, data: { x: fill } }, undefined, NOW).ok).to.equal(true);
            const over = acceptRequest({ ...body, data: { x: `${fill}x` } }, undefined, NOW);
            expect(over.ok).to.equal(false);
            if (!over.ok) expect(over.result.statusCode).to.equal(413);
        });
    });

    describe("400: every field error", () => {
        const errors = (body: Record<string, unknown>, key?: string) => {
            const out = acceptRequest(body, key, NOW);
            if (out.ok) throw new Error("expected a 400");
            expect(out.result.statusCode).to.equal(400);
            return JSON.parse(out.result.body).errors;
        };
        it("no key at all: one error on notificationId, not two", () => {
            expect(errors({ userId: "u", body: "b" })).to.deep.equal([
                {
                    field: "notificationId",
                    problem: "notificationId is required (in the body, or as the Idempotency-Key header)",
                },
            ]);
        });
        it("a malformed header key is named, and the missing id not reported again", () => {
            expect(errors({ userId: "u", body: "b" }, "a b")).to.deep.equal([
                { field: "Idempotency-Key", problem: "the Idempotency-Key header must match [A-Za-z0-9_-]{1,128}" },
            ]);
        });
        it("unknown recipient fields come first, then the senders' validation", () => {
            expect(errors({ notificationId: "n", recipients: [{ email: "a@b.co", fax: 1 }] })).to.deep.equal([
                { field: "recipients[0].fax", problem: "unknown field" },
                { field: "body", problem: "body is required when no template is given" },
            ]);
        });
        it("a request invalid only because its sendAt has passed may be the replay of an accepted one", () => {
            const past = { notificationId: "n", userId: "u", body: "b", sendAt: "2026-12-06T19:58:00Z" };
            const out = acceptRequest(past, undefined, NOW);
            expect(out.ok).to.equal(false);
            if (out.ok) return;
            // The same request as it was accepted an hour earlier: same key, same hash.
            const earlier = acceptRequest(past, undefined, new Date("2026-12-06T19:00:00Z"));
            expect(earlier.ok && earlier.request).to.deep.equal(out.replayOf);
            expect(out.replayOf).to.include({ key: "n", notificationId: "n" });
            const alsoBad = acceptRequest({ ...past, priority: "urgent" }, undefined, NOW);
            expect(!alsoBad.ok && alsoBad.replayOf).to.equal(undefined);
        });
        it("a sendAt in the past relative to the request's arrival", () => {
            expect(
                errors({ notificationId: "n", userId: "u", body: "b", sendAt: "2026-12-06T19:58:00Z" }),
            ).to.deep.equal([
                { field: "sendAt", problem: "sendAt 2026-12-06T19:58:00Z was in the past when the request was queued" },
            ]);
        });
    });

    describe("the idempotency decision", () => {
        const request = accept({ notificationId: "n1", userId: "u", body: "b" });
        const nowMs = NOW.getTime();
        const claim = pendingClaim("api#p#n1", request, "owner-1", nowMs);

        it("a claim: PENDING, leased for longer than the function may run, remembered for a day", () => {
            expect(claim).to.include({ state: "PENDING", owner: "owner-1", requestHash: request.requestHash });
            expect(claim.leaseExpiresAt - nowMs).to.equal(CLAIM_LEASE_MS);
            expect(CLAIM_LEASE_MS).to.be.greaterThan(PRODUCER_TIMEOUT_SECONDS * 1000);
            expect(claim.expiration).to.equal(Math.floor(nowMs / 1000) + IDEMPOTENCY_TTL_SECONDS);
        });
        it("the claim condition admits a new key, a TTL-expired row, or a released/expired lease of the same body", () => {
            const condition = claimCondition(request, nowMs);
            expect(condition.ConditionExpression).to.equal(
                "attribute_not_exists(id) OR expiration < :nowS OR (#state = :pending AND requestHash = :hash AND leaseExpiresAt < :nowMs)",
            );
            expect(condition.values).to.deep.equal({
                ":nowS": Math.floor(nowMs / 1000),
                ":pending": "PENDING",
                ":hash": request.requestHash,
                ":nowMs": nowMs,
            });
        });
        it("same body, published: the stored answer itself; different body: 409; same body pending: in progress", () => {
            const answer = acceptedAnswer("n1");
            const published: ClaimRow = { ...claim, state: "PUBLISHED", answer: JSON.stringify(answer) };
            expect(decideOnExisting(published, request.requestHash)).to.deep.equal({ kind: "replay", result: answer });
            const conflict = decideOnExisting(published, "other-hash");
            expect(conflict.kind).to.equal("conflict");
            expect(conflict.result.statusCode).to.equal(409);
            const pending = decideOnExisting(claim, request.requestHash);
            expect(pending.kind).to.equal("in-progress");
            expect(pending.result.statusCode).to.equal(409);
            expect(pending.result.headers["retry-after"]).to.equal("1");
            expect(decideOnExisting(undefined, request.requestHash).kind).to.equal("in-progress");
        });
    });

    describe("headers and path", () => {
        it("finds the Idempotency-Key header in any case", () => {
            expect(idempotencyHeader({ "idempotency-key": "a" })).to.equal("a");
            expect(idempotencyHeader({ "Idempotency-Key": "b" })).to.equal("b");
            expect(idempotencyHeader({ other: "c" })).to.equal(undefined);
        });
        it("validates the {id} path parameter", () => {
            const event = (id?: string) => ({ pathParameters: id === undefined ? undefined : { id } }) as HttpApiEvent;
            expect(notificationIdParameter(event("n-1"))).to.deep.equal({ ok: true, id: "n-1" });
            for (const bad of [undefined, "", "a b", "x".repeat(129)]) {
                expect(notificationIdParameter(event(bad)).ok).to.equal(false);
            }
        });
    });

    describe("status view", () => {
        const row = {
            notificationId: "n1",
            recipientKey: "push#u1",
            channel: "push",
            userId: "u1",
            status: "SENT",
            createdAt: "2026-12-06T20:00:00.000Z",
            updatedAt: "2026-12-06T20:00:01.000Z",
            claimOwner: "x",
            providerMessageId: "p",
            sentDevices: ["d1"],
            uncertain: false,
            expiresAt: 1,
        };
        it("maps a row to the contract's fields only; uncertain only when true", () => {
            expect(recipientStatus(row)).to.deep.equal({
                recipientKey: "push#u1",
                channel: "push",
                userId: "u1",
                status: "SENT",
                createdAt: "2026-12-06T20:00:00.000Z",
                updatedAt: "2026-12-06T20:00:01.000Z",
            });
            expect(recipientStatus({ ...row, uncertain: true, reason: "r" })).to.include({
                uncertain: true,
                reason: "r",
            });
        });
        it("a request-level row without a channel attribute takes it from its key", () => {
            const { channel: _, userId: __, ...rest } = row;
            expect(recipientStatus({ ...rest, recipientKey: "request#email", status: "FAILED" }).channel).to.equal(
                "email",
            );
        });
        it("404 when nothing is recorded, 200 with every recipient otherwise", () => {
            expect(statusAnswer("n1", []).statusCode).to.equal(404);
            const ok = statusAnswer("n1", [row]);
            expect(ok.statusCode).to.equal(200);
            expect(JSON.parse(ok.body).recipients).to.have.length(1);
        });
    });
});
