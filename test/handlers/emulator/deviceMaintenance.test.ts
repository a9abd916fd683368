/**
 * The serialized device-maintenance function against DynamoDB Local, fed with the devices table's real
 * stream records (DynamoDB Streams GetRecords through TableStream, in Lambda's event shape, the
 * program's event-source filter applied), with SNS mobile push on the
 * aws-sdk-client-mock stand-in. Checked: the endpoint lifecycle (create, "already exists with different
 * attributes", token change, re-enable, delete on TTL removal), the write-back that does not loop,
 * the per-user summary, and partial batch responses.
 */
import { expect } from "chai";
import { CreatePlatformEndpointCommand, InternalErrorException } from "@aws-sdk/client-sns";
import type { LoadedFunction } from "../../../toolkit/local-cloud/program";
import { eventSourceFilter, type StreamRecord, TableStream } from "../../../toolkit/local-cloud/streams";
import { APNS_APP, createWorld, FCM_APP, type World } from "./world";

describe("emulator: serialized device maintenance (devices table stream)", function () {
    this.timeout(120_000);
    let world: World;
    let fn: LoadedFunction;
    let stream: TableStream;
    let passesFilter: (record: object) => boolean;

    const devices = () => world.plane.tables.devices;
    const row = (userId: string, deviceId: string) => world.plane.db.getItem(devices(), { userId, deviceId });
    const summary = async (userId: string) => ((await row(userId, "#summary"))?.devices ?? {}) as Record<string, any>;
    const snsCalls = () => world.counter.calls.filter((c) => c.service === "SNS").map((c) => c.operation);
    /** What Lambda would hand the function: the stream's records since the last read, filtered. */
    const pending = async (): Promise<StreamRecord[]> => (await stream.changes()).filter(passesFilter);
    const invoke = (records: StreamRecord[]) =>
        fn.invoke<{ batchItemFailures: { itemIdentifier: string }[] }>({ Records: records });

    /** Feeds the stream to the function until it stops changing the table (bounded). */
    const settle = async (maxRounds = 5) => {
        const rounds: { records: StreamRecord[]; sns: string[] }[] = [];
        for (let i = 0; i < maxRounds; i++) {
            const records = await pending();
            if (records.length === 0) return rounds;
            world.counter.reset();
            const out = await invoke(records);
            expect(out.batchItemFailures).to.deep.equal([]);
            rounds.push({ records, sns: snsCalls() });
        }
        throw new Error(`the devices stream did not settle within ${maxRounds} rounds`);
    };

    before(async function () {
        world = await createWorld();
        fn = world.load("device-maintenance");
        stream = await TableStream.open(world.plane.db, devices());
        passesFilter = eventSourceFilter(world.program, "device-maintenance");
        await stream.skipToEnd();
    });
    after(async () => {
        stream?.destroy();
        await world?.close();
    });

    it("new device: CreatePlatformEndpoint, endpointArn written back, summary entry; the write-back's MODIFY makes no SNS call (no loop)", async () => {
        await world.plane.db.putItem(devices(), {
            userId: "dm-ann",
            deviceId: "iphone",
            platform: "ios",
            token: "tok-ann-1",
        });
        const first = await pending();
        expect(first.map((r) => r.eventName)).to.deep.equal(["INSERT"]);
        expect(first[0].eventSourceARN, "read from the devices table's own stream").to.equal(stream.arn);
        world.counter.reset();
        expect((await invoke(first)).batchItemFailures).to.deep.equal([]);
        expect(snsCalls()).to.deep.equal(["CreatePlatformEndpoint", "GetEndpointAttributes"]);
        const create = world.counter.calls.find((c) => c.operation === "CreatePlatformEndpoint")!.input;
        expect(create).to.include({
            PlatformApplicationArn: APNS_APP,
            Token: "tok-ann-1",
            CustomUserData: "dm-ann/iphone",
        });

        const device = (await row("dm-ann", "iphone"))!;
        const endpoint = world.standIn.endpoints.get(device.endpointArn as string)!;
        expect(endpoint).to.include({ token: "tok-ann-1", enabled: true, applicationArn: APNS_APP });
        expect(device.endpointToken).to.equal("tok-ann-1");
        expect(await summary("dm-ann")).to.deep.equal({
            iphone: { platform: "ios", enabled: true, endpointArn: device.endpointArn },
        });

        // The write-back changed the row: its MODIFY comes through the stream (the #summary change is
        // filtered out by the event source), and ends there.
        const rounds = await settle();
        expect(rounds).to.have.length(1);
        expect(rounds[0].records.map((r) => [r.eventName, r.dynamodb.Keys.deviceId])).to.deep.equal([
            ["MODIFY", { S: "iphone" }],
        ]);
        expect(rounds[0].sns).to.deep.equal([]);
    });

    it("a token already registered with other attributes: the ARN is taken from the error and the endpoint repaired", async () => {
        // An endpoint for this token exists from an earlier install (other user data, disabled by APNs).
        const old = world.standIn.addEndpoint({
            applicationArn: FCM_APP,
            token: "tok-shared",
            enabled: false,
            customUserData: "someone/old-phone",
        });
        await world.plane.db.putItem(devices(), {
            userId: "dm-bob",
            deviceId: "pixel",
            platform: "android",
            token: "tok-shared",
        });
        world.counter.reset();
        expect((await invoke(await pending())).batchItemFailures).to.deep.equal([]);
        expect(snsCalls()).to.deep.equal(["CreatePlatformEndpoint", "GetEndpointAttributes", "SetEndpointAttributes"]);
        const set = world.counter.calls.find((c) => c.operation === "SetEndpointAttributes")!.input;
        expect(set).to.deep.equal({ EndpointArn: old.arn, Attributes: { Token: "tok-shared", Enabled: "true" } });
        expect(world.standIn.endpoints.get(old.arn)!.enabled).to.equal(true);
        expect((await row("dm-bob", "pixel"))!.endpointArn).to.equal(old.arn);
        expect((await summary("dm-bob")).pixel).to.deep.equal({
            platform: "android",
            enabled: true,
            endpointArn: old.arn,
        });
        expect((await settle()).flatMap((r) => r.sns)).to.deep.equal([]);
    });

    it("token change: the endpoint gets the new token (no new endpoint)", async () => {
        const before = (await row("dm-ann", "iphone"))!;
        await world.plane.db.call("UpdateItem", {
            TableName: devices(),
            Key: { userId: { S: "dm-ann" }, deviceId: { S: "iphone" } },
            UpdateExpression: "SET #t = :t",
            ExpressionAttributeNames: { "#t": "token" },
            ExpressionAttributeValues: { ":t": { S: "tok-ann-2" } },
        });
        const records = await pending();
        expect(records.map((r) => r.eventName)).to.deep.equal(["MODIFY"]);
        expect(records[0].dynamodb.OldImage!.token).to.deep.equal({ S: "tok-ann-1" });
        world.counter.reset();
        expect((await invoke(records)).batchItemFailures).to.deep.equal([]);
        expect(snsCalls()).to.deep.equal(["GetEndpointAttributes", "SetEndpointAttributes"]);
        expect(world.standIn.endpoints.get(before.endpointArn as string)!.token).to.equal("tok-ann-2");
        expect((await row("dm-ann", "iphone"))!).to.include({
            endpointArn: before.endpointArn,
            endpointToken: "tok-ann-2",
        });
        expect((await settle()).flatMap((r) => r.sns)).to.deep.equal([]);
    });

    it("re-enable: a device disabled by feedback and registered again is enabled at SNS and in the summary", async () => {
        const device = (await row("dm-ann", "iphone"))!;
        world.standIn.disable(device.endpointArn as string);
        const disable = (enabled: boolean) =>
            world.plane.db.call("UpdateItem", {
                TableName: devices(),
                Key: { userId: { S: "dm-ann" }, deviceId: { S: "iphone" } },
                UpdateExpression: "SET enabled = :e",
                ExpressionAttributeValues: { ":e": { BOOL: enabled } },
            });
        await disable(false);
        // The disable itself only updates the summary.
        const rounds = await settle();
        expect(rounds.flatMap((r) => r.sns)).to.deep.equal([]);
        expect((await summary("dm-ann")).iphone.enabled).to.equal(false);

        await disable(true); // the app registered again with the same token
        world.counter.reset();
        expect((await invoke(await pending())).batchItemFailures).to.deep.equal([]);
        expect(snsCalls()).to.deep.equal(["GetEndpointAttributes", "SetEndpointAttributes"]);
        expect(world.standIn.endpoints.get(device.endpointArn as string)!.enabled).to.equal(true);
        expect((await summary("dm-ann")).iphone.enabled).to.equal(true);
        expect((await settle()).flatMap((r) => r.sns)).to.deep.equal([]);
    });

    it("REMOVE by TTL: the endpoint is deleted and the summary entry dropped", async () => {
        const device = (await row("dm-bob", "pixel"))!;
        await stream.expire({ userId: "dm-bob", deviceId: "pixel" });
        const records = await pending();
        expect(records.map((r) => r.eventName)).to.deep.equal(["REMOVE"]);
        expect(records[0].userIdentity).to.deep.equal({ type: "Service", principalId: "dynamodb.amazonaws.com" });
        world.counter.reset();
        expect((await invoke(records)).batchItemFailures).to.deep.equal([]);
        expect(snsCalls()).to.deep.equal(["DeleteEndpoint"]);
        expect(world.standIn.endpoints.has(device.endpointArn as string)).to.equal(false);
        expect(await summary("dm-bob")).to.deep.equal({});
        expect((await settle()).flatMap((r) => r.sns)).to.deep.equal([]);
    });

    it("one failing record is the only one reported; records before it are done, the retry from it completes the rest; a bad record is acknowledged", async () => {
        let failures = 0;
        world.standIn.mock.on(CreatePlatformEndpointCommand, { Token: "tok-flaky" }).callsFake(() => {
            failures++;
            throw new InternalErrorException({ message: "Internal error", $metadata: { httpStatusCode: 500 } });
        });
        await world.plane.db.putItems(devices(), [
            { userId: "dm-cat", deviceId: "a-first", platform: "ios", token: "tok-cat-a" },
            { userId: "dm-cat", deviceId: "b-windows", platform: "windows", token: "tok-cat-b" },
            { userId: "dm-cat", deviceId: "c-flaky", platform: "android", token: "tok-flaky" },
            { userId: "dm-cat", deviceId: "d-last", platform: "android", token: "tok-cat-d" },
        ]);
        const records = await pending();
        expect(records.map((r) => (r.dynamodb.Keys.deviceId as { S: string }).S)).to.deep.equal([
            "a-first",
            "b-windows",
            "c-flaky",
            "d-last",
        ]);
        const out = await invoke(records);
        const flaky = records[2].dynamodb.SequenceNumber;
        expect(out.batchItemFailures).to.deep.equal([{ itemIdentifier: flaky }]);
        expect(failures).to.equal(1);
        expect((await row("dm-cat", "a-first"))!.endpointArn).to.be.a("string");
        expect(
            (await row("dm-cat", "b-windows"))!.endpointArn,
            "a bad platform is acknowledged, not acted on",
        ).to.equal(undefined);
        expect((await row("dm-cat", "d-last"))!.endpointArn, "Lambda retries from the failed record on").to.equal(
            undefined,
        );

        // Lambda's retry: the batch again from the reported sequence number; SNS has recovered.
        world.standIn.mock.on(CreatePlatformEndpointCommand, { Token: "tok-flaky" }).callsFake((input: any) => {
            return {
                EndpointArn: world.standIn.addEndpoint({
                    applicationArn: input.PlatformApplicationArn,
                    token: input.Token,
                    enabled: true,
                }).arn,
            };
        });
        const retry = await invoke(records.slice(2));
        expect(retry.batchItemFailures).to.deep.equal([]);
        expect((await row("dm-cat", "c-flaky"))!.endpointArn).to.be.a("string");
        expect((await row("dm-cat", "d-last"))!.endpointArn).to.be.a("string");
        expect(Object.keys(await summary("dm-cat")).sort()).to.deep.equal(["a-first", "c-flaky", "d-last"]);
        expect((await settle()).flatMap((r) => r.sns)).to.deep.equal([]);
    });
});
