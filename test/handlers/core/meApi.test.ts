import { expect } from "chai";
import { CHANNELS } from "../../../handlers/core/channels";
import {
    APNS_TOKEN_PATTERN,
    deviceTtlDays,
    FCM_TOKEN_PATTERN,
    parseDeviceRegistration,
    registerDeviceUpdate,
    validDeviceId,
} from "../../../handlers/core/api/devices";
import {
    cursorKeyFromMac,
    encodeCursor,
    itemView,
    parseItemIdParam,
    parsePageRequest,
    verifyCursor,
} from "../../../handlers/core/api/inbox";
import { meCaller } from "../../../handlers/core/api/me";
import { parsePreferencesUpdate, preferencesView, preferencesWrites } from "../../../handlers/core/api/preferences";
import { inboxItemId } from "../../../handlers/core/inbox";
import { jwtEvent } from "../api/events";

const KEY = cursorKeyFromMac(new Uint8Array(32).fill(1));
const OTHER_KEY = cursorKeyFromMac(new Uint8Array(32).fill(2));
const ITEM = inboxItemId(1_796_000_000_000, "order-1");

describe("/v1/me pure cores", () => {
    describe("caller", () => {
        it("is the token's sub, refused without one (401) or when no sender could address it (403)", () => {
            const ev = (sub: string | null | "no-sub") =>
                jwtEvent({ routeKey: "GET /v1/me/inbox", path: "/v1/me/inbox", sub });
            expect(meCaller(ev("u-42"))).to.deep.equal({ ok: true, value: "u-42" });
            const refused = (sub: string | null | "no-sub") => {
                const out = meCaller(ev(sub));
                return out.ok ? 0 : out.result.statusCode;
            };
            expect(refused(null)).to.equal(401);
            expect(refused("no-sub")).to.equal(401);
            expect(refused("")).to.equal(401);
            expect(refused("auth0|abc")).to.equal(403);
            expect(refused("x".repeat(129))).to.equal(403);
        });
    });

    describe("inbox cursor", () => {
        it("round-trips for its user and key only", () => {
            const cursor = encodeCursor(KEY, "ann", ITEM);
            expect(verifyCursor(KEY, "ann", cursor)).to.equal(ITEM);
            expect(verifyCursor(KEY, "bob", cursor)).to.equal(undefined);
            expect(verifyCursor(OTHER_KEY, "ann", cursor)).to.equal(undefined);
        });

        it("refuses any altered character, another item under the same MAC, and shapes that are not cursors", () => {
            const cursor = encodeCursor(KEY, "ann", ITEM);
            for (let i = 0; i < cursor.length; i++) {
                if (cursor[i] === ".") continue;
                const altered = cursor.slice(0, i) + (cursor[i] === "A" ? "B" : "A") + cursor.slice(i + 1);
                expect(verifyCursor(KEY, "ann", altered), `position ${i}`).to.equal(undefined);
            }
            const [item, mac] = cursor.split(".");
            // Every other character at the last position (whose low bits base64 does not use) and the item's.
            const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            for (const c of alphabet) {
                if (c !== mac[42])
                    expect(verifyCursor(KEY, "ann", `${item}.${mac.slice(0, 42)}${c}`), c).to.equal(undefined);
                if (c !== item.at(-1))
                    expect(verifyCursor(KEY, "ann", `${item.slice(0, -1)}${c}.${mac}`), c).to.equal(undefined);
            }
            const other = Buffer.from(inboxItemId(1_796_000_000_001, "order-1")).toString("base64url");
            expect(verifyCursor(KEY, "ann", `${other}.${mac}`)).to.equal(undefined);
            const notAnItem = Buffer.from("ann#everything").toString("base64url");
            expect(verifyCursor(KEY, "ann", `${notAnItem}.${mac}`)).to.equal(undefined);
            for (const bad of ["", ".", "abc", `${cursor}.x`, `${cursor}=`])
                expect(verifyCursor(KEY, "ann", bad)).to.equal(undefined);
        });

        it("the key is GenerateMac's 32-byte HMAC-SHA-256 output, or an error: never a shorter or missing key", () => {
            const mac = new Uint8Array(32).map((_, i) => i);
            expect(cursorKeyFromMac(mac).equals(Buffer.from(mac))).to.equal(true);
            expect(() => cursorKeyFromMac(mac.subarray(0, 31))).to.throw(/31 bytes/);
            expect(() => cursorKeyFromMac(new Uint8Array(0))).to.throw(/0 bytes/);
            expect(() => cursorKeyFromMac(undefined)).to.throw(/no bytes/);
            expect(() => cursorKeyFromMac(new Uint8Array(48))).to.throw(/48 bytes/);
        });

        it("limit 1-100 (default 20) and the cursor are parsed from the query", () => {
            const ev = (query?: Record<string, string>) =>
                jwtEvent({ routeKey: "GET /v1/me/inbox", path: "/v1/me/inbox", sub: "ann", query });
            expect(parsePageRequest(ev(), KEY, "ann")).to.deep.equal({ ok: true, value: { limit: 20 } });
            expect(parsePageRequest(ev({ limit: "100" }), KEY, "ann")).to.deep.equal({
                ok: true,
                value: { limit: 100 },
            });
            const cursor = encodeCursor(KEY, "ann", ITEM);
            expect(parsePageRequest(ev({ limit: "1", cursor }), KEY, "ann")).to.deep.equal({
                ok: true,
                value: { limit: 1, after: ITEM },
            });
            for (const limit of ["0", "101", "1e2", " 5", "x"])
                expect(parsePageRequest(ev({ limit }), KEY, "ann").ok, limit).to.equal(false);
            expect(parsePageRequest(ev({ cursor }), KEY, "bob").ok).to.equal(false);
        });

        it("item ids in the path are checked before any lookup", () => {
            const ev = (id: string) =>
                jwtEvent({ routeKey: "POST /v1/me/inbox/{id}/read", path: "/", sub: "ann", pathParameters: { id } });
            expect(parseItemIdParam(ev(ITEM))).to.deep.equal({ ok: true, value: ITEM });
            expect(parseItemIdParam(ev("1_x")).ok).to.equal(false);
        });

        it("the item view shows the contract's fields only", () => {
            const view = itemView({
                userId: "ann",
                itemId: ITEM,
                notificationId: "order-1",
                title: "t",
                body: "b",
                createdAt: "2026-12-01T00:00:00.000Z",
                read: false,
                unreadUserId: "ann",
                expiresAt: 1,
            });
            expect(view).to.deep.equal({
                id: ITEM,
                notificationId: "order-1",
                title: "t",
                body: "b",
                createdAt: "2026-12-01T00:00:00.000Z",
                read: false,
            });
        });
    });

    describe("devices", () => {
        it("device ids: [A-Za-z0-9_-]{1,128}, never the summary item", () => {
            expect(validDeviceId("ann-iphone_2")).to.equal(true);
            for (const bad of ["", "#summary", "a b", "a/b", "x".repeat(129), undefined])
                expect(validDeviceId(bad)).to.equal(false);
        });

        it("APNs: even-length hex of 64-200 digits; FCM: its token charset, 32-4096 characters", () => {
            expect(APNS_TOKEN_PATTERN.test("ab".repeat(32))).to.equal(true);
            expect(APNS_TOKEN_PATTERN.test("AB".repeat(50))).to.equal(true);
            for (const bad of ["ab".repeat(31), `${"ab".repeat(32)}a`, "ab".repeat(101), "g".repeat(64)])
                expect(APNS_TOKEN_PATTERN.test(bad), bad).to.equal(false);
            expect(FCM_TOKEN_PATTERN.test(`dXkJ3:APA91bH${"a_-".repeat(48)}`)).to.equal(true);
            for (const bad of ["short", "a".repeat(31), `${"a".repeat(40)} b`, `${"a".repeat(40)}\n`, "a".repeat(4097)])
                expect(FCM_TOKEN_PATTERN.test(bad), bad).to.equal(false);
        });

        it("the registration lower-cases APNs hex and names every problem", () => {
            const ev = (deviceId: string, body: unknown) =>
                jwtEvent({
                    routeKey: "PUT /v1/me/devices/{deviceId}",
                    path: "/",
                    sub: "ann",
                    pathParameters: { deviceId },
                    body,
                });
            expect(parseDeviceRegistration(ev("p", { platform: "ios", token: "AB".repeat(32) }))).to.deep.equal({
                ok: true,
                value: { deviceId: "p", platform: "ios", token: "ab".repeat(32) },
            });
            const out = parseDeviceRegistration(ev("#x", { platform: "ios", token: "nope" }));
            expect(out.ok).to.equal(false);
            if (!out.ok)
                expect(JSON.parse(out.result.body).errors.map((e: any) => e.field)).to.deep.equal([
                    "deviceId",
                    "token",
                ]);
        });

        it("the update keeps the endpoint write-back attributes and sets the TTL from the days given", () => {
            const now = Date.UTC(2026, 11, 1);
            const input = registerDeviceUpdate(
                "devices",
                "ann",
                { deviceId: "p", platform: "ios", token: "t" },
                now,
                30,
            );
            expect(input.UpdateExpression).not.to.match(/endpointArn|endpointToken/);
            expect(input.ExpressionAttributeValues[":expiresAt"]).to.deep.equal({
                N: String(now / 1000 + 30 * 86_400),
            });
            expect(input.Key).to.deep.equal({ userId: { S: "ann" }, deviceId: { S: "p" } });
            expect(deviceTtlDays(undefined)).to.equal(270);
            expect(() => deviceTtlDays("0")).to.throw();
        });
    });

    describe("preferences", () => {
        const ev = (body: unknown) => jwtEvent({ routeKey: "PUT /v1/me/preferences", path: "/", sub: "ann", body });

        it("parses channels from CHANNELS, an IANA zone, a BCP-47 locale and HH:MM quiet hours", () => {
            const body = {
                channels: { [CHANNELS[0]]: { optIn: true, quietHours: { start: "23:30", end: "06:45" } } },
                timezone: "America/Argentina/Buenos_Aires",
                locale: "pt-BR",
            };
            expect(parsePreferencesUpdate(ev(body))).to.deep.equal({ ok: true, value: body });
        });

        it("writes only optIn/quietHours on channel rows and timezone/locale on the profile, in one transaction", () => {
            const writes = preferencesWrites(
                "prefs",
                "ann",
                { channels: { push: { optIn: false } }, locale: "en" },
                Date.UTC(2026, 0, 1),
            )!;
            expect(writes.TransactItems).to.have.length(2);
            const [channel, profile] = writes.TransactItems.map((i: any) => i.Update);
            expect(channel.Key).to.deep.equal({ userId: { S: "ann" }, channel: { S: "push" } });
            expect(channel.UpdateExpression).to.equal("SET #optIn = :optIn, #updatedAt = :now REMOVE #quietHours");
            expect(profile.Key).to.deep.equal({ userId: { S: "ann" }, channel: { S: "profile" } });
            expect(Object.values(profile.ExpressionAttributeNames).sort()).to.deep.equal(["locale", "updatedAt"]);
            expect(preferencesWrites("prefs", "ann", {}, 0)).to.equal(undefined);
        });

        it("the view hides platform fields and channels no longer in CHANNELS", () => {
            expect(
                preferencesView([
                    {
                        userId: "ann",
                        channel: "profile",
                        timezone: "UTC",
                        segment: "s",
                        emailSuppressed: true,
                        email: "a@b.c",
                    },
                    { userId: "ann", channel: "push", optIn: false, quietHours: { start: "22:00", end: "07:00" } },
                    { userId: "ann", channel: "pager", optIn: true },
                ]),
            ).to.deep.equal({
                channels: { push: { optIn: false, quietHours: { start: "22:00", end: "07:00" } } },
                timezone: "UTC",
            });
        });
    });
});
