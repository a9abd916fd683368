/**
 * End to end through `npm run sandbox -- --serve` (startLocalApi on the dev stack): the program's real
 * routes (issue 11's contract), shipped closures on the local cloud, a real HTTP client — curl signing
 * SigV4 for the producer routes, fetch with the dev JWT for the app-user routes. A notification sent
 * through the API is delivered on all four channels, its status is readable, a device registers, the
 * inbox shows the item (and only to its user) and marks it read.
 */
import { expect } from "chai";
import { type LocalApi, startLocalApi } from "../../toolkit/local-api/server";
import { curl } from "./curl";

interface InboxItem {
    id: string;
    notificationId: string;
    title: string;
    body: string;
    read: boolean;
}
interface InboxPage {
    items: InboxItem[];
    unreadCount: number;
    nextCursor?: string;
}

describe("local API end to end (npm run sandbox -- --serve, dev stack)", function () {
    let api: LocalApi;
    const lines: string[] = [];
    const notificationId = `e2e-${Date.now().toString(36)}`;
    const request = {
        notificationId,
        userId: "",
        channels: ["push", "email", "sms", "inapp"],
        title: "Your order shipped",
        body: "Order A-17 is on its way",
        subject: "Order A-17 shipped",
    };
    const sigv4 = () => ({ key: api.credentials.accessKeyId, secret: api.credentials.secretAccessKey });
    const asUser = (token: string, method = "GET", body?: unknown) => ({
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const send = (body: unknown, key: string) =>
        curl(`${api.url}/v1/notifications`, {
            method: "POST",
            sigv4: sigv4(),
            headers: { "content-type": "application/json", "idempotency-key": key },
            body: JSON.stringify(body),
        });

    const inboxOf = async (token: string) =>
        (await (await fetch(`${api.url}/v1/me/inbox`, asUser(token))).json()) as InboxPage;

    before(async function () {
        api = await startLocalApi({ stack: "dev", print: (line) => lines.push(line) });
        request.userId = api.sampleUserId;
    });
    after(async () => api?.close());

    it("serves the contract's routes with their authorizers", function () {
        const table = Object.fromEntries(api.routes.map((r) => [r.routeKey, r.auth]));
        expect(table).to.include({
            "POST /v1/notifications": "iam",
            "GET /v1/notifications/{id}": "iam",
            "PUT /v1/me/devices/{deviceId}": "jwt",
            "DELETE /v1/me/devices/{deviceId}": "jwt",
            "GET /v1/me/preferences": "jwt",
            "PUT /v1/me/preferences": "jwt",
            "GET /v1/me/inbox": "jwt",
            "POST /v1/me/inbox/{id}/read": "jwt",
            "POST /v1/me/inbox/read-all": "jwt",
        });
    });

    it("accepts a signed notification (202), delivers it on every channel, answers the same key the same", async function () {
        const first = await send(request, notificationId);
        expect(first.status, first.body).to.equal(202);
        expect(JSON.parse(first.body)).to.deep.equal({ notificationId });
        for (const channel of ["push", "email", "sms", "inapp"])
            expect(lines.join("\n"), channel).to.match(new RegExp(`${channel}: \\d+ message\\(s\\) handled`));
        const again = await send(request, notificationId);
        expect(again.status).to.equal(202);
        expect(JSON.parse(again.body)).to.deep.equal({ notificationId });
        const conflict = await send({ ...request, body: "another body" }, notificationId);
        expect(conflict.status).to.equal(409);
        const unsigned = await curl(`${api.url}/v1/notifications`, { method: "POST", body: JSON.stringify(request) });
        expect(unsigned.status).to.equal(403);
    });

    it("reads the notification's per-recipient status from the delivery log", async function () {
        const status = await curl(`${api.url}/v1/notifications/${notificationId}`, { sigv4: sigv4() });
        expect(status.status, status.body).to.equal(200);
        const answer = JSON.parse(status.body);
        expect(answer.notificationId).to.equal(notificationId);
        const channels = new Set(answer.recipients.map((r: { channel: string }) => r.channel));
        expect([...channels].sort()).to.deep.equal(["email", "inapp", "push", "sms"]);
        for (const r of answer.recipients) {
            expect(r.status, `${r.channel} ${r.recipientKey}`).to.be.oneOf(["SENT", "DELIVERED"]);
            expect(r.createdAt).to.be.a("string");
        }
        const unknown = await curl(`${api.url}/v1/notifications/never-sent`, { sigv4: sigv4() });
        expect(unknown.status).to.equal(404);
    });

    it("registers a device for the token's user (JWT) and refuses a request without a token", async function () {
        const token = "a".repeat(64);
        const put = await fetch(
            `${api.url}/v1/me/devices/e2e-phone`,
            asUser(api.sampleToken, "PUT", { platform: "ios", token }),
        );
        expect(put.status).to.equal(200);
        expect(await put.json()).to.deep.equal({ deviceId: "e2e-phone", platform: "ios" });
        const anonymous = await fetch(`${api.url}/v1/me/devices/e2e-phone`, {
            method: "PUT",
            body: JSON.stringify({ platform: "ios", token }),
        });
        expect(anonymous.status).to.equal(401);
    });

    it("shows the item in its user's inbox with the unread count, marks it read; another user sees none of it", async function () {
        const inbox = await inboxOf(api.sampleToken);
        const item = inbox.items.find((i) => i.notificationId === notificationId)!;
        expect(item, JSON.stringify(inbox)).to.include({ title: request.title, body: request.body, read: false });
        expect(inbox.unreadCount).to.be.at.least(1);
        const read = await fetch(
            `${api.url}/v1/me/inbox/${encodeURIComponent(item.id)}/read`,
            asUser(api.sampleToken, "POST"),
        );
        expect(read.status).to.equal(200);
        expect(await read.json()).to.deep.equal({ id: item.id, read: true });
        const after = await inboxOf(api.sampleToken);
        expect(after.unreadCount).to.equal(inbox.unreadCount - 1);
        expect(after.items.find((i) => i.id === item.id)?.read).to.equal(true);

        const stranger = await api.issuer.mint("e2e-stranger");
        const theirs = await inboxOf(stranger);
        expect(theirs).to.deep.include({ items: [], unreadCount: 0 });
        const steal = await fetch(
            `${api.url}/v1/me/inbox/${encodeURIComponent(item.id)}/read`,
            asUser(stranger, "POST"),
        );
        expect(steal.status).to.equal(404);
    });
});
