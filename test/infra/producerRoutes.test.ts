/**
 * producerRoutes() as the program builds it (test/fixtures/producer-routes: one Processor per spec on the
 * platform's Storage and Messaging): the route table, each role's statements (least privilege) and
 * environment, and the policy gate over those resources.
 */
import { expect } from "chai";
import * as path from "node:path";
import { PROCESSOR_ENV } from "../../handlers/lib/env";
import { runGate } from "../../toolkit/gate/gate";
import { type LoadedProgram, loadProgram } from "../../toolkit/local-cloud/program";

const FIXTURE = path.join(__dirname, "..", "fixtures", "producer-routes");
/** What the Processor component gives every function (its logs, the stack key, traces). */
const PROCESSOR_SIDS = ["WriteOwnLogs", "UseStackKey", "WriteTraces"];

describe("infra/routes/producer: the producer routes' specs", function () {
    this.timeout(120_000);
    let program: LoadedProgram;
    const arnOf = (type: string, suffix: string) => {
        const matches = program.ofType(type).filter((r) => r.name.endsWith(suffix));
        expect(matches, `${type} *${suffix}`).to.have.length(1);
        return matches[0].outputs.arn as string;
    };
    const ownStatements = (route: string) => {
        const policy = program.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === `${route}-policy`);
        const statements = JSON.parse(policy!.inputs.policy).Statement as Record<string, unknown>[];
        return statements.filter((s) => !PROCESSOR_SIDS.includes(s.Sid as string));
    };

    before(async () => {
        program = await loadProgram({ programDir: FIXTURE, stack: "test" });
    });

    it("two routes, both behind IAM (SigV4) authorization", () => {
        expect(program.result.outputs.routeTable).to.deep.equal([
            { routeKey: "POST /v1/notifications", auth: "iam", name: "api-post-notification" },
            { routeKey: "GET /v1/notifications/{id}", auth: "iam", name: "api-notification-status" },
        ]);
    });

    it("POST: claims on the idempotency table's api# rows, sns:Publish on the ingress topic, the key via SNS only", () => {
        const keyArn = arnOf("aws:kms/key:Key", "-key");
        expect(ownStatements("api-post-notification")).to.deep.equal([
            {
                Sid: "IdempotencyClaims",
                Effect: "Allow",
                Action: ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"],
                Resource: arnOf("aws:dynamodb/table:Table", "-idempotency"),
                Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["api#*"] } },
            },
            {
                Sid: "PublishRequests",
                Effect: "Allow",
                Action: "sns:Publish",
                Resource: arnOf("aws:sns/topic:Topic", "-ingress"),
            },
            {
                Sid: "EncryptRequests",
                Effect: "Allow",
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: keyArn,
                Condition: { StringEquals: { "kms:ViaService": "sns.eu-west-1.amazonaws.com" } },
            },
        ]);
    });

    it("GET: Query on the delivery log table only, for the status attributes only", () => {
        const statements = ownStatements("api-notification-status");
        expect(statements).to.have.length(1);
        expect(statements[0]).to.deep.include({
            Sid: "ReadDeliveryLog",
            Action: "dynamodb:Query",
            Resource: arnOf("aws:dynamodb/table:Table", "-deliveryLog"),
        });
    });

    it("each function gets exactly the environment PROCESSOR_ENV declares for it", () => {
        const names = (spec: Record<string, { name: string }>) =>
            Object.values(spec)
                .map((v) => v.name)
                .sort();
        expect(Object.keys(program.fn("api-post-notification-fn").environment).sort()).to.deep.equal(
            names(PROCESSOR_ENV.producerPost),
        );
        expect(Object.keys(program.fn("api-notification-status-fn").environment).sort()).to.deep.equal(
            names(PROCESSOR_ENV.producerStatus),
        );
        expect(program.fn("api-post-notification-fn").environment.INGRESS_TOPIC_ARN).to.equal(
            arnOf("aws:sns/topic:Topic", "-ingress"),
        );
    });

    it("the archives hold only the serialized closure", () => {
        for (const name of ["api-post-notification-fn", "api-notification-status-fn"]) {
            expect(Object.keys(program.fn(name).archiveEntries)).to.deep.equal(["__index.js"]);
        }
    });

    it("the policy gate (prod, every policy mandatory) finds nothing on the routes' resources", () => {
        const report = runGate(program.result, { stack: "prod" });
        const onRoutes = report.violations.filter((v) => v.resourceName.startsWith("api-"));
        expect(onRoutes.map((v) => `${v.policy} ${v.resourceName}: ${v.message}`)).to.deep.equal([]);
        expect(report.resourcesChecked).to.be.greaterThan(10);
    });
});
