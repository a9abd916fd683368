/**
 * The /v1/me routes (JWT auth) as they ship: the fixture program test/fixtures/me-routes-program turns
 * `meRoutes(...)` into Processors over the real Storage component (as the Api component does per route),
 * the loader extracts each serialized closure, and every call goes to DynamoDB Local with tables created
 * from TABLES. Events are HTTP API payload 2.0 events with a JWT authorizer context (events.ts).
 * Checked: every route's happy path, every route refusing an event without claims (401), and on every
 * route that a token for user A never reads or writes B's data. KMS is the local cloud's KmsStandIn
 * (HMAC-SHA-256 with a random key per KeyId): the list route derives its cursor key from it.
 */
import * as path from "node:path";
import { DisabledException, KMSInternalException } from "@aws-sdk/client-kms";
import { expect } from "chai";
import { CHANNELS } from "../../../handlers/core/channels";
import { inboxItemId } from "../../../handlers/core/inbox";
import { ME_ROUTE_NAMES } from "../../../infra/routes/me";
import { type Emulators, startEmulators, useEmulatorEnv } from "../../../toolkit/local-cloud/emulators";
import { captureStdout } from "../../../toolkit/local-cloud/platform";
import { type LoadedFunction, type LoadedProgram, loadProgram } from "../../../toolkit/local-cloud/program";
import { createDataPlane, type DataPlane } from "../../../toolkit/local-cloud/resources";
import { KmsStandIn, MobileStandIn } from "../../../toolkit/local-cloud/sdk";
import { eventSourceFilter, TableStream } from "../../../toolkit/local-cloud/streams";
import { runGate } from "../../../toolkit/gate/gate";
import { jwtEvent } from "../api/events";

const FIXTURE = path.join(__dirname, "..", "..", "fixtures", "me-routes-program");
const IOS_TOKEN = "A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90";
const FCM_TOKEN = `fGcmAbc123:APA91b${"x".repeat(140)}`;

type Answer = { statusCode: number; headers: Record<string, string>; body: string };
const parse = (a: Answer) => (a.body ? JSON.parse(a.body) : undefined);

