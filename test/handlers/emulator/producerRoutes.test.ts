/**
 * The producer routes (POST /v1/notifications, GET /v1/notifications/{id}) as they ship: the serialized
 * closures of the functions producerRoutes() specifies, built by a fixture program
 * (test/fixtures/producer-routes: one Processor per route on the platform's own Storage and Messaging, as
 * the Api component will build them), called with API Gateway HTTP API payload 2.0 events carrying the
 * IAM authorizer context, on DynamoDB Local and fauxqs (SNS → SQS with the program's filter policies).
 *
 * Two fronts on 127.0.0.1 sit between the functions and the emulators, for determinism: one before
 * DynamoDB holds PutItem calls until N have arrived (a barrier: N copies claim at once), one before SNS
 * counts the Publish calls that reached fauxqs, can hold them until released, and can fail them (an
 * injected publish failure).
 */
import { expect } from "chai";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { HttpApiEvent, HttpApiResult } from "../../../handlers/core/api/http";
import { callerPrincipal, idempotencyRowId } from "../../../handlers/core/api/notifications";
import { type Emulators, startEmulators, useEmulatorEnv } from "../../../toolkit/local-cloud/emulators";
import { type LoadedFunction, type LoadedProgram, loadProgram } from "../../../toolkit/local-cloud/program";
import { createDataPlane, type DataPlane } from "../../../toolkit/local-cloud/resources";
import * as path from "node:path";

const REGION = "eu-west-1";
const FIXTURE = path.join(__dirname, "..", "..", "fixtures", "producer-routes");
const ROLE_ARN = "arn:aws:sts::111122223333:assumed-role/order-service/i-0abc";

/** The IAM authorizer context API Gateway adds to a SigV4-signed request (HTTP API, payload 2.0). */
function iamContext(userArn = ROLE_ARN) {
    return {
        iam: {
            accessKey: "ASIAEXAMPLEKEY000001",
            accountId: "111122223333",
            callerId: "AROAEXAMPLEROLEID0001:i-0abc",
            cognitoIdentity: null,
            principalOrgId: null,
            userArn,
            userId: "AROAEXAMPLEROLEID0001:i-0abc",
        },
    };
}

let requestCounter = 0;
function httpEvent(options: {
    method: "POST" | "GET";
    path: string;
    routeKey: string;
    body?: string;
    headers?: Record<string, string>;
    pathParameters?: Record<string, string>;
    authorizer?: unknown;
}): HttpApiEvent {
    const id = `req-${++requestCounter}`;
    return {
        version: "2.0",
        routeKey: options.routeKey,
        rawPath: options.path,
        rawQueryString: "",
        headers: {
            "content-type": "application/json",
            host: "abc123.execute-api.eu-west-1.amazonaws.com",
            "x-amz-date": "20261206T200000Z",
            ...(options.headers ?? {}),
        },
        pathParameters: options.pathParameters,
        body: options.body,
        isBase64Encoded: false,
        requestContext: {
            accountId: "123456789012",
            apiId: "abc123",
            requestId: id,
            routeKey: options.routeKey,
            stage: "$default",
            timeEpoch: 1_796_000_000_000,
            http: {
                method: options.method,
                path: options.path,
                protocol: "HTTP/1.1",
                sourceIp: "192.0.2.10",
                userAgent: "aws-sdk-js/3",
            },
            ...(options.authorizer === undefined ? {} : { authorizer: options.authorizer }),
        } as HttpApiEvent["requestContext"],
    };
}

const post = (body: unknown, opts: { key?: string; userArn?: string; authorizer?: unknown } = {}) =>
    httpEvent({
        method: "POST",
        path: "/v1/notifications",
        routeKey: "POST /v1/notifications",
        body: typeof body === "string" ? body : JSON.stringify(body),
        headers: opts.key === undefined ? {} : { "idempotency-key": opts.key },
        authorizer: opts.authorizer === undefined ? iamContext(opts.userArn) : opts.authorizer,
    });

