import { expect } from "chai";
import { DynamoHttpClient } from "../../toolkit/local-cloud/dynamo";
import { type Emulators, startEmulators } from "../../toolkit/local-cloud/emulators";
import { matchesPattern, TableStream } from "../../toolkit/local-cloud/streams";

describe("harness: DynamoDB stream records from DynamoDB Local", function () {
    this.timeout(60_000);
    let emulators: Emulators;
    let db: DynamoHttpClient;
    let stream: TableStream;
    before(async () => {
        emulators = await startEmulators();
        db = new DynamoHttpClient({ endpoint: emulators.endpoints.dynamodb, region: emulators.endpoints.region });
        await db.createTable({
            TableName: "stream-probe",
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [
                { AttributeName: "pk", AttributeType: "S" },
                { AttributeName: "sk", AttributeType: "S" },
            ],
            KeySchema: [
                { AttributeName: "pk", KeyType: "HASH" },
                { AttributeName: "sk", KeyType: "RANGE" },
            ],
            StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
        });
        stream = await TableStream.open(db, "stream-probe");
    });
    after(async () => {
        stream?.destroy();
        db?.destroy();
        await emulators?.close();
    });

    it("reads every write as one record, in write order, with increasing sequence numbers", async () => {
        await db.putItem("stream-probe", { pk: "u", sk: "gone", v: 1 });
        await db.putItem("stream-probe", { pk: "u", sk: "same", v: 1 });
        await db.putItem("stream-probe", { pk: "u", sk: "changed", v: 1 });
        await stream.skipToEnd();
        await db.putItem("stream-probe", { pk: "u", sk: "changed", v: 2 });
        await db.putItem("stream-probe", { pk: "u", sk: "changed", v: 3 }); // not collapsed with the one before
        await db.putItem("stream-probe", { pk: "u", sk: "same", v: 1 }); // changes nothing: no record
        await db.putItem("stream-probe", { pk: "u", sk: "new", v: 1 });
        await stream.expire({ pk: "u", sk: "gone" });
        const records = await stream.changes();
        expect(records.map((r) => [r.eventName, r.dynamodb.Keys.sk])).to.deep.equal([
            ["MODIFY", { S: "changed" }],
            ["MODIFY", { S: "changed" }],
            ["INSERT", { S: "new" }],
            ["REMOVE", { S: "gone" }],
        ]);
        expect(records[0].dynamodb.OldImage!.v).to.deep.equal({ N: "1" });
        expect(records[1].dynamodb.OldImage!.v).to.deep.equal({ N: "2" });
        expect(records[1].dynamodb.NewImage!.v).to.deep.equal({ N: "3" });
        expect(records[3].dynamodb.NewImage).to.equal(undefined);
        const seq = records.map((r) => BigInt(r.dynamodb.SequenceNumber));
        expect(seq.every((n, i) => i === 0 || seq[i - 1] < n)).to.equal(true);
        expect(await stream.changes()).to.deep.equal([]);
    });

    it("hands records over in Lambda's event shape, naming the table's stream", async () => {
        const { Table } = await db.call("DescribeTable", { TableName: "stream-probe" });
        await db.call("PutItem", {
            TableName: "stream-probe",
            Item: { pk: { S: "shape" }, sk: { S: "s" }, bytes: { B: Buffer.from("hi") } },
        });
        const [record] = await stream.changes();
        expect(record).to.include({
            eventName: "INSERT",
            eventSource: "aws:dynamodb",
            eventSourceARN: Table.LatestStreamArn,
        });
        expect(record.eventSourceARN).to.match(/:table\/stream-probe\/stream\//);
        expect(record.eventID).to.be.a("string").and.not.equal("");
        expect(record.eventVersion).to.match(/^1\.\d$/);
        expect(record.awsRegion).to.be.a("string");
        expect(record.dynamodb).to.include({ StreamViewType: "NEW_AND_OLD_IMAGES" });
        expect(record.dynamodb.SizeBytes).to.be.a("number").and.greaterThan(0);
        // Epoch seconds, as Lambda delivers it (the SDK would hand over a Date).
        expect(record.dynamodb.ApproximateCreationDateTime).to.be.a("number");
        expect(Math.abs(record.dynamodb.ApproximateCreationDateTime - Date.now() / 1000)).to.be.lessThan(600);
        expect(record.dynamodb.Keys).to.deep.equal({ pk: { S: "shape" }, sk: { S: "s" } });
        // Binary attributes as base64 strings, as in Lambda's JSON event.
        expect(record.dynamodb.NewImage!.bytes).to.deep.equal({ B: Buffer.from("hi").toString("base64") });
        expect(record.userIdentity).to.equal(undefined);
    });

    it("marks a REMOVE by expire() with DynamoDB's TTL identity, and no other record", async () => {
        await db.putItem("stream-probe", { pk: "ttl", sk: "a" });
        await db.putItem("stream-probe", { pk: "ttl", sk: "b" });
        await stream.skipToEnd();
        await db.deleteItem("stream-probe", { pk: "ttl", sk: "a" });
        await stream.expire({ pk: "ttl", sk: "b" });
        const records = await stream.changes();
        expect(records.map((r) => [r.eventName, r.dynamodb.Keys.sk, r.userIdentity])).to.deep.equal([
            ["REMOVE", { S: "a" }, undefined],
            ["REMOVE", { S: "b" }, { type: "Service", principalId: "dynamodb.amazonaws.com" }],
        ]);
    });

    it("refuses a table without a stream", async () => {
        await db.createTable({
            TableName: "no-stream-probe",
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
            KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        });
        const error = await TableStream.open(db, "no-stream-probe").then(
            () => undefined,
            (err: Error) => err,
        );
        expect(error?.message).to.contain("table no-stream-probe has no stream");
    });

    it("filters like Lambda event filtering for the operators it supports, and refuses the others", () => {
        const pattern = { dynamodb: { Keys: { deviceId: { S: [{ "anything-but": ["#summary"] }] } } } };
        const record = (deviceId: string) => ({
            dynamodb: { Keys: { userId: { S: "u" }, deviceId: { S: deviceId } } },
        });
        expect(matchesPattern(pattern, record("phone"))).to.equal(true);
        expect(matchesPattern(pattern, record("#summary"))).to.equal(false);
        expect(matchesPattern({ eventName: ["INSERT", "MODIFY"] }, { eventName: "REMOVE" })).to.equal(false);
        expect(matchesPattern({ a: [{ prefix: "x" }] }, { a: "xy" })).to.equal(true);
        expect(matchesPattern({ a: [{ exists: false }] }, {})).to.equal(true);
        expect(() => matchesPattern({ a: [{ numeric: [">", 1] }] }, { a: 2 })).to.throw(
            /unsupported filter operator numeric/,
        );
    });
});
