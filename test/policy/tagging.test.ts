import { expect } from "chai";
import { isTaggableType } from "../../policy/tagging";
import { gate, res, violationsOf } from "./harness";

const policy = "required-tags";

describe("policy required-tags", () => {
    it("counts the provider's defaultTags (sent as a JSON string) as the resource's tags", () => {
        const report = gate([res("aws:sns/topic:Topic", "topic", { kmsMasterKeyId: "alias/notify" })]);
        expect(violationsOf(report, policy)).to.deep.equal([]);
    });

    it("accepts defaultTags given as an object and the keys on the resource itself", () => {
        const report = gate(
            [res("aws:sqs/queue:Queue", "queue", { tags: { Owner: "team", CostCenter: "CC-1" } })],
            { all: "mandatory" },
            { tags: { Environment: "prod", Application: "app" }, tagsAsObject: true },
        );
        expect(violationsOf(report, policy)).to.deep.equal([]);
    });

    it("reports each missing key of an untagged resource without provider tags", () => {
        const report = gate(
            [res("aws:s3/bucket:Bucket", "bucket", { tags: { Owner: "team" } })],
            { all: "mandatory" },
            { tags: null },
        );
        expect(violationsOf(report, policy)).to.deep.equal([
            "bucket: Missing tags: Environment, Application, CostCenter.",
        ]);
        expect(report.exitCode).to.equal(1);
    });

    it("treats an empty tag value as missing", () => {
        const report = gate([res("aws:sns/topic:Topic", "topic", { tags: { CostCenter: " " } })]);
        expect(violationsOf(report, policy)).to.deep.equal(["topic: Missing tag: CostCenter."]);
    });

    it("requires Environment to name the stack", () => {
        const report = gate([res("aws:sns/topic:Topic", "topic", { tags: { Environment: "dev" } })]);
        expect(violationsOf(report, policy)).to.deep.equal([
            'topic: Tag Environment="dev" does not name the stack "prod".',
        ]);
    });

    it("takes the required keys from config", () => {
        const report = gate([res("aws:sns/topic:Topic", "topic")], {
            all: "mandatory",
            [policy]: { requiredKeys: ["DataClass"] },
        });
        expect(violationsOf(report, policy)).to.deep.equal(["topic: Missing tag: DataClass."]);
    });

    it("skips resources that take no tags, components and providers", () => {
        const report = gate(
            [
                res("aws:s3/bucketPolicy:BucketPolicy", "bp", { bucket: "b", policy: "{}" }),
                { ...res("notify:messaging:Messaging", "messaging"), custom: false },
            ],
            { all: "disabled", [policy]: "mandatory" },
            { tags: null },
        );
        expect(violationsOf(report, policy)).to.deep.equal([]);
        expect(isTaggableType("aws:sns/topic:Topic")).to.equal(true);
        expect(isTaggableType("aws:sns/topicPolicy:TopicPolicy")).to.equal(false);
    });
});