describe("emulator: the /v1/me routes (serialized closures, DynamoDB Local)", function () {
    this.timeout(180_000);
    let program: LoadedProgram;
    let emulators: Emulators;
    let restoreEnv: () => void;
    let plane: DataPlane;
    let kms: KmsStandIn;
    const fns = new Map<string, LoadedFunction>();

    /** A new container of the route's shipped closure (its factory runs: a cold start). */
    const coldStart = (name: string) => {
        const shipped = program.fn(`${name}-fn`);
        return shipped.load({
            ...plane.rewriteEnv(shipped.environment),
            LOG_LEVEL: process.env.NOTIFY_TEST_LOG_LEVEL ?? "ERROR",
        });
    };
    const fn = (name: string) => {
        if (!fns.has(name)) fns.set(name, coldStart(name));
        return fns.get(name)!;
    };
    const call = (name: string, event: unknown) => fn(name).invoke<Answer>(event);

    // One event builder per route.
    const putDevice = (sub: string | null, deviceId: string, body: unknown) =>
        call(
            "me-devices-put",
            jwtEvent({
                routeKey: "PUT /v1/me/devices/{deviceId}",
                path: `/v1/me/devices/${deviceId}`,
                sub,
                pathParameters: { deviceId },
                body,
            }),
        );
    const deleteDevice = (sub: string | null, deviceId: string) =>
        call(
            "me-devices-delete",
            jwtEvent({
                routeKey: "DELETE /v1/me/devices/{deviceId}",
                path: `/v1/me/devices/${deviceId}`,
                sub,
                pathParameters: { deviceId },
            }),
        );
    const getPreferences = (sub: string | null) =>
        call("me-preferences-get", jwtEvent({ routeKey: "GET /v1/me/preferences", path: "/v1/me/preferences", sub }));
    const putPreferences = (sub: string | null, body: unknown, rawBody?: string) =>
        call(
            "me-preferences-put",
            jwtEvent({ routeKey: "PUT /v1/me/preferences", path: "/v1/me/preferences", sub, body, rawBody }),
        );
    const listInbox = (sub: string | null, query?: Record<string, string>) =>
        call("me-inbox-list", jwtEvent({ routeKey: "GET /v1/me/inbox", path: "/v1/me/inbox", sub, query }));
    const markRead = (sub: string | null, id: string) =>
        call(
            "me-inbox-read-item",
            jwtEvent({
                routeKey: "POST /v1/me/inbox/{id}/read",
                path: `/v1/me/inbox/${id}/read`,
                sub,
                pathParameters: { id },
            }),
        );
    const readAll = (sub: string | null) =>
        call(
            "me-inbox-read-all",
            jwtEvent({ routeKey: "POST /v1/me/inbox/read-all", path: "/v1/me/inbox/read-all", sub }),
        );

    const device = (userId: string, deviceId: string) => plane.db.getItem(plane.tables.devices, { userId, deviceId });
    const prefRows = (userId: string) => plane.db.queryAll(plane.tables.preferences, "userId", userId);
    const inboxRow = (userId: string, itemId: string) => plane.db.getItem(plane.tables.inbox, { userId, itemId });

    /** Inbox items as the contract says the inbox sender writes them; `read` ones have no unreadUserId. */
    async function seedInbox(
        userId: string,
        count: number,
        opts: { start: number; readEvery?: number; expired?: boolean },
    ) {
        const items = [];
        for (let i = 0; i < count; i++) {
            const at = opts.start + i * 1000;
            const read = opts.readEvery ? i % opts.readEvery === 0 : false;
            const notificationId = `n-${userId}-${i}`;
            items.push({
                userId,
                itemId: inboxItemId(at, notificationId),
                notificationId,
                title: `Title ${i}`,
                body: `Body ${i} for ${userId}`,
                ...(i % 2 === 0 ? { data: { orderId: String(i) } } : {}),
                createdAt: new Date(at).toISOString(),
                read,
                ...(read ? { readAt: new Date(at + 500).toISOString() } : { unreadUserId: userId }),
                expiresAt: Math.floor(Date.now() / 1000) + (opts.expired ? -3600 : 86_400),
            });
        }
        await plane.db.putItems(plane.tables.inbox, items);
        return items;
    }

    before(async () => {
        program = await loadProgram({ programDir: FIXTURE, stack: "test" });
        emulators = await startEmulators({ region: "eu-west-1" });
        restoreEnv = useEmulatorEnv(emulators.endpoints);
        plane = await createDataPlane(program, emulators.endpoints);
        kms = new KmsStandIn();
    });
    after(async () => {
        kms?.restore();
        restoreEnv?.();
        await emulators?.close();
    });

    describe("what the program ships", () => {
        it("one JWT route per spec, each with DynamoDB actions on exactly its own table or index", () => {
            const routeTable = (program.result.outputs as Record<string, any>).routeTable;
            expect(routeTable.map((r: any) => `${r.auth} ${r.routeKey}`)).to.deep.equal([
                "jwt PUT /v1/me/devices/{deviceId}",
                "jwt DELETE /v1/me/devices/{deviceId}",
                "jwt GET /v1/me/preferences",
                "jwt PUT /v1/me/preferences",
                "jwt GET /v1/me/inbox",
                "jwt POST /v1/me/inbox/{id}/read",
                "jwt POST /v1/me/inbox/read-all",
            ]);
            const tableArn = (name: string) =>
                program.ofType("aws:dynamodb/table:Table").find((t) => t.name.endsWith(`-${name}`))!.outputs.arn;
            const expected: Record<string, string[]> = {
                "me-devices-put": [`dynamodb:UpdateItem ${tableArn("devices")}`],
                "me-devices-delete": [`dynamodb:DeleteItem ${tableArn("devices")}`],
                "me-preferences-get": [`dynamodb:Query ${tableArn("preferences")}`],
                "me-preferences-put": [
                    `dynamodb:UpdateItem ${tableArn("preferences")}`,
                    `dynamodb:Query ${tableArn("preferences")}`,
                ],
                "me-inbox-list": [
                    `dynamodb:Query ${tableArn("inbox")}`,
                    `dynamodb:Query ${tableArn("inbox")}/index/byUnread`,
                ],
                "me-inbox-read-item": [`dynamodb:UpdateItem ${tableArn("inbox")}`],
                "me-inbox-read-all": [
                    `dynamodb:Query ${tableArn("inbox")}/index/byUnread`,
                    `dynamodb:UpdateItem ${tableArn("inbox")}`,
                ],
            };
            for (const [name, grants] of Object.entries(expected)) {
                const policy = program
                    .ofType("aws:iam/rolePolicy:RolePolicy")
                    .find((p) => p.name === `${name}-policy`)!;
                const statements = JSON.parse(policy.inputs.policy).Statement as any[];
                const dynamo = statements
                    .filter((s) => [s.Action].flat().some((a: string) => a.startsWith("dynamodb:")))
                    .flatMap((s) =>
                        [s.Action].flat().flatMap((a: string) => [s.Resource].flat().map((r) => `${a} ${r}`)),
                    );
                expect(dynamo, name).to.deep.equal(grants);
                for (const s of statements) expect([s.Action].flat(), name).not.to.include("*");
            }
        });

        it("the list route alone may make HMAC-SHA-256 MACs with the HMAC key, and holds no key material", () => {
            const [macKey] = program.ofType("aws:kms/key:Key").filter((k) => k.name === "inbox-cursor-mac-key");
            expect(macKey.inputs).to.include({ customerMasterKeySpec: "HMAC_256", keyUsage: "GENERATE_VERIFY_MAC" });
            const keyArn = macKey.outputs.arn as string;
            expect(keyArn).to.match(/^arn:aws:kms:/);
            const kmsGrants = (name: string) =>
                (
                    JSON.parse(
                        program.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === `${name}-policy`)!.inputs
                            .policy,
                    ).Statement as any[]
                ).filter((s) => [s.Resource].flat().includes(keyArn));
            expect(kmsGrants("me-inbox-list")).to.deep.equal([
                {
                    Sid: "DeriveCursorKey",
                    Effect: "Allow",
                    Action: ["kms:GenerateMac"],
                    Resource: keyArn,
                    Condition: { StringEquals: { "kms:MacAlgorithm": "HMAC_SHA_256" } },
                },
            ]);
            for (const name of ME_ROUTE_NAMES.filter((n) => n !== "me-inbox-list")) {
                expect(kmsGrants(name), name).to.deep.equal([]);
                expect(program.fn(`${name}-fn`).environment, name).not.to.have.property("INBOX_CURSOR_MAC_KEY_ARN");
            }
            const listEnv = program.fn("me-inbox-list-fn").environment;
            expect(listEnv.INBOX_CURSOR_MAC_KEY_ARN).to.equal(keyArn);
            expect(Object.keys(listEnv).sort()).to.deep.equal(
                [
                    "INBOX_CURSOR_MAC_KEY_ARN",
                    "INBOX_TABLE",
                    "LOG_LEVEL",
                    "NOTIFY_STAGE",
                    "POWERTOOLS_METRICS_NAMESPACE",
                    "POWERTOOLS_SERVICE_NAME",
                ].sort(),
            );
        });

        it("passes the policy gate (least privilege, encryption, tags, runtime) with every policy mandatory", () => {
            const report = runGate(program.result as any, { stack: "test", programDir: FIXTURE });
            expect(report.violations.map((v) => `${v.policy} ${v.resourceName}`)).to.deep.equal([]);
            expect(report.resourcesChecked).to.be.greaterThan(40);
        });

        it("the HMAC key: administered by the account, used only for HMAC_SHA_256 GenerateMac, no rotation to ask for", () => {
            const [macKey] = program.ofType("aws:kms/key:Key").filter((k) => k.name === "inbox-cursor-mac-key");
            expect(macKey.inputs).not.to.have.property("enableKeyRotation");
            expect(macKey.inputs.deletionWindowInDays).to.equal(30);
            const statements = JSON.parse(macKey.inputs.policy).Statement as any[];
            expect(statements.map((st) => st.Sid)).to.deep.equal([
                "AccountAdministersKey",
                "AccountRolesGenerateCursorMacs",
            ]);
            const [admin, use] = statements;
            const root = { AWS: `arn:aws:iam::${macKey.outputs.arn.split(":")[4]}:root` };
            expect(admin.Principal).to.deep.equal(root);
            expect(admin.Action).to.include.members(["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DescribeKey"]);
            for (const action of admin.Action as string[]) {
                expect(action, "administration only").not.to.match(/Rotat|Mac$|Encrypt|Decrypt|GenerateData/);
            }
            expect(use).to.deep.equal({
                Sid: "AccountRolesGenerateCursorMacs",
                Effect: "Allow",
                Principal: root,
                Action: ["kms:GenerateMac"],
                Resource: "*",
                Condition: {
                    StringEquals: { "kms:CallerAccount": root.AWS.split(":")[4], "kms:MacAlgorithm": "HMAC_SHA_256" },
                },
            });
        });

        it("the gate exempts the HMAC key from rotation because it is one (the same key as symmetric would fail)", () => {
            const rotationOf = (result: unknown) =>
                runGate(result as any, { stack: "test", programDir: FIXTURE }).violations.filter(
                    (v) => v.policy === "kms-key-rotation",
                );
            expect(rotationOf(program.result)).to.deep.equal([]);
            const symmetric = structuredClone(program.result) as any;
            const key = symmetric.resources.find((r: any) => r.name === "inbox-cursor-mac-key");
            delete key.inputs.customerMasterKeySpec;
            delete key.inputs.keyUsage;
            expect(rotationOf(symmetric).map((v) => [v.resourceName, v.level])).to.deep.equal([
                ["inbox-cursor-mac-key", "mandatory"],
            ]);
        });

        it("every route refuses an event without the authorizer's claims (401) or without a usable sub", async () => {
            const calls = [
                (sub: any) => putDevice(sub, "phone-1", { platform: "ios", token: IOS_TOKEN }),
                (sub: any) => deleteDevice(sub, "phone-1"),
                (sub: any) => getPreferences(sub),
                (sub: any) => putPreferences(sub, { timezone: "Europe/Vienna" }),
                (sub: any) => listInbox(sub),
                (sub: any) => markRead(sub, inboxItemId(1_700_000_000_000, "n-1")),
                (sub: any) => readAll(sub),
            ];
            for (const [i, route] of calls.entries()) {
                expect((await route(null)).statusCode, `route ${i} without authorizer`).to.equal(401);
                expect((await route("no-sub")).statusCode, `route ${i} without sub`).to.equal(401);
                expect((await route("auth0|5fe435")).statusCode, `route ${i} with an unaddressable sub`).to.equal(403);
            }
            expect(await plane.db.scanAll(plane.tables.devices)).to.deep.equal([]);
            expect(await plane.db.scanAll(plane.tables.preferences)).to.deep.equal([]);
        });
    });

    describe("PUT / DELETE /v1/me/devices/{deviceId}", () => {
        it("registers the caller's device with what device maintenance reads: platform, token, enabled, lastSeen, TTL", async () => {
            const before = Date.now();
            const out = await putDevice("dev-ann", "ann-iphone", { platform: "ios", token: IOS_TOKEN });
            expect(out.statusCode).to.equal(200);
            expect(parse(out)).to.deep.equal({ deviceId: "ann-iphone", platform: "ios" });
            const row = (await device("dev-ann", "ann-iphone"))!;
            expect(row).to.include({ userId: "dev-ann", deviceId: "ann-iphone", platform: "ios", enabled: true });
            expect(row.token, "APNs hex stored lower-case").to.equal(IOS_TOKEN.toLowerCase());
            expect(Date.parse(row.lastSeen as string)).to.be.within(before, Date.now());
            // The fixture gives deviceTtlDays 30.
            expect(row.expiresAt).to.be.within(
                Math.floor(before / 1000) + 30 * 86_400,
                Math.floor(Date.now() / 1000) + 30 * 86_400,
            );

            const android = await putDevice("dev-ann", "ann-pixel", { platform: "android", token: FCM_TOKEN });
            expect(android.statusCode).to.equal(200);
            expect((await device("dev-ann", "ann-pixel"))!.token).to.equal(FCM_TOKEN);
        });

        it("a new token keeps the endpoint device maintenance wrote back and re-enables a disabled device", async () => {
            await plane.db.putItem(plane.tables.devices, {
                userId: "dev-bea",
                deviceId: "bea-phone",
                platform: "android",
                token: "old-token-of-bea-000000000000000000000",
                endpointArn: "arn:aws:sns:eu-west-1:000000000000:endpoint/GCM/app/bea",
                endpointToken: "old-token-of-bea-000000000000000000000",
                enabled: false,
                disabledReason: "EndpointDisabled",
                disabledAt: "2026-01-01T00:00:00.000Z",
            });
            expect(
                (await putDevice("dev-bea", "bea-phone", { platform: "android", token: FCM_TOKEN })).statusCode,
            ).to.equal(200);
            const row = (await device("dev-bea", "bea-phone"))!;
            expect(row).to.include({
                token: FCM_TOKEN,
                enabled: true,
                endpointArn: "arn:aws:sns:eu-west-1:000000000000:endpoint/GCM/app/bea",
                endpointToken: "old-token-of-bea-000000000000000000000",
            });
            expect(row).not.to.have.property("disabledReason");
            expect(row).not.to.have.property("disabledAt");
        });

        it("a DynamoDB failure past the SDK's retries answers 500 without its details", async () => {
            const fault = (operation: string, body: string) =>
                operation === "UpdateItem" && body.includes(plane.tables.devices);
            emulators.dynamodbFaults.push(fault);
            try {
                const out = await putDevice("dev-err", "phone", { platform: "ios", token: IOS_TOKEN });
                expect(out.statusCode).to.equal(500);
                expect(parse(out)).to.deep.equal({ message: "Internal error" });
            } finally {
                emulators.dynamodbFaults.splice(emulators.dynamodbFaults.indexOf(fault), 1);
            }
            expect((await putDevice("dev-err", "phone", { platform: "ios", token: IOS_TOKEN })).statusCode).to.equal(
                200,
            );
        });

        it("a device id registered with the other platform is refused (409), the row unchanged", async () => {
            const out = await putDevice("dev-ann", "ann-iphone", { platform: "android", token: FCM_TOKEN });
            expect(out.statusCode).to.equal(409);
            expect((await device("dev-ann", "ann-iphone"))!.platform).to.equal("ios");
        });

        it("refuses a bad device id, a token that fails its platform's pattern, unknown fields, bad JSON (400) and a large body (413)", async () => {
            const ok = { platform: "ios", token: IOS_TOKEN };
            const cases: [string, unknown, string][] = [
                ["#summary", ok, "deviceId"],
                ["a/b", ok, "deviceId"],
                ["x".repeat(129), ok, "deviceId"],
                ["phone", { platform: "ios", token: "zz".repeat(32) }, "token"],
                ["phone", { platform: "ios", token: IOS_TOKEN.slice(0, 63) }, "token"],
                ["phone", { platform: "ios", token: IOS_TOKEN.slice(0, 62) }, "token"],
                ["phone", { platform: "ios", token: 42 }, "token"],
                ["phone", { platform: "android", token: "short:token" }, "token"],
                ["phone", { platform: "android", token: `${FCM_TOKEN} with spaces` }, "token"],
                ["phone", { platform: "windows", token: IOS_TOKEN }, "platform"],
                ["phone", { platform: "ios", token: IOS_TOKEN, userId: "dev-bea" }, "userId"],
            ];
            for (const [deviceId, body, field] of cases) {
                const out = await putDevice("dev-cid", deviceId, body);
                expect(out.statusCode, `${deviceId} ${JSON.stringify(body)}`).to.equal(400);
                expect(
                    parse(out).errors.map((e: any) => e.field),
                    JSON.stringify(body),
                ).to.include(field);
            }
            const malformed = await call(
                "me-devices-put",
                jwtEvent({
                    routeKey: "PUT /v1/me/devices/{deviceId}",
                    path: "/v1/me/devices/phone",
                    sub: "dev-cid",
                    pathParameters: { deviceId: "phone" },
                    rawBody: "{not json",
                }),
            );
            expect(malformed.statusCode).to.equal(400);
            const large = await putDevice("dev-cid", "phone", { platform: "android", token: "a".repeat(9000) });
            expect(large.statusCode).to.equal(413);
            expect(await plane.db.queryAll(plane.tables.devices, "userId", "dev-cid")).to.deep.equal([]);
            const badDelete = await deleteDevice("dev-cid", "#summary");
            expect(badDelete.statusCode).to.equal(400);
        });

        it("user A never touches B's device of the same id: A's PUT writes A's row, A's DELETE deletes only A's", async () => {
            await putDevice("dev-bob", "shared-name", { platform: "ios", token: "ab".repeat(32) });
            const bobBefore = await device("dev-bob", "shared-name");
            expect(
                (await putDevice("dev-amy", "shared-name", { platform: "android", token: FCM_TOKEN })).statusCode,
            ).to.equal(200);
            expect(await device("dev-bob", "shared-name")).to.deep.equal(bobBefore);
            expect((await device("dev-amy", "shared-name"))!.platform).to.equal("android");

            expect((await deleteDevice("dev-amy", "shared-name")).statusCode).to.equal(204);
            expect(await device("dev-amy", "shared-name")).to.equal(undefined);
            expect(await device("dev-bob", "shared-name")).to.deep.equal(bobBefore);
            // A DELETE of a device A does not have is a no-op for everyone (idempotent 204).
            expect((await deleteDevice("dev-amy", "shared-name")).statusCode).to.equal(204);
            expect(await device("dev-bob", "shared-name")).to.deep.equal(bobBefore);
        });
    });

    describe("GET / PUT /v1/me/preferences", () => {
        it("GET for a user without rows is an empty preferences object", async () => {
            const out = await getPreferences("pref-new");
            expect(out.statusCode).to.equal(200);
            expect(parse(out)).to.deep.equal({ channels: {} });
        });

        it("PUT writes the rows the senders read and answers the whole object; platform-only fields stay and are never shown", async () => {
            // What the platform wrote: an address, a segment, the feedback processor's suppression.
            await plane.db.putItem(plane.tables.preferences, {
                userId: "pref-ann",
                channel: "profile",
                email: "ann@example.com",
                segment: "beta",
                emailSuppressed: true,
                emailSuppressedAddress: "ann@example.com",
            });
            const body = {
                channels: {
                    push: { optIn: false, quietHours: { start: "22:00", end: "07:00" } },
                    sms: { optIn: true },
                },
                timezone: "Europe/Vienna",
                locale: "de-AT",
            };
            const out = await putPreferences("pref-ann", body);
            expect(out.statusCode).to.equal(200);
            expect(parse(out)).to.deep.equal(body);
            const rows = Object.fromEntries((await prefRows("pref-ann")).map((r) => [r.channel, r]));
            expect(rows.push).to.include({ userId: "pref-ann", channel: "push", optIn: false });
            expect(rows.push.quietHours).to.deep.equal({ start: "22:00", end: "07:00" });
            expect(rows.sms).to.include({ optIn: true });
            expect(rows.profile).to.include({
                timezone: "Europe/Vienna",
                locale: "de-AT",
                email: "ann@example.com",
                segment: "beta",
                emailSuppressed: true,
                emailSuppressedAddress: "ann@example.com",
            });
            expect(parse(await getPreferences("pref-ann"))).to.deep.equal(body);

            // A channel given again without quietHours loses them; what was not given stays.
            const second = await putPreferences("pref-ann", { channels: { push: { optIn: true } } });
            expect(parse(second)).to.deep.equal({ ...body, channels: { push: { optIn: true }, sms: { optIn: true } } });
            expect((await prefRows("pref-ann")).find((r) => r.channel === "push")).not.to.have.property("quietHours");
        });

        it("accepts every channel of CHANNELS (inapp as soon as it is one) and no other", async () => {
            for (const channel of CHANNELS) {
                const out = await putPreferences("pref-all", { channels: { [channel]: { optIn: false } } });
                expect(out.statusCode, channel).to.equal(200);
            }
            const inapp = await putPreferences("pref-all", { channels: { inapp: { optIn: false } } });
            expect(inapp.statusCode).to.equal((CHANNELS as readonly string[]).includes("inapp") ? 200 : 400);
            expect(Object.keys(parse(await getPreferences("pref-all")).channels).sort()).to.deep.equal(
                [...CHANNELS].sort(),
            );
        });

        it("refuses a bad time zone, locale, quiet hours, channel and unknown or platform-only fields (400), writing nothing", async () => {
            const cases: [unknown, string][] = [
                [{ timezone: "Mars/Olympus_Mons" }, "timezone"],
                [{ timezone: "" }, "timezone"],
                [{ locale: "english_US" }, "locale"],
                [{ locale: 7 }, "locale"],
                [
                    { channels: { push: { optIn: true, quietHours: { start: "24:00", end: "07:00" } } } },
                    "channels.push.quietHours",
                ],
                [
                    { channels: { push: { optIn: true, quietHours: { start: "7:00", end: "08:00" } } } },
                    "channels.push.quietHours",
                ],
                [
                    { channels: { push: { optIn: true, quietHours: { start: "07:00", end: "07:00" } } } },
                    "channels.push.quietHours",
                ],
                [{ channels: { push: { optIn: "yes" } } }, "channels.push.optIn"],
                [{ channels: { push: { optIn: true, mute: true } } }, "channels.push.mute"],
                [{ channels: { fax: { optIn: true } } }, "channels.fax"],
                [{ channels: [] }, "channels"],
                [{ segment: "vip" }, "segment"],
                [{ emailSuppressed: false }, "emailSuppressed"],
                [{ email: "x@example.com" }, "email"],
                [{ userId: "pref-ann", timezone: "UTC" }, "userId"],
            ];
            for (const [body, field] of cases) {
                const out = await putPreferences("pref-bad", {
                    channels: { email: { optIn: false } },
                    ...(body as object),
                });
                expect(out.statusCode, JSON.stringify(body)).to.equal(400);
                expect(
                    parse(out).errors.map((e: any) => e.field),
                    JSON.stringify(body),
                ).to.include(field);
            }
            expect((await putPreferences("pref-bad", undefined, "{oops")).statusCode).to.equal(400);
            expect(await prefRows("pref-bad"), "a refused PUT writes no part of itself").to.deep.equal([]);
        });

        it("user A never reads or writes B's preferences", async () => {
            await putPreferences("pref-bob", { channels: { email: { optIn: false } }, timezone: "America/New_York" });
            const bobRows = await prefRows("pref-bob");
            await putPreferences("pref-amy", {
                channels: { email: { optIn: true } },
                timezone: "Asia/Tokyo",
                locale: "ja",
            });
            expect(await prefRows("pref-bob")).to.deep.equal(bobRows);
            expect(parse(await getPreferences("pref-amy"))).to.deep.equal({
                channels: { email: { optIn: true } },
                timezone: "Asia/Tokyo",
                locale: "ja",
            });
            expect(parse(await getPreferences("pref-bob"))).to.deep.equal({
                channels: { email: { optIn: false } },
                timezone: "America/New_York",
            });
        });
    });

    describe("the inbox: GET /v1/me/inbox, POST /v1/me/inbox/{id}/read, POST /v1/me/inbox/read-all", () => {
        const T0 = 1_796_000_000_000;
        let annItems: Record<string, any>[];
        let bobItems: Record<string, any>[];

        before(async () => {
            annItems = await seedInbox("inbox-ann", 45, { start: T0, readEvery: 4 }); // 12 read, 33 unread
            bobItems = await seedInbox("inbox-bob", 3, { start: T0 + 5 });
        });

        it("pages newest first with an opaque cursor and the unread count on every page", async () => {
            const seen: any[] = [];
            let cursor: string | undefined;
            const pages: number[] = [];
            for (let i = 0; i < 5; i++) {
                const out = await listInbox("inbox-ann", cursor ? { limit: "20", cursor } : { limit: "20" });
                expect(out.statusCode).to.equal(200);
                const page = parse(out);
                expect(page.unreadCount).to.equal(33);
                seen.push(...page.items);
                pages.push(page.items.length);
                cursor = page.nextCursor;
                if (!cursor) break;
                expect(cursor).not.to.contain("inbox-ann"); // nothing readable: the item id is encoded
            }
            expect(pages).to.deep.equal([20, 20, 5]);
            const newestFirst = [...annItems].sort((a, b) => (a.itemId < b.itemId ? 1 : -1));
            expect(seen.map((i) => i.id)).to.deep.equal(newestFirst.map((i) => i.itemId));
            const [first] = seen;
            const stored = newestFirst[0];
            expect(first).to.deep.equal({
                id: stored.itemId,
                notificationId: stored.notificationId,
                title: stored.title,
                body: stored.body,
                data: stored.data,
                createdAt: stored.createdAt,
                read: true, // item 44 of 45: every 4th is read
                readAt: stored.readAt,
            });
            const unread = seen.find((i) => !i.read);
            expect(unread).not.to.have.property("readAt");
            expect(seen.filter((i) => !i.read)).to.have.length(33);
            // Default page size 20; B sees only B's.
            expect(parse(await listInbox("inbox-ann")).items).to.have.length(20);
            const bob = parse(await listInbox("inbox-bob"));
            expect(bob.items.map((i: any) => i.id)).to.have.members(bobItems.map((i) => i.itemId));
            expect(bob.unreadCount).to.equal(3);
        });

        it("leaves out items past their TTL that DynamoDB has not deleted yet", async () => {
            await seedInbox("inbox-eve", 2, { start: T0 });
            await seedInbox("inbox-eve", 1, { start: T0 + 10_000, expired: true });
            const page = parse(await listInbox("inbox-eve"));
            expect(page.items).to.have.length(2);
        });

        it("refuses a tampered cursor, another user's cursor and a bad limit (400)", async () => {
            const cursor = parse(await listInbox("inbox-ann", { limit: "5" })).nextCursor as string;
            expect((await listInbox("inbox-ann", { cursor })).statusCode).to.equal(200);
            const [item, mac] = cursor.split(".");
            const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === "A" ? "B" : "A") + s.slice(at + 1);
            const otherItem = Buffer.from(annItems[3].itemId).toString("base64url");
            const tampered = [
                `${item}.${flip(mac, 5)}`,
                `${otherItem}.${mac}`,
                `${flip(item, 2)}.${mac}`,
                item,
                "not-a-cursor",
                `${item}.${mac}x`,
            ];
            for (const bad of tampered) {
                const out = await listInbox("inbox-ann", { cursor: bad });
                expect(out.statusCode, bad).to.equal(400);
                expect(parse(out).errors[0].field).to.equal("cursor");
            }
            // A's cursor replayed by B: 400, and nothing of A's comes back.
            const replay = await listInbox("inbox-bob", { cursor });
            expect(replay.statusCode).to.equal(400);
            expect(replay.body).not.to.contain("inbox-ann");
            for (const limit of ["0", "101", "abc", "-1", "2.5"]) {
                expect((await listInbox("inbox-ann", { limit })).statusCode, limit).to.equal(400);
            }
        });

        it("derives the cursor key with ONE GenerateMac per container, however many (and concurrent) list requests", async () => {
            const keyArn = program.fn("me-inbox-list-fn").environment.INBOX_CURSOR_MAC_KEY_ARN;
            const before = kms.generateMacCalls().length;
            const container = coldStart("me-inbox-list");
            const list = (sub: string, query?: Record<string, string>) =>
                container.invoke<Answer>(jwtEvent({ routeKey: "GET /v1/me/inbox", path: "/v1/me/inbox", sub, query }));
            // Concurrent first requests share the one derivation.
            const first = await Promise.all(Array.from({ length: 5 }, () => list("inbox-ann", { limit: "5" })));
            for (const out of first) expect(out.statusCode).to.equal(200);
            let cursor = parse(first[0]).nextCursor as string;
            for (let i = 0; i < 6; i++) {
                const out = await list("inbox-ann", { limit: "5", cursor });
                expect(out.statusCode).to.equal(200);
                cursor = parse(out).nextCursor;
            }
            expect((await list("inbox-bob")).statusCode).to.equal(200);
            const calls = kms.generateMacCalls().slice(before);
            expect(calls).to.deep.equal([
                {
                    operation: "GenerateMac",
                    keyId: keyArn,
                    algorithm: "HMAC_SHA_256",
                    message: "notify/inbox-cursor/v1",
                },
            ]);
            // Another container derives the same key from the same KMS key: a cursor from one works on the other.
            const fromOther = parse(await listInbox("inbox-ann", { limit: "5" })).nextCursor as string;
            expect((await list("inbox-ann", { limit: "5", cursor: fromOther })).statusCode).to.equal(200);
            expect(parse(first[0]).nextCursor).to.equal(fromOther);
        });

        it("a failed GenerateMac answers 503 (logged, no details, no cursor signed) and the next request derives again", async () => {
            const container = coldStart("me-inbox-list");
            const list = (query?: Record<string, string>) =>
                container.invoke<Answer>(
                    jwtEvent({ routeKey: "GET /v1/me/inbox", path: "/v1/me/inbox", sub: "inbox-ann", query }),
                );
            const cursor = parse(await listInbox("inbox-ann", { limit: "5" })).nextCursor as string;
            const before = kms.generateMacCalls().length;
            kms.failures.push(
                new KMSInternalException({ message: "internal error in kms-secret-detail", $metadata: {} }),
            );
            const logged: string[] = [];
            const failed = await captureStdout(logged, () => list({ limit: "5" }));
            expect(failed.statusCode).to.equal(503);
            const errors = logged.map((l) => JSON.parse(l)).filter((l) => l.level === "ERROR");
            expect(errors.map((l) => [l.message, l.error?.name])).to.deep.equal([
                [
                    "GET inbox unavailable: the inbox cursor key could not be derived (KMS GenerateMac)",
                    "KMSInternalException",
                ],
            ]);
            expect(parse(failed)).to.deep.equal({ message: "Service unavailable, try again later" });
            expect(failed.body).not.to.contain("kms-secret-detail");
            // A 503 even with a valid cursor in the request: nothing is checked or signed without the key.
            kms.failures.push(new DisabledException({ message: "key is disabled", $metadata: {} }));
            expect((await list({ limit: "5", cursor })).statusCode).to.equal(503);
            const ok = await list({ limit: "5", cursor });
            expect(ok.statusCode).to.equal(200);
            expect(parse(ok).items).to.have.length(5);
            // Two failed derivations, then one that succeeded and is kept.
            expect(kms.generateMacCalls().length - before).to.equal(3);
            expect((await list({ limit: "5" })).statusCode).to.equal(200);
            expect(kms.generateMacCalls().length - before).to.equal(3);
        });

        it("marks one of the caller's items read; B's item, a missing one or a bad id is refused and left unchanged", async () => {
            const target = annItems.find((i) => !i.read)!;
            const out = await markRead("inbox-ann", target.itemId);
            expect(out.statusCode).to.equal(200);
            expect(parse(out)).to.deep.equal({ id: target.itemId, read: true });
            const row = (await inboxRow("inbox-ann", target.itemId))!;
            expect(row.read).to.equal(true);
            expect(row).not.to.have.property("unreadUserId");
            const readAt = row.readAt;
            expect(Date.parse(readAt as string)).to.be.greaterThan(0);
            expect(parse(await listInbox("inbox-ann")).unreadCount).to.equal(32);
            // Again: still 200, readAt keeps the first time.
            expect((await markRead("inbox-ann", target.itemId)).statusCode).to.equal(200);
            expect((await inboxRow("inbox-ann", target.itemId))!.readAt).to.equal(readAt);

            const bobs = bobItems[0];
            const before = await inboxRow("inbox-bob", bobs.itemId);
            const cross = await markRead("inbox-ann", bobs.itemId);
            expect(cross.statusCode).to.equal(404);
            expect(await inboxRow("inbox-bob", bobs.itemId)).to.deep.equal(before);
            expect(await inboxRow("inbox-ann", bobs.itemId), "no item created for A").to.equal(undefined);
            expect((await markRead("inbox-ann", inboxItemId(T0 - 1, "never-sent"))).statusCode).to.equal(404);
            for (const bad of ["x", "123_abc", `${bobs.itemId}#`]) {
                expect((await markRead("inbox-ann", bad)).statusCode, bad).to.equal(400);
            }
        });

        it("read-all marks the caller's unread items, bounded per call, and never B's", async () => {
            await seedInbox("inbox-cat", 130, { start: T0 });
            const bobBefore = await plane.db.queryAll(plane.tables.inbox, "userId", "inbox-bob");
            const first = await readAll("inbox-cat");
            expect(first.statusCode).to.equal(200);
            expect(parse(first)).to.deep.equal({ updated: 100 });
            expect(parse(await listInbox("inbox-cat")).unreadCount).to.equal(30);
            expect(parse(await readAll("inbox-cat"))).to.deep.equal({ updated: 30 });
            expect(parse(await readAll("inbox-cat"))).to.deep.equal({ updated: 0 });
            const cat = await plane.db.queryAll(plane.tables.inbox, "userId", "inbox-cat");
            expect(
                cat.every((i) => i.read === true && typeof i.readAt === "string" && !("unreadUserId" in i)),
            ).to.equal(true);
            expect(parse(await listInbox("inbox-cat")).unreadCount).to.equal(0);

            expect(parse(await readAll("inbox-ann"))).to.deep.equal({ updated: 32 });
            expect(await plane.db.queryAll(plane.tables.inbox, "userId", "inbox-bob")).to.deep.equal(bobBefore);
            expect(parse(await listInbox("inbox-bob")).unreadCount).to.equal(3);
        });
    });

    describe("a registered device reaches SNS through the devices stream (the dev stack's device-maintenance closure)", () => {
        const APNS_APP = "arn:aws:sns:eu-west-1:000000000000:app/APNS_SANDBOX/notify-dev-ios";
        const FCM_APP = "arn:aws:sns:eu-west-1:000000000000:app/GCM/notify-dev-android";
        let standIn: MobileStandIn;
        let stream: TableStream;
        let maintenance: LoadedFunction;
        let passesFilter: (record: object) => boolean;

        before(async () => {
            const dev = await loadProgram({ stack: "dev" });
            const shipped = dev.fn("device-maintenance");
            standIn = new MobileStandIn();
            maintenance = shipped.load({
                ...shipped.environment,
                DEVICES_TABLE: plane.tables.devices,
                APNS_APPLICATION_ARN: APNS_APP,
                FCM_APPLICATION_ARN: FCM_APP,
                LOG_LEVEL: process.env.NOTIFY_TEST_LOG_LEVEL ?? "ERROR",
            });
            passesFilter = eventSourceFilter(dev, "device-maintenance");
            stream = await TableStream.open(plane.db, plane.tables.devices);
            await stream.skipToEnd();
        });
        after(() => {
            stream?.destroy();
            standIn?.restore();
        });

        /** Hands the stream's new records to device maintenance until it stops changing the table. */
        const settle = async () => {
            for (let round = 0; round < 5; round++) {
                const records = (await stream.changes()).filter(passesFilter);
                if (records.length === 0) return;
                const out = await maintenance.invoke<{ batchItemFailures: unknown[] }>({ Records: records });
                expect(out.batchItemFailures).to.deep.equal([]);
            }
            throw new Error("the devices stream did not settle");
        };

        it("PUT creates the endpoint; a new token repairs the same endpoint; DELETE deletes it", async () => {
            expect(
                (await putDevice("flow-ann", "ann-phone", { platform: "ios", token: IOS_TOKEN })).statusCode,
            ).to.equal(200);
            await settle();
            const row = (await device("flow-ann", "ann-phone"))!;
            const endpoint = standIn.endpoints.get(row.endpointArn as string)!;
            expect(endpoint).to.include({ applicationArn: APNS_APP, token: IOS_TOKEN.toLowerCase(), enabled: true });
            expect(row.endpointToken).to.equal(IOS_TOKEN.toLowerCase());
            const summary = (await device("flow-ann", "#summary"))!.devices as Record<string, unknown>;
            expect(summary["ann-phone"]).to.deep.equal({
                platform: "ios",
                enabled: true,
                endpointArn: row.endpointArn,
            });

            // The app registers again on every start: same token, no SNS change; a new token: same endpoint, new token.
            await putDevice("flow-ann", "ann-phone", { platform: "ios", token: IOS_TOKEN });
            await settle();
            expect(standIn.endpoints.size).to.equal(1);
            const newToken = "cd".repeat(32);
            await putDevice("flow-ann", "ann-phone", { platform: "ios", token: newToken });
            await settle();
            expect((await device("flow-ann", "ann-phone"))!.endpointArn).to.equal(row.endpointArn);
            expect(standIn.endpoints.get(row.endpointArn as string)).to.include({ token: newToken, enabled: true });
            expect(standIn.endpoints.size).to.equal(1);

            expect((await deleteDevice("flow-ann", "ann-phone")).statusCode).to.equal(204);
            await settle();
            expect(standIn.endpoints.has(row.endpointArn as string)).to.equal(false);
            expect((await device("flow-ann", "#summary"))!.devices).to.deep.equal({});
        });
    });
});
