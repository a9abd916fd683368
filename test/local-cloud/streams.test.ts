import { expect } from "chai";
import { DynamoHttpClient } from "../../toolkit/local-cloud/dynamo";
import { type Emulators, startEmulators } from "../../toolkit/local-cloud/emulators";
import { matchesPattern, TableStream } from "../../toolkit/local-cloud/streams";

describe("harness: DynamoDB stream records for dynalite", function () {
    this.timeout(30_000);
    let emulators: Emulators;
    let db: DynamoHttpClient;
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
        });
    });
    after(async () => {
        db?.destroy();
        await emulators?.close();
    });

    it("turns what changed between snapshots into INSERT / MODIFY / REMOVE records with increasing sequence numbers", async () => {
        const stream = new TableStream(db, "stream-probe", { region: "eu-west-1", hashKey: "pk", rangeKey: "sk" });
        await db.putItem("stream-probe", { pk: "u", sk: "gone", v: 1 });
        await db.putItem("stream-probe", { pk: "u", sk: "same", v: 1 });
        await db.putItem("stream-probe", { pk: "u", sk: "changed", v: 1 });
        await stream.snapshot();
        await db.putItem("stream-probe", { pk: "u", sk: "changed", v: 2 });
        await db.putItem("stream-probe", { pk: "u", sk: "same", v: 1 }); // writes nothing new: no record
        await db.putItem("stream-probe", { pk: "u", sk: "new", v: 1 });
        await stream.expire({ pk: "u", sk: "gone" });
        const records = await stream.changes();
        expect(records.map((r) => [r.eventName, r.dynamodb.Keys.sk])).to.deep.equal([
            ["MODIFY", { S: "changed" }],
            ["REMOVE", { S: "gone" }],
            ["INSERT", { S: "new" }],
        ]);
        expect(records[0].dynamodb.OldImage!.v).to.deep.equal({ N: "1" });
        expect(records[0].dynamodb.NewImage!.v).to.deep.equal({ N: "2" });
        expect(records[1].userIdentity).to.deep.equal({ type: "Service", principalId: "dynamodb.amazonaws.com" });
        expect(records[1].dynamodb.NewImage).to.equal(undefined);
        const seq = records.map((r) => BigInt(r.dynamodb.SequenceNumber));
        expect(seq[0] < seq[1] && seq[1] < seq[2]).to.equal(true);
        expect(await stream.changes()).to.deep.equal([]);
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