const getStatus = (id: string, authorizer: unknown = iamContext()) =>
    httpEvent({
        method: "GET",
        path: `/v1/notifications/${id}`,
        routeKey: "GET /v1/notifications/{id}",
        pathParameters: { id },
        authorizer,
    });

/** A forwarding front on 127.0.0.1:0 whose hook sees each request's body before it is forwarded. */
async function startFront(
    target: string,
    hook: (body: string) => Promise<"forward" | { status: number; body: string }>,
): Promise<{ url: string; close(): Promise<void> }> {
    const upstream = new URL(target);
    const agent = new http.Agent({ keepAlive: true });
    const server = http.createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const body = Buffer.concat(chunks);
        const decision = await hook(`${req.headers["x-amz-target"] ?? ""} ${body.toString("utf8")}`);
        if (decision !== "forward") {
            res.writeHead(decision.status, { "content-type": "text/xml" });
            res.end(decision.body);
            return;
        }
        const out = http.request(
            {
                host: upstream.hostname,
                port: upstream.port,
                method: req.method,
                path: req.url,
                headers: { ...req.headers, host: upstream.host },
                agent,
            },
            (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
            },
        );
        out.on("error", (err) => {
            res.writeHead(502);
            res.end(String(err));
        });
        out.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
                agent.destroy();
            }),
    };
}

const SNS_FAILURE = `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Receiver</Type><Code>InternalError</Code><Message>injected publish failure</Message></Error><RequestId>injected</RequestId></ErrorResponse>`;

