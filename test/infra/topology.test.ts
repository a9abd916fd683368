/**
 * The whole program, both stacks, under the mock runtime (through the same offline preview `npm start`
 * uses, in a child process per stack): the properties that make the platform safe and correct.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
// The pack's own statement parser: the test reads policy documents exactly as the policies do.
import { parseStatements } from "../../policy/iam";
import { type PreviewResource, type PreviewResult, previewProgram } from "../../toolkit/preview/preview";

const ROOT = path.resolve(__dirname, "..", "..");
const REQUIRED_TAGS = ["Environment", "Application", "Owner", "CostCenter"];

const ofType = (r: PreviewResult, type: string) => r.resources.filter((x) => x.type === type);
const byUrn = (r: PreviewResult) => new Map(r.resources.map((x) => [x.urn, x]));
const parseDoc = (doc: unknown): any => (typeof doc === "string" ? JSON.parse(doc) : doc);

/** Actions IAM accepts only with Resource "*" (Service Authorization Reference: no resource types). */
const NO_RESOURCE_ACTIONS = new Set([
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "sns:Publish", // to a phone number: no ARN exists; the SMS role pairs it with a Deny on every sns ARN
    "sns:ListPhoneNumbersOptedOut",
    "sns:CheckIfPhoneNumberIsOptedOut",
    "dynamodb:ListStreams",
]);

/** A temporary program directory: this project's Pulumi.yaml (main pointing back here) and a stack file. */
function programWithStack(stack: string, config: Record<string, unknown>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "notify-program-"));
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    project.main = path.join(ROOT, "index.ts");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify(project));
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), YAML.stringify({ config }));
    return dir;
}

function stackConfig(stack: string): Record<string, unknown> {
    return YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config;
}