describe("producer routes: the shipped closures on DynamoDB Local and fauxqs", function () {
    this.timeout(180_000);
    let program: LoadedProgram;
    let emulators: Emulators;
    let plane: DataPlane;
    let restoreEnv: () => void;
    let postFn: LoadedFunction;
    let statusFn: LoadedFunction;
    let closeFronts: () => Promise<void>;
    /** Publish calls fauxqs received (forwarded by the SNS front). */
    let published = 0;
    let failPublish = false;
    let holdPublish: Promise<void> | undefined;
    /** While set, PutItem calls wait until `size` of them arrived, then all go on together. */
    let putBarrier: { size: number; arrived: number; open: () => void; opened: Promise<void> } | undefined;

    before(async () => {
        program = await loadProgram({ programDir: FIXTURE, stack: "test" });
        emulators = await startEmulators({ region: REGION });
        plane = await createDataPlane(program, emulators.endpoints);
        const snsFront = await startFront(emulators.endpoints.sns, async (body) => {
            if (!body.includes("Action=Publish")) return "forward";
            if (failPublish) return { status: 500, body: SNS_FAILURE };
            if (holdPublish) await holdPublish;
            published++;
            return "forward";
        });
        const dynamoFront = await startFront(emulators.endpoints.dynamodb, async (body) => {
            if (putBarrier && body.startsWith("DynamoDB_20120810.PutItem")) {
                const barrier = putBarrier;
                if (++barrier.arrived === barrier.size) barrier.open();
                await barrier.opened;
            }
            return "forward";
        });
        closeFronts = async () => {
            await snsFront.close();
            await dynamoFront.close();
        };
        const envOf = (name: string) => ({
            ...plane.rewriteEnv(program.fn(name).environment),
            ...processEnv(emulators),
            AWS_ENDPOINT_URL_SNS: snsFront.url,
            AWS_ENDPOINT_URL_DYNAMODB: dynamoFront.url,
            LOG_LEVEL: process.env.NOTIFY_TEST_LOG_LEVEL ?? "ERROR",
        });
        // Concurrent invocations each set and restore the env: keep the process on the same values meanwhile.
        restoreEnv = useEmulatorEnv(emulators.endpoints, envOf("api-post-notification-fn"));
        postFn = program.fn("api-post-notification-fn").load(envOf("api-post-notification-fn"));
        statusFn = program.fn("api-notification-status-fn").load(envOf("api-notification-status-fn"));
    });

    after(async () => {
        restoreEnv?.();
        await closeFronts?.();
        await emulators?.close();
    });

    beforeEach(() => {
        published = 0;
        failPublish = false;
        holdPublish = undefined;
        putBarrier = undefined;
    });

    const send = (event: HttpApiEvent) => postFn.invoke<HttpApiResult>(event);
    const bodyOf = (result: HttpApiResult) => JSON.parse(result.body);
    const idempotencyRow = (key: string, userArn = ROLE_ARN) =>
        plane.db.getItem(plane.tables.idempotency, { id: idempotencyRowId(callerPrincipal(userArn), key) });

    async function receiveAll(channel: string) {
        const queue = plane.queue(`messaging-${channel}`);
        const out = await plane.sqs.send(
            new ReceiveMessageCommand({
                QueueUrl: queue.url,
                MaxNumberOfMessages: 10,
                MessageAttributeNames: ["All"],
                WaitTimeSeconds: 0,
            }),
        );
        return out.Messages ?? [];
    }

    it("202 { notificationId }, published once with the body and the channels attribute, into those channel queues only", async () => {
        const request = {
            notificationId: "order-1234-shipped",
            userId: "u-42",
            channels: ["push", "email"],
            template: "order-shipped",
            data: { orderId: "1234" },
        };
        const first = await send(post(request));
        expect(first.statusCode).to.equal(202);
        expect(bodyOf(first)).to.deep.equal({ notificationId: "order-1234-shipped" });
        expect(published).to.equal(1);

        const [push] = await receiveAll("push");
        const [email] = await receiveAll("email");
        expect(await receiveAll("sms")).to.deep.equal([]);
        for (const message of [push, email]) {
            expect(JSON.parse(message.Body!)).to.deep.equal(request);
            expect(message.MessageAttributes?.channels).to.deep.include({
                DataType: "String.Array",
                StringValue: '["push","email"]',
            });
        }
        const row = await idempotencyRow("order-1234-shipped");
        expect(row).to.include({ state: "PUBLISHED", notificationId: "order-1234-shipped" });
        expect(JSON.parse(row!.answer as string)).to.deep.equal(first);
    });

    it("the same key and body answer the first 202 again, byte for byte, without publishing (key order and spacing do not matter)", async () => {
        const request = { notificationId: "replay-1", userId: "u-1", body: "Hi", priority: "high" };
        const first = await send(post(request));
        expect(published).to.equal(1);
        const reordered = `{ "priority": "high", "body": "Hi",\n "userId": "u-1", "notificationId": "replay-1" }`;
        const again = await send(post(reordered));
        expect(again).to.deep.equal(first);
        expect(again.body).to.equal(first.body);
        expect(published).to.equal(1);
        expect(await receiveAll("sms")).to.have.length(1); // no channels attribute: every channel queue once
        await receiveAll("push");
        await receiveAll("email");
    });

    it("an Idempotency-Key header without notificationId in the body: the key becomes the notificationId", async () => {
        const result = await send(post({ userId: "u-7", body: "Hello", channels: ["sms"] }, { key: "checkout-77" }));
        expect(result.statusCode).to.equal(202);
        expect(bodyOf(result)).to.deep.equal({ notificationId: "checkout-77" });
        const [sms] = await receiveAll("sms");
        expect(JSON.parse(sms.Body!)).to.deep.equal({
            notificationId: "checkout-77",
            userId: "u-7",
            body: "Hello",
            channels: ["sms"],
        });
        // Sending the id explicitly is the same request.
        const same = await send(
            post(
                { notificationId: "checkout-77", userId: "u-7", body: "Hello", channels: ["sms"] },
                { key: "checkout-77" },
            ),
        );
        expect(same).to.deep.equal(result);
        expect(published).to.equal(1);
    });

    it("the same key with a different body is 409, and nothing is published", async () => {
        await send(post({ notificationId: "conflict-1", userId: "u-1", body: "first", channels: ["push"] }));
        const second = await send(
            post({ notificationId: "conflict-1", userId: "u-1", body: "second", channels: ["push"] }),
        );
        expect(second.statusCode).to.equal(409);
        expect(bodyOf(second)).to.deep.equal({
            message: "This idempotency key was already used with a different request body",
            errors: [{ field: "Idempotency-Key", problem: "already used with a different request body" }],
        });
        expect(published).to.equal(1);
        expect(await receiveAll("push")).to.have.length(1);
    });

    it("keys belong to the caller: two producers may use the same key; the same role in a new session is the same producer", async () => {
        const other = "arn:aws:iam::111122223333:user/marketing-tool";
        const a = await send(post({ userId: "u-1", body: "A", channels: ["push"] }, { key: "shared-key" }));
        const b = await send(
            post({ userId: "u-2", body: "B", channels: ["push"] }, { key: "shared-key", userArn: other }),
        );
        expect([a.statusCode, b.statusCode]).to.deep.equal([202, 202]);
        expect(published).to.equal(2);
        const newSession = "arn:aws:sts::111122223333:assumed-role/order-service/i-0def";
        const replay = await send(
            post({ userId: "u-1", body: "A", channels: ["push"] }, { key: "shared-key", userArn: newSession }),
        );
        expect(replay).to.deep.equal(a);
        expect(published).to.equal(2);
        await receiveAll("push");
    });

    for (const copies of [2, 5]) {
        it(`${copies} concurrent identical requests claim at once (barrier) and publish once`, async () => {
            let open!: () => void;
            const opened = new Promise<void>((resolve) => {
                open = resolve;
            });
            putBarrier = { size: copies, arrived: 0, open, opened };
            let release!: () => void;
            holdPublish = new Promise<void>((resolve) => {
                release = resolve;
            });
            const request = {
                notificationId: `concurrent-${copies}`,
                userId: "u-9",
                body: "once",
                channels: ["email"],
            };
            let settled = 0;
            let othersDone!: () => void;
            const othersSettled = new Promise<void>((resolve) => {
                othersDone = resolve;
            });
            const results = Array.from({ length: copies }, () =>
                send(post(request)).finally(() => {
                    if (++settled === copies - 1) othersDone();
                }),
            );
            // Every copy but the winner answers while the winner's publish is held: the claim is live.
            await othersSettled;
            release();
            const answers = await Promise.all(results);
            const codes = answers.map((r) => r.statusCode).sort();
            expect(codes).to.deep.equal([202, ...Array(copies - 1).fill(409)]);
            for (const losing of answers.filter((r) => r.statusCode === 409)) {
                expect(bodyOf(losing).message).to.match(/in progress/);
                expect(losing.headers["retry-after"]).to.equal("1");
            }
            expect(published).to.equal(1);
            // Their retries now answer the winner's 202.
            const winner = answers.find((r) => r.statusCode === 202)!;
            putBarrier = undefined;
            for (let i = 0; i < copies - 1; i++) expect(await send(post(request))).to.deep.equal(winner);
            expect(published).to.equal(1);
            expect(await receiveAll("email")).to.have.length(1);
        });
    }

    it("a failed publish answers 503 and releases the claim; the producer's retry publishes exactly once", async () => {
        const request = { notificationId: "flaky-1", userId: "u-3", body: "retry me", channels: ["push"] };
        failPublish = true;
        const failed = await send(post(request));
        expect(failed.statusCode).to.equal(503);
        expect(failed.headers["retry-after"]).to.equal("1");
        expect(bodyOf(failed).message).to.match(/could not be queued; retry/);
        expect(published).to.equal(0);
        expect(await receiveAll("push")).to.deep.equal([]);
        expect(await idempotencyRow("flaky-1")).to.include({ state: "PENDING", leaseExpiresAt: 0 });

        failPublish = false;
        const retried = await send(post(request));
        expect(retried.statusCode).to.equal(202);
        expect(published).to.equal(1);
        expect(await send(post(request))).to.deep.equal(retried);
        expect(published).to.equal(1);
        expect(await receiveAll("push")).to.have.length(1);
    });

    it("a claim left PENDING by a function that died is taken over after its lease; a live one is 'in progress'", async () => {
        const { acceptRequest, pendingClaim } = await import("../../../handlers/core/api/notifications");
        /** The row a function would have written when it claimed `request` at `claimedAt`, then died. */
        const orphan = (request: Record<string, unknown>, claimedAt: number) => {
            const accepted = acceptRequest(request, undefined, new Date());
            if (!accepted.ok) throw new Error("fixture request is invalid");
            const id = idempotencyRowId(callerPrincipal(ROLE_ARN), accepted.request.key);
            return pendingClaim(id, accepted.request, "a-function-that-died", claimedAt);
        };
        const live = { notificationId: "orphan-live", userId: "u-4", body: "x", channels: ["sms"] };
        const stale = { notificationId: "orphan-stale", userId: "u-4", body: "x", channels: ["sms"] };
        await plane.db.putItem(plane.tables.idempotency, { ...orphan(live, Date.now()) });
        await plane.db.putItem(plane.tables.idempotency, { ...orphan(stale, Date.now() - 31_000) });

        const inProgress = await send(post(live));
        expect(inProgress.statusCode).to.equal(409);
        expect(bodyOf(inProgress).message).to.match(/in progress/);
        const takenOver = await send(post(stale));
        expect(takenOver.statusCode).to.equal(202);
        expect(bodyOf(takenOver)).to.deep.equal({ notificationId: "orphan-stale" });
        expect(await send(post(stale))).to.deep.equal(takenOver);
        expect(published).to.equal(1);
        const messages = await receiveAll("sms");
        expect(messages.map((m) => JSON.parse(m.Body!).notificationId)).to.deep.equal(["orphan-stale"]);
    });

    it("a replay after its sendAt has passed still answers the first 202; the same request never accepted is 400", async () => {
        const { acceptRequest, acceptedAnswer, pendingClaim } = await import(
            "../../../handlers/core/api/notifications"
        );
        const request = { notificationId: "scheduled-1", userId: "u-5", body: "x", sendAt: "2026-01-01T09:00:00Z" };
        // Accepted on 2025-12-31 (the clock of the first request), answered 202 then:
        const firstAt = Date.parse("2025-12-31T12:00:00Z");
        const accepted = acceptRequest(request, undefined, new Date(firstAt));
        if (!accepted.ok) throw new Error("fixture request is invalid");
        const id = idempotencyRowId(callerPrincipal(ROLE_ARN), "scheduled-1");
        const first = acceptedAnswer("scheduled-1");
        await plane.db.putItem(plane.tables.idempotency, {
            ...pendingClaim(id, accepted.request, "the-first-function", firstAt),
            expiration: Math.floor(Date.now() / 1000) + 3600,
            state: "PUBLISHED",
            answer: JSON.stringify(first),
        });
        expect(await send(post(request))).to.deep.equal(first);
        const never = await send(post({ ...request, notificationId: "scheduled-2" }));
        expect(never.statusCode).to.equal(400);
        expect(bodyOf(never).errors).to.deep.equal([
            { field: "sendAt", problem: "sendAt 2026-01-01T09:00:00Z was in the past when the request was queued" },
        ]);
        expect(published).to.equal(0);
    });

    it("400 with every field error (the senders' validation), nothing claimed or published", async () => {
        const result = await send(
            post({
                notificationId: "bad id",
                recipients: [{ email: 5 }, {}],
                channels: ["push", "fax"],
                template: "t",
                body: "both",
                priority: "urgent",
                sendAt: "tomorrow",
            }),
        );
        expect(result.statusCode).to.equal(400);
        expect(bodyOf(result)).to.deep.equal({
            message: "The request is not valid",
            errors: [
                { field: "notificationId", problem: "notificationId must match [A-Za-z0-9_-]{1,128}" },
                { field: "recipients[0].email", problem: "recipients[0].email must be a string" },
                { field: "recipients[1]", problem: "recipients[1] needs a userId, an email or a phone" },
                { field: "channels[1]", problem: "unknown channel 'fax' (expected push, email or sms)" },
                { field: "template", problem: "give either template or direct title/body/subject, not both" },
                { field: "priority", problem: "priority must be high or normal" },
                {
                    field: "sendAt",
                    problem: "sendAt must be an ISO-8601 date-time with a zone, e.g. 2030-01-31T09:00:00Z",
                },
            ],
        });
        const noId = await send(post({ userId: "u-1", body: "b" }));
        expect(bodyOf(noId).errors).to.deep.equal([
            {
                field: "notificationId",
                problem: "notificationId is required (in the body, or as the Idempotency-Key header)",
            },
        ]);
        const badKey = await send(post({ userId: "u-1", body: "b" }, { key: "no spaces allowed" }));
        expect(bodyOf(badKey).errors).to.deep.equal([
            { field: "Idempotency-Key", problem: "the Idempotency-Key header must match [A-Za-z0-9_-]{1,128}" },
        ]);
        expect(published).to.equal(0);
        expect(await plane.db.scanAll(plane.tables.idempotency)).to.satisfy((rows: { id: string }[]) =>
            rows.every((r) => !r.id.endsWith("#bad id")),
        );
    });

    it("malformed JSON, a body that is not an object, unknown fields (named, nested too): 400", async () => {
        const malformed = await send(post('{"notificationId": "x",'));
        expect(malformed.statusCode).to.equal(400);
        expect(bodyOf(malformed).message).to.match(/^Request body is not JSON/);
        const array = await send(post("[1,2]"));
        expect(bodyOf(array)).to.deep.equal({ message: "Request body must be a JSON object" });
        const unknown = await send(post({ notificationId: "u1", userId: "u", body: "b", colour: "red", tags: [] }));
        expect(unknown.statusCode).to.equal(400);
        expect(bodyOf(unknown)).to.deep.equal({
            message: "Unknown fields: colour, tags",
            errors: [
                { field: "colour", problem: "unknown field" },
                { field: "tags", problem: "unknown field" },
            ],
        });
        const nested = await send(
            post({ notificationId: "u2", recipients: [{ email: "a@b.co", fax: "1" }], body: "b" }),
        );
        expect(bodyOf(nested).errors).to.deep.equal([{ field: "recipients[0].fax", problem: "unknown field" }]);
        expect(published).to.equal(0);
    });

    it("a body over 262,144 bytes is 413; one at the limit is accepted", async () => {
        // Filled through a data variable: title, body and subject stop at 100,000 characters each.
        const envelope = { notificationId: "big-1", userId: "u-1", channels: ["email"], body: "b" };
        const filled = (chars: number) => ({ ...envelope, data: { blob: "x".repeat(chars) } });
        const overhead = Buffer.byteLength(JSON.stringify(filled(0)));
        const over = await send(post(filled(262_144 - overhead + 1)));
        expect(over.statusCode).to.equal(413);
        expect(bodyOf(over)).to.deep.equal({ message: "Request body is 262145 bytes; the limit is 262144" });
        // At the limit as sent, the published message (plus its channels attribute) must fit one SNS message too.
        const atLimit = await send(post(filled(262_144 - overhead - 60)));
        expect(atLimit.statusCode).to.equal(202);
        expect(published).to.equal(1);
        expect(await receiveAll("email")).to.have.length(1);
    });

    it("no IAM identity in the event: 401 from both routes, nothing read, claimed or published", async () => {
        const calls = emulators.dynamodbCalls.length;
        const post401 = await send(post({ notificationId: "anon", userId: "u", body: "b" }, { authorizer: {} }));
        const withoutAuthorizer = post({ notificationId: "anon", userId: "u", body: "b" });
        delete withoutAuthorizer.requestContext.authorizer;
        const noAuthorizer = await send(withoutAuthorizer);
        const get401 = await statusFn.invoke<HttpApiResult>(getStatus("anon", {}));
        for (const result of [post401, noAuthorizer, get401]) {
            expect(result.statusCode).to.equal(401);
            expect(bodyOf(result)).to.deep.equal({ message: "The request carries no IAM (SigV4) identity" });
        }
        expect(emulators.dynamodbCalls.length).to.equal(calls);
        expect(published).to.equal(0);
    });

    describe("GET /v1/notifications/{id}", () => {
        const now = "2026-12-06T20:00:00.000Z";
        const row = (recipientKey: string, extra: Record<string, unknown> = {}) => ({
            notificationId: "status-1",
            recipientKey,
            channel: recipientKey.split("#")[0],
            status: "SENT",
            createdAt: now,
            updatedAt: now,
            expiresAt: 1_800_000_000,
            providerMessageId: "internal-id",
            claimOwner: "push-sender-1",
            claimExpiresAt: 1_800_000_000_000,
            ...extra,
        });

        it("every recipient's status, reason, uncertain flag and timestamps; no internal fields", async () => {
            await plane.db.putItems(plane.tables.deliveryLog, [
                row("email#u-1", { userId: "u-1", status: "BOUNCED", reason: "Permanent: General" }),
                row("push#u-1", { userId: "u-1" }),
                row("sms#+4915112345678", { status: "UNCERTAIN", uncertain: true, reason: "no answer" }),
            ]);
            const result = await statusFn.invoke<HttpApiResult>(getStatus("status-1"));
            expect(result.statusCode).to.equal(200);
            expect(bodyOf(result)).to.deep.equal({
                notificationId: "status-1",
                recipients: [
                    {
                        recipientKey: "email#u-1",
                        channel: "email",
                        userId: "u-1",
                        status: "BOUNCED",
                        reason: "Permanent: General",
                        createdAt: now,
                        updatedAt: now,
                    },
                    {
                        recipientKey: "push#u-1",
                        channel: "push",
                        userId: "u-1",
                        status: "SENT",
                        createdAt: now,
                        updatedAt: now,
                    },
                    {
                        recipientKey: "sms#+4915112345678",
                        channel: "sms",
                        status: "UNCERTAIN",
                        reason: "no answer",
                        uncertain: true,
                        createdAt: now,
                        updatedAt: now,
                    },
                ],
            });
        });

        it("reads every page of a notification larger than one Query page (1 MB)", async () => {
            const reason = "r".repeat(10_000);
            const rows = Array.from({ length: 150 }, (_, i) =>
                row(`email#user-${String(i).padStart(3, "0")}`, {
                    notificationId: "status-big",
                    reason,
                    status: "FAILED",
                }),
            );
            await plane.db.putItems(plane.tables.deliveryLog, rows);
            const calls = emulators.dynamodbCalls.length;
            const result = await statusFn.invoke<HttpApiResult>(getStatus("status-big"));
            const queries = emulators.dynamodbCalls.slice(calls).filter((op) => op === "Query").length;
            expect(queries).to.be.greaterThan(1);
            const recipients = bodyOf(result).recipients as { recipientKey: string }[];
            expect(recipients).to.have.length(150);
            expect(recipients[149].recipientKey).to.equal("email#user-149");
        });

        it("404 when nothing is recorded (yet), e.g. just after the 202; 400 for an id outside the pattern", async () => {
            await send(post({ notificationId: "just-sent", userId: "u-1", body: "b", channels: ["push"] }));
            const notYet = await statusFn.invoke<HttpApiResult>(getStatus("just-sent"));
            expect(notYet.statusCode).to.equal(404);
            expect(bodyOf(notYet)).to.deep.equal({ message: "Nothing is recorded for notification just-sent (yet)" });
            const bad = await statusFn.invoke<HttpApiResult>(getStatus("not an id"));
            expect(bad.statusCode).to.equal(400);
            expect(bodyOf(bad).errors).to.deep.equal([{ field: "id", problem: "must match [A-Za-z0-9_-]{1,128}" }]);
            await receiveAll("push");
        });
    });
});

/** The SDK variables the functions read, pointed at the emulators (useEmulatorEnv's values). */
function processEnv(emulators: Emulators): Record<string, string> {
    return {
        AWS_REGION: emulators.endpoints.region,
        AWS_ACCESS_KEY_ID: "AKIDLOCALEMULATOR",
        AWS_SECRET_ACCESS_KEY: "local-emulator-secret",
    };
}