describe("topology (mock runtime, both stacks)", function () {
    const results: Record<string, PreviewResult> = {};

    before(async function () {
        const [dev, prod] = await Promise.all([
            previewProgram({ programDir: ROOT, stack: "dev" }),
            previewProgram({ programDir: ROOT, stack: "prod" }),
        ]);
        results.dev = dev;
        results.prod = prod;
    });

    for (const stack of ["dev", "prod"]) {
        describe(stack, function () {
            const r = () => results[stack];

            it("composes every component of the platform", function () {
                const types = new Set(r().resources.map((x) => x.type));
                for (const t of [
                    "notify:encryption:Encryption",
                    "notify:storage:Storage",
                    "notify:messaging:Messaging",
                    "notify:push:Push",
                    "notify:email:Email",
                    "notify:sms:Sms",
                    "notify:processors:Processors",
                    "notify:campaigns:Campaigns",
                    "notify:deferral:Deferral",
                    "notify:analytics:Analytics",
                    "notify:monitoring:Monitoring",
                    "notify:api:Api",
                    "notify:api:UserPool",
                ]) {
                    expect(types, t).to.include(t);
                }
                // Four channel senders (push, email, sms, inapp), the feedback, device and campaign processors,
                // and the API's nine route functions (two producer routes, seven /v1/me routes).
                expect(ofType(r(), "notify:processors:Processor")).to.have.length(16);
                // devices, deliveryLog, preferences, templates, inbox, idempotency.
                expect(ofType(r(), "aws:dynamodb/table:Table")).to.have.length(6);
            });

            it("hands one tagged provider to every AWS resource", function () {
                const providers = ofType(r(), "pulumi:providers:aws");
                expect(providers).to.have.length(1);
                // Provider inputs travel as JSON strings, as the engine hands them to the provider.
                const tags = parseDoc(providers[0].inputs.defaultTags).tags;
                expect(Object.keys(tags)).to.include.members(REQUIRED_TAGS);
                expect(tags.Environment).to.equal(stack);
                for (const res of r().resources.filter((x) => x.custom && x.type.startsWith("aws:"))) {
                    expect(res.provider, `${res.type} ${res.name}`).to.equal(providers[0].urn);
                }
            });

            it("encrypts every topic, queue, table, log group, bucket, stream, schedule and function with the stack key", function () {
                // The stack key; the inbox cursor's HMAC key (infra/cursorMacKey.ts) encrypts nothing.
                const keys = ofType(r(), "aws:kms/key:Key").filter((k) => k.inputs.keyUsage !== "GENERATE_VERIFY_MAC");
                expect(keys).to.have.length(1);
                expect(keys[0].inputs.enableKeyRotation).to.equal(true);
                const usesKey = (v: unknown) =>
                    typeof v === "string" && v.startsWith("arn:aws:kms:") && v.includes("encryption-key");
                for (const t of ofType(r(), "aws:sns/topic:Topic"))
                    expect(usesKey(t.inputs.kmsMasterKeyId), t.name).to.equal(true);
                for (const q of ofType(r(), "aws:sqs/queue:Queue"))
                    expect(usesKey(q.inputs.kmsMasterKeyId), q.name).to.equal(true);
                for (const t of ofType(r(), "aws:dynamodb/table:Table")) {
                    expect(t.inputs.serverSideEncryption.enabled, t.name).to.equal(true);
                    expect(usesKey(t.inputs.serverSideEncryption.kmsKeyArn), t.name).to.equal(true);
                }
                for (const g of ofType(r(), "aws:cloudwatch/logGroup:LogGroup")) {
                    expect(usesKey(g.inputs.kmsKeyId), g.name).to.equal(true);
                    expect(g.inputs.retentionInDays, g.name).to.be.a("number");
                }
                for (const f of ofType(r(), "aws:lambda/function:Function"))
                    expect(usesKey(f.inputs.kmsKeyArn), f.name).to.equal(true);
                for (const s of ofType(r(), "aws:scheduler/schedule:Schedule"))
                    expect(usesKey(s.inputs.kmsKeyArn), s.name).to.equal(true);
                const [sse] = ofType(
                    r(),
                    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                );
                const rule = sse.inputs.rules[0].applyServerSideEncryptionByDefault;
                expect(rule.sseAlgorithm).to.equal("aws:kms");
                expect(usesKey(rule.kmsMasterKeyId)).to.equal(true);
                const [stream] = ofType(r(), "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream");
                expect(stream.inputs.serverSideEncryption.keyType).to.equal("CUSTOMER_MANAGED_CMK");
            });

            it("gives every consumed queue a DLQ (maxReceiveCount ≥ 5) and visibility ≥ 6 × its consumer's timeout", function () {
                const queues = ofType(r(), "aws:sqs/queue:Queue");
                const functions = ofType(r(), "aws:lambda/function:Function");
                const sqsMappings = ofType(r(), "aws:lambda/eventSourceMapping:EventSourceMapping").filter((m) =>
                    String(m.inputs.eventSourceArn).startsWith("arn:aws:sqs:"),
                );
                expect(sqsMappings).to.have.length(5); // push, email, sms, inapp, feedback
                for (const mapping of sqsMappings) {
                    const queueName = String(mapping.inputs.eventSourceArn).split(":").pop()!;
                    const queue = queues.find((q) => queueName.startsWith(q.name));
                    expect(queue, queueName).to.not.equal(undefined);
                    const redrive = JSON.parse(queue!.inputs.redrivePolicy);
                    expect(redrive.maxReceiveCount).to.be.at.least(5);
                    const dlqName = String(redrive.deadLetterTargetArn).split(":").pop()!;
                    expect(
                        queues.some((q) => q !== queue && dlqName.startsWith(`${q.name}-`)),
                        `DLQ of ${queueName}`,
                    ).to.equal(true);
                    const fn = functions.find((f) => String(mapping.inputs.functionName).includes(f.name));
                    expect(fn, `function of ${queueName}`).to.not.equal(undefined);
                    expect(queue!.inputs.visibilityTimeoutSeconds).to.be.at.least(6 * fn!.inputs.timeout);
                    expect(mapping.inputs.functionResponseTypes).to.deep.equal(["ReportBatchItemFailures"]);
                    expect(mapping.inputs.batchSize).to.be.a("number");
                    expect(mapping.inputs.scalingConfig.maximumConcurrency).to.be.within(2, 1000);
                }
            });

            it("subscribes one queue per channel to the ingress topic with its filter policy, raw delivery", function () {
                const subs = ofType(r(), "aws:sns/topicSubscription:TopicSubscription").filter(
                    (s) => s.inputs.filterPolicy,
                );
                expect(subs.map((s) => s.name).sort()).to.deep.equal([
                    "messaging-email-subscription",
                    "messaging-inapp-subscription",
                    "messaging-push-subscription",
                    "messaging-sms-subscription",
                ]);
                for (const s of subs) {
                    expect(s.inputs.rawMessageDelivery).to.equal(true);
                    const channel = s.name.split("-")[1];
                    expect(JSON.stringify(JSON.parse(s.inputs.filterPolicy))).to.include(`"channels":["${channel}"]`);
                }
            });

            it("uses no AWS-managed policy and no wildcard action; '*' resources only where IAM has no resource", function () {
                expect(ofType(r(), "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).to.have.length(0);
                for (const role of ofType(r(), "aws:iam/role:Role")) {
                    expect(role.inputs.managedPolicyArns ?? [], role.name).to.have.length(0);
                }
                const documents: [string, unknown][] = [
                    ...ofType(r(), "aws:iam/rolePolicy:RolePolicy").map(
                        (p) => [p.name, p.inputs.policy] as [string, unknown],
                    ),
                    ...ofType(r(), "aws:iam/policy:Policy").map((p) => [p.name, p.inputs.policy] as [string, unknown]),
                    ...ofType(r(), "aws:sns/topicPolicy:TopicPolicy").map(
                        (p) => [p.name, p.inputs.policy] as [string, unknown],
                    ),
                    ...ofType(r(), "aws:sqs/queuePolicy:QueuePolicy").map(
                        (p) => [p.name, p.inputs.policy] as [string, unknown],
                    ),
                    ...ofType(r(), "aws:s3/bucketPolicy:BucketPolicy").map(
                        (p) => [p.name, p.inputs.policy] as [string, unknown],
                    ),
                    ...ofType(r(), "aws:kms/key:Key").map((k) => [k.name, k.inputs.policy] as [string, unknown]),
                ];
                expect(documents.length).to.be.greaterThan(20);
                for (const [name, doc] of documents) {
                    const sids = parseStatements(doc)
                        .map((st) => st.sid)
                        .filter((sid) => sid !== undefined);
                    expect(new Set(sids).size, `${name}: statement ids are unique (IAM rejects duplicates)`).to.equal(
                        sids.length,
                    );
                    for (const st of parseStatements(doc).filter((s) => s.effect === "Allow")) {
                        const actions = st.action;
                        expect(st.notAction, name).to.deep.equal([]);
                        for (const action of actions) {
                            expect(action, name).to.not.equal("*");
                            expect(action, name).to.not.match(/^[a-z0-9-]+:\*$/);
                        }
                        // Key policies (the stack key, the inbox cursor's HMAC key): "*" is the key itself.
                        const isKeyPolicy =
                            name.startsWith("encryption-key") || name.startsWith("inbox-cursor-mac-key");
                        if (!isKeyPolicy && st.resource.includes("*")) {
                            for (const action of actions)
                                expect(NO_RESOURCE_ACTIONS.has(action), `${name}: ${action} on "*"`).to.equal(true);
                        }
                    }
                }
            });

            it("ships every processor as a loadable module on nodejs22.x/arm64 with its own role and log group", function () {
                const functions = ofType(r(), "aws:lambda/function:Function");
                expect(functions).to.have.length(16);
                const dir = fs.mkdtempSync(path.join(os.tmpdir(), "notify-closures-"));
                fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
                const roles = new Set<string>();
                for (const fn of functions) {
                    expect(fn.inputs.runtime, fn.name).to.equal("nodejs22.x");
                    expect(fn.inputs.architectures, fn.name).to.deep.equal(["arm64"]);
                    expect(fn.inputs.handler).to.equal("__index.handler");
                    expect(fn.inputs.timeout).to.be.a("number");
                    expect(fn.inputs.loggingConfig.logGroup, fn.name).to.match(new RegExp(`^/notify/${stack}/`));
                    roles.add(fn.inputs.role);
                    const assets = fn.inputs.code.assets;
                    expect(
                        Object.keys(assets).filter((p) => p.startsWith("node_modules/")),
                        `${fn.name} bundles no package`,
                    ).to.have.length(0);
                    const file = path.join(dir, `${fn.name}.js`);
                    fs.writeFileSync(file, assets["__index.js"].text);
                    // Loading runs the factory (the cold start), which reads the function's environment.
                    const variables: Record<string, string> = fn.inputs.environment.variables;
                    const saved = { ...process.env };
                    Object.assign(process.env, variables, { AWS_REGION: "eu-west-1" });
                    try {
                        const mod = require(file);
                        expect(mod.handler, fn.name).to.be.a("function");
                    } finally {
                        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
                        Object.assign(process.env, saved);
                    }
                }
                expect(roles.size, "one role per function").to.equal(16);
            });
        });
    }

    it("differs between dev and prod where the stack files say so", function () {
        const table = (r: PreviewResult) => ofType(r, "aws:dynamodb/table:Table")[0].inputs;
        expect(table(results.dev).deletionProtectionEnabled).to.equal(false);
        expect(table(results.prod).deletionProtectionEnabled).to.equal(true);
        expect(table(results.dev).pointInTimeRecovery.enabled).to.equal(false);
        expect(table(results.prod).pointInTimeRecovery.enabled).to.equal(true);
        const retention = (r: PreviewResult) =>
            new Set(ofType(r, "aws:cloudwatch/logGroup:LogGroup").map((g) => g.inputs.retentionInDays));
        expect([...retention(results.dev)]).to.deep.equal([14]);
        expect([...retention(results.prod)]).to.deep.equal([365]);
        const sms = (r: PreviewResult) => ofType(r, "aws:sns/smsPreferences:SmsPreferences")[0].inputs;
        expect(sms(results.dev).monthlySpendLimit).to.equal(1);
        expect(sms(results.prod).monthlySpendLimit).to.equal(500);
        expect(sms(results.prod).defaultSmsType).to.equal("Transactional");
        const schedule = (r: PreviewResult) => ofType(r, "aws:scheduler/schedule:Schedule")[0].inputs;
        expect(schedule(results.dev).scheduleExpressionTimezone).to.equal("Europe/Berlin");
        expect(schedule(results.prod).scheduleExpressionTimezone).to.equal("America/New_York");
        expect(schedule(results.prod).flexibleTimeWindow.mode).to.equal("OFF");
        const memory = (r: PreviewResult) => ofType(r, "aws:lambda/function:Function")[0].inputs.memorySize;
        expect(memory(results.dev)).to.equal(256);
        expect(memory(results.prod)).to.equal(512);
        const concurrency = (r: PreviewResult) =>
            ofType(r, "aws:lambda/eventSourceMapping:EventSourceMapping").find((m) => m.inputs.scalingConfig)!.inputs
                .scalingConfig.maximumConcurrency;
        expect(concurrency(results.dev)).to.equal(2);
        expect(concurrency(results.prod)).to.equal(50);
        const alarmTopic = (r: PreviewResult) =>
            ofType(r, "aws:sns/topicSubscription:TopicSubscription").find((s) => s.inputs.protocol === "email")!;
        expect(alarmTopic(results.dev).inputs.endpoint).to.equal("notify-dev-alarms@example.com");
        expect(alarmTopic(results.prod).inputs.endpoint).to.equal("notify-oncall@example.com");
        // Neither committed stack holds push credentials: both platforms are off until a secret is set.
        expect(ofType(results.prod, "aws:sns/platformApplication:PlatformApplication")).to.have.length(0);
    });

    /** The prod stack with both platforms' secret credentials set (previewed once, on first use). */
    let credentialed: Promise<PreviewResult> | undefined;
    const withCredentials = () => {
        const config = {
            ...stackConfig("prod"),
            "notify:apnsSigningKey": { secure: "v1:ciphertext" },
            "notify:fcmServiceAccountJson": { secure: "v1:ciphertext" },
        };
        credentialed ??= previewProgram({ programDir: programWithStack("prod", config), stack: "prod" });
        return credentialed;
    };

    it("creates the APNs (token auth) and FCM v1 applications once the stack has their secret credentials", async function () {
        const result = await withCredentials();
        const apps = ofType(result, "aws:sns/platformApplication:PlatformApplication");
        const apns = apps.find((a) => a.inputs.platform === "APNS")!;
        const fcm = apps.find((a) => a.inputs.platform === "GCM")!;
        expect(apns.inputs.platformCredential).to.equal("[secret]");
        expect(apns.inputs.platformPrincipal).to.equal("[secret]"); // the SDK treats the key id as secret too
        expect(apns.inputs.applePlatformTeamId).to.equal("TEAM123456");
        expect(apns.inputs.applePlatformBundleId).to.equal("com.example.notify");
        expect(fcm.inputs.platformCredential).to.equal("[secret]");
        for (const app of [apns, fcm]) {
            for (const event of [
                "eventDeliveryFailureTopicArn",
                "eventEndpointDeletedTopicArn",
                "eventEndpointUpdatedTopicArn",
            ]) {
                expect(app.inputs[event], event).to.match(/messaging-feedback/);
            }
            expect(app.inputs.successFeedbackRoleArn).to.match(/delivery-status-role/);
        }
        const pushPolicy = ofType(result, "aws:iam/rolePolicy:RolePolicy").find(
            (p) => p.name === "push-sender-policy",
        )!;
        const publish = parseStatements(pushPolicy.inputs.policy).find((s) => s.sid === "PublishToEndpoints")!;
        expect(publish.resource[0]).to.match(/:endpoint\/APNS\/notify-prod-ios\/\*$/);
    });

    it("lets the in-app sender put items into the inbox table and nowhere else, and tells it the table and the TTL", function () {
        const r = results.prod;
        const policy = ofType(r, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "inapp-sender-policy")!;
        const statements = parseStatements(policy.inputs.policy);
        const [inbox] = ofType(r, "aws:dynamodb/table:Table").filter((t) => t.name === "storage-inbox");
        const put = statements.find((s) => s.sid === "WriteInboxItems")!;
        expect(put.action).to.deep.equal(["dynamodb:PutItem"]);
        expect(put.resource).to.have.length(1);
        expect(put.resource[0]).to.match(/:table\/storage-inbox/);
        // No other statement reaches the inbox table, and no statement of another sender does.
        const inboxArn = put.resource[0];
        expect(statements.filter((s) => s.resource.includes(inboxArn))).to.have.length(1);
        for (const other of ["push-sender-policy", "email-sender-policy", "sms-sender-policy"]) {
            const doc = ofType(r, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name === other)!;
            expect(JSON.stringify(doc.inputs.policy), other).to.not.include("storage-inbox");
        }
        const [fn] = ofType(r, "aws:lambda/function:Function").filter((f) => f.name === "inapp-sender-fn");
        expect(inbox, "the inbox table").to.not.equal(undefined);
        // One item per user and notification; time order on the local index; the unread index carries the TTL.
        expect([inbox.inputs.hashKey, inbox.inputs.rangeKey]).to.deep.equal(["userId", "notificationId"]);
        expect(inbox.inputs.localSecondaryIndexes).to.deep.equal([
            { name: "byTime", rangeKey: "itemId", projectionType: "ALL" },
        ]);
        const [unread] = inbox.inputs.globalSecondaryIndexes;
        expect([unread.name, unread.projectionType, unread.nonKeyAttributes]).to.deep.equal([
            "byUnread",
            "INCLUDE",
            ["expiresAt"],
        ]);
        expect(fn.inputs.environment.variables.INBOX_TABLE).to.match(/^storage-inbox-/);
        expect(fn.inputs.environment.variables.INBOX_TTL_DAYS).to.equal("90");
        expect(JSON.parse(fn.inputs.environment.variables.RATE_LIMITS).inapp).to.equal(50);
    });

    it("lets the feedback processor read only the platform applications' endpoints (EndpointUpdated checks)", async function () {
        const result = await withCredentials();
        const policy = ofType(result, "aws:iam/rolePolicy:RolePolicy").find(
            (p) => p.name === "feedback-processor-policy",
        )!;
        const check = parseStatements(policy.inputs.policy).find((s) => s.sid === "CheckUpdatedEndpoints")!;
        expect(check.action).to.deep.equal(["sns:GetEndpointAttributes"]);
        expect(check.resource.sort()).to.deep.equal([
            "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/notify-prod-ios/*",
            "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/notify-prod-android/*",
        ]);
    });

    it("exports the MAIL FROM domain's MX and SPF records and a DMARC record beside the DKIM records", function () {
        expect(results.prod.outputs.sesMailFromRecords).to.deep.equal([
            { name: "mail.notify.example.com", type: "MX", value: "10 feedback-smtp.eu-west-1.amazonses.com" },
            { name: "mail.notify.example.com", type: "TXT", value: "v=spf1 include:amazonses.com ~all" },
        ]);
        expect(results.prod.outputs.sesDmarcRecord).to.deep.include({ name: "_dmarc.notify.example.com", type: "TXT" });
        expect(results.prod.outputs.sesDmarcRecord.value).to.match(/^v=DMARC1; p=none; rua=mailto:/);
    });

    it("publishes only the SES event types the feedback processor acts on", function () {
        const [destination] = ofType(
            results.prod,
            "aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination",
        );
        expect(destination.inputs.eventDestination.matchingEventTypes.sort()).to.deep.equal(
            ["BOUNCE", "COMPLAINT", "DELIVERY", "REJECT", "RENDERING_FAILURE"].sort(),
        );
    });

    for (const stack of ["dev", "prod"]) {
        it(`gives ${stack} a monthly cost budget over its own tags, which may use the key and publish to the alarm topic`, function () {
            const r = results[stack];
            const [budget] = ofType(r, "aws:budgets/budget:Budget");
            expect(budget.inputs.name).to.equal(`notify-${stack}-monthly-cost`);
            const tags = budget.inputs.filterExpression.ands.map((a: any) => [a.tags.key, a.tags.values]);
            expect(tags).to.deep.include(["Environment", [stack]]);
            expect(tags).to.deep.include(["Application", ["notify-platform"]]);
            const sourceArn = `arn:aws:budgets::123456789012:budget/notify-${stack}-monthly-cost`;
            const [key] = ofType(r, "aws:kms/key:Key").filter((k) => k.name === "encryption-key");
            const keyGrant = parseStatements(key.inputs.policy).find((s) =>
                JSON.stringify(s.principal).includes("budgets.amazonaws.com"),
            )!;
            expect(keyGrant.action.sort()).to.deep.equal(["kms:Decrypt", "kms:GenerateDataKey"]);
            expect(keyGrant.condition).to.deep.equal({
                StringEquals: { "aws:SourceAccount": "123456789012" },
                ArnLike: { "aws:SourceArn": sourceArn },
            });
            const topicPolicy = ofType(r, "aws:sns/topicPolicy:TopicPolicy").find((p) =>
                String(p.inputs.policy).includes("budgets.amazonaws.com"),
            )!;
            const publish = parseStatements(topicPolicy.inputs.policy).find(
                (s) => s.sid === "BudgetOfThisStackPublishes",
            )!;
            expect(publish.condition!.ArnLike["aws:SourceArn"]).to.equal(sourceArn);
            for (const n of budget.inputs.notifications) {
                expect(n.subscriberSnsTopicArns).to.deep.equal([r.outputs.alarmTopicArn]);
            }
        });
    }

    it("fails with the missing key and the stack file when a required setting is absent", async function () {
        const config = { ...stackConfig("dev") };
        delete config["notify:alarmEmail"];
        const error = await previewProgram({ programDir: programWithStack("dev", config), stack: "dev" }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).to.include("notify:alarmEmail").and.to.include("Pulumi.dev.yaml");
    });

    it("offers producers a policy that may publish to the ingress topic and nothing else", function () {
        const [producer] = ofType(results.prod, "aws:iam/policy:Policy").filter((p) => p.name === "messaging-producer");
        const [ingress] = ofType(results.prod, "aws:sns/topic:Topic").filter((t) => t.name === "messaging-ingress");
        const [publish, encrypt] = parseStatements(producer.inputs.policy);
        expect(publish.action).to.deep.equal(["sns:Publish"]);
        expect(publish.resource).to.have.length(1);
        expect(publish.resource[0]).to.match(/:messaging-ingress-/);
        expect(encrypt.resource).to.deep.equal([ingress.inputs.kmsMasterKeyId]);
        expect(encrypt.condition!.StringEquals["kms:ViaService"]).to.equal("sns.eu-west-1.amazonaws.com");
        expect(results.prod.outputs.producerPolicyArn).to.match(/^arn:aws:iam::123456789012:policy\//);
    });

    it("records the parent of every resource (the tree npm start prints)", function () {
        const urns = byUrn(results.dev);
        for (const res of results.dev.resources.slice(1)) {
            expect(urns.has(res.parent!), `${res.name} has a known parent`).to.equal(true);
        }
        const helper = (res: PreviewResource) => urns.get(res.parent!)!.type;
        const queue = results.dev.resources.find(
            (x) => x.name === "messaging-push" && x.type === "aws:sqs/queue:Queue",
        )!;
        expect(helper(queue)).to.equal("notify:messaging:WorkQueue");
    });
});
