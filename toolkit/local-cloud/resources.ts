/**
 * Creates the stack's data plane in the emulators from the same definitions the program uses:
 * - tables: the key schema, GSIs and TTL attribute of infra/tables.ts (TABLES), under the physical
 *   names the program's tables got (so the functions' env vars name them as they are);
 * - queues, dead-letter queues (redrive maxReceiveCount), visibility timeouts, topics and the SQS
 *   subscriptions with their filter policies, raw delivery and filter scope: read from the program's
 *   resources as recorded under the mock runtime, so a change in infra/messaging.ts shows up here.
 * Mock ARNs and URLs (account 123456789012, sqs.<region>.amazonaws.com) map to the emulator's, and
 * `rewriteEnv` applies that map to a function's environment.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { TABLES, type TableName, type TableSpec } from "../../infra/tables";
import { DynamoHttpClient } from "./dynamo";
import { clientConfig, type EmulatorEndpoints } from "./emulators";
import type { LoadedProgram, PreviewResource } from "./program";
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

export interface QueueInfo {
    /** Logical name in the program (e.g. "messaging-push"). */
    logicalName: string;
    name: string;
    url: string;
    arn: string;
    visibilityTimeoutSeconds: number;
    /** The queue's dead-letter queue (logical name) and maxReceiveCount, from its redrive policy. */
    redrive?: { deadLetterQueue: string; maxReceiveCount: number };
}

export interface SubscriptionInfo {
    logicalName: string;
    topic: string;
    queue: string;
    subscriptionArn: string;
    rawMessageDelivery: boolean;
    filterPolicy?: unknown;
    filterPolicyScope?: string;
}

export interface DataPlane {
    tables: Record<TableName, string>;
    /** By logical name. */
    queues: Record<string, QueueInfo>;
    /** Topic ARN in the emulator, by logical name. */
    topics: Record<string, string>;
    subscriptions: SubscriptionInfo[];
    /** Resources of the program the emulators cannot hold (e.g. e-mail subscriptions), for the record. */
    skipped: string[];
    /** Mock ARN/URL of the program -> emulator ARN/URL. */
    mapping: Map<string, string>;
    /** A function's environment with every mock ARN/URL replaced by the emulator's. */
    rewriteEnv(env: Record<string, string>): Record<string, string>;
    /** The queue whose logical name ends with `suffix` (e.g. "-push", "-push-dlq"); throws unless exactly one. */
    queue(suffix: string): QueueInfo;
    topic(suffix: string): string;
    db: DynamoHttpClient;
    sqs: SQSClient;
    sns: SNSClient;
}

function exactlyOne<T extends { name: string }>(items: T[], what: string): T {
    if (items.length !== 1) {
        throw new Error(
            `expected exactly one ${what}, found ${items.length}: ${items.map((i) => i.name).join(", ") || "none"}`,
        );
    }
    return items[0];
}

const projection = (index: { projection: "ALL" | "KEYS_ONLY" | "INCLUDE"; nonKeyAttributes?: string[] }) => ({
    ProjectionType: index.projection,
    ...(index.nonKeyAttributes ? { NonKeyAttributes: index.nonKeyAttributes } : {}),
});

/** CreateTable input from the data model, under the given physical name. */
export function createTableInput(tableName: string, spec: TableSpec): CreateTableCommandInput {
    const keySchema = (hash: string, range?: string) => [
        { AttributeName: hash, KeyType: "HASH" as const },
        ...(range ? [{ AttributeName: range, KeyType: "RANGE" as const }] : []),
    ];
    return {
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST" as const,
        AttributeDefinitions: Object.entries(spec.attributes).map(([name, type]) => ({
            AttributeName: name,
            AttributeType: type,
        })),
        KeySchema: keySchema(spec.hashKey, spec.rangeKey),
        GlobalSecondaryIndexes:
            spec.indexes.length > 0
                ? spec.indexes.map((index) => ({
                      IndexName: index.name,
                      KeySchema: keySchema(index.hashKey, index.rangeKey),
                      Projection: projection(index),
                  }))
                : undefined,
        LocalSecondaryIndexes:
            (spec.localIndexes ?? []).length > 0
                ? spec.localIndexes!.map((index) => ({
                      IndexName: index.name,
                      KeySchema: keySchema(spec.hashKey, index.rangeKey),
                      Projection: projection(index),
                  }))
                : undefined,
        StreamSpecification: spec.stream ? { StreamEnabled: true, StreamViewType: spec.stream } : undefined,
    };
}

/**
 * Checks that the program's table resource is built from the data model (keys, attributes, GSIs, LSIs, TTL):
 * the emulator tables come from TABLES, so a program that drifted from it would be tested against a
 * different schema than it deploys.
 */
function assertTableMatchesModel(resource: PreviewResource, tableName: TableName, spec: TableSpec): void {
    const inputs = resource.inputs;
    const problems: string[] = [];
    if (inputs.hashKey !== spec.hashKey) problems.push(`hashKey ${inputs.hashKey} != ${spec.hashKey}`);
    if ((inputs.rangeKey ?? undefined) !== spec.rangeKey)
        problems.push(`rangeKey ${inputs.rangeKey} != ${spec.rangeKey}`);
    const attrs = Object.fromEntries((inputs.attributes ?? []).map((a: any) => [a.name, a.type]));
    if (JSON.stringify(attrs) !== JSON.stringify(spec.attributes)) problems.push(`attributes ${JSON.stringify(attrs)}`);
    const gsis = (inputs.globalSecondaryIndexes ?? []).map((g: any) => g.name).sort();
    if (JSON.stringify(gsis) !== JSON.stringify(spec.indexes.map((i) => i.name).sort()))
        problems.push(`indexes ${gsis}`);
    const indexShape = (i: any) =>
        `${i.name}:${i.rangeKey ?? ""}:${i.projectionType ?? i.projection}:${(i.nonKeyAttributes ?? []).join(",")}`;
    const lsis = (inputs.localSecondaryIndexes ?? []).map(indexShape).sort();
    if (JSON.stringify(lsis) !== JSON.stringify((spec.localIndexes ?? []).map(indexShape).sort()))
        problems.push(`local indexes ${lsis}`);
    if ((inputs.ttl?.attributeName ?? undefined) !== spec.ttlAttribute)
        problems.push(`ttl ${inputs.ttl?.attributeName}`);
    if (problems.length > 0) {
        throw new Error(
            `table ${resource.name} does not match TABLES.${tableName} in infra/tables.ts: ${problems.join("; ")}`,
        );
    }
}

/**
 * Emulator limitations, recorded rather than hidden. DynamoDB Local accepts a TTL setting but never
 * deletes expired items; its streams exist, but nothing invokes a function from them (the tests read
 * them with GetRecords); it ignores on-demand/provisioned throughput (no throttling) and KMS settings.
 */
export const EMULATOR_GAPS = [
    "DynamoDB TTL deletion (DynamoDB Local)",
    "DynamoDB throttling and table encryption (DynamoDB Local)",
    "SQS/SNS KMS encryption (fauxqs)",
];

export async function createDataPlane(program: LoadedProgram, endpoints: EmulatorEndpoints): Promise<DataPlane> {
    const plane: PlaneBuilder = {
        program,
        endpoints,
        db: new DynamoHttpClient({ endpoint: endpoints.dynamodb, region: endpoints.region }),
        sqs: new SQSClient(clientConfig(endpoints, "sqs")),
        sns: new SNSClient(clientConfig(endpoints, "sns")),
        mapping: new Map<string, string>(),
        skipped: [],
    };
    const tables = await createTables(plane);
    const queues = await createQueues(plane);
    const topics = await createTopics(plane);
    const subscriptions = await createSubscriptions(plane, queues, topics);
    const { db, sqs, sns, mapping, skipped } = plane;
    const bySuffix = <T>(record: Record<string, T>, suffix: string, what: string): T => {
        const keys = Object.keys(record).filter((k) => k.endsWith(suffix));
        if (keys.length !== 1)
            throw new Error(`expected exactly one ${what} named *${suffix}, found: ${keys.join(", ") || "none"}`);
        return record[keys[0]];
    };
    return {
        tables,
        queues,
        topics,
        subscriptions,
        skipped,
        mapping,
        rewriteEnv: (env) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, rewrite(v, mapping)])),
        queue: (suffix) => bySuffix(queues, suffix, "queue"),
        topic: (suffix) => bySuffix(topics, suffix, "topic"),
        db,
        sqs,
        sns,
    };
}

/** What the data plane is built from, and what each step adds to: the mock → emulator name mapping. */
interface PlaneBuilder {
    program: LoadedProgram;
    endpoints: EmulatorEndpoints;
    db: DynamoHttpClient;
    sqs: SQSClient;
    sns: SNSClient;
    mapping: Map<string, string>;
    skipped: string[];
}

/** One emulator table per table of the model, after checking the program declares it as the model says. */
async function createTables({ program, endpoints, db, mapping }: PlaneBuilder): Promise<Record<TableName, string>> {
    const tableResources = program.ofType("aws:dynamodb/table:Table");
    const tables = {} as Record<TableName, string>;
    for (const [tableName, spec] of Object.entries(TABLES) as [TableName, TableSpec][]) {
        const resource = exactlyOne(
            tableResources.filter((r) => r.name.endsWith(`-${tableName}`)),
            `table resource named *-${tableName}`,
        );
        assertTableMatchesModel(resource, tableName, spec);
        const physical: string = resource.outputs.name;
        await db.createTable(createTableInput(physical, spec));
        // DynamoDB Local keeps the setting (DescribeTimeToLive answers as AWS does) but never expires rows.
        if (spec.ttlAttribute)
            await db.call("UpdateTimeToLive", {
                TableName: physical,
                TimeToLiveSpecification: { Enabled: true, AttributeName: spec.ttlAttribute },
            });
        tables[tableName] = physical;
        if (resource.outputs.arn) {
            mapping.set(
                resource.outputs.arn,
                `arn:aws:dynamodb:${endpoints.region}:${endpoints.accountId}:table/${physical}`,
            );
        }
    }
    return tables;
}

const redriveOf = (r: PreviewResource) =>
    r.inputs.redrivePolicy
        ? (JSON.parse(r.inputs.redrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number })
        : undefined;

/** The program's queues with their attributes; dead-letter targets first, so every redrive names a queue. */
async function createQueues({ program, sqs, mapping }: PlaneBuilder): Promise<Record<string, QueueInfo>> {
    const queueResources = program.ofType("aws:sqs/queue:Queue");
    const byMockArn = new Map(queueResources.map((r) => [r.outputs.arn as string, r]));
    const ordered = [...queueResources].sort((a, b) => Number(!!redriveOf(a)) - Number(!!redriveOf(b)));
    const queues: Record<string, QueueInfo> = {};
    for (const resource of ordered) {
        const name: string = resource.outputs.name;
        if (resource.inputs.fifoQueue)
            throw new Error(`${resource.name}: FIFO queues are not modelled by the harness yet`);
        const attributes: Record<string, string> = {};
        const copy = (input: string, attribute: string) => {
            if (resource.inputs[input] !== undefined) attributes[attribute] = String(resource.inputs[input]);
        };
        copy("visibilityTimeoutSeconds", "VisibilityTimeout");
        copy("messageRetentionSeconds", "MessageRetentionPeriod");
        copy("delaySeconds", "DelaySeconds");
        copy("maxMessageSize", "MaximumMessageSize");
        copy("receiveWaitTimeSeconds", "ReceiveMessageWaitTimeSeconds");
        const redrive = redriveOf(resource);
        let redriveInfo: QueueInfo["redrive"];
        if (redrive) {
            const target = byMockArn.get(redrive.deadLetterTargetArn);
            if (!target)
                throw new Error(
                    `${resource.name}: redrive target ${redrive.deadLetterTargetArn} is not a queue of the program`,
                );
            attributes.RedrivePolicy = JSON.stringify({
                deadLetterTargetArn: queues[target.name].arn,
                maxReceiveCount: redrive.maxReceiveCount,
            });
            redriveInfo = { deadLetterQueue: target.name, maxReceiveCount: Number(redrive.maxReceiveCount) };
        }
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
        const got = await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn", "VisibilityTimeout"] }),
        );
        queues[resource.name] = {
            logicalName: resource.name,
            name,
            url: QueueUrl!,
            arn: got.Attributes!.QueueArn!,
            visibilityTimeoutSeconds: Number(got.Attributes!.VisibilityTimeout),
            redrive: redriveInfo,
        };
        mapping.set(resource.outputs.arn, queues[resource.name].arn);
        mapping.set(resource.outputs.url, QueueUrl!);
    }
    return queues;
}

async function createTopics({ program, sns, mapping }: PlaneBuilder): Promise<Record<string, string>> {
    const topics: Record<string, string> = {};
    for (const resource of program.ofType("aws:sns/topic:Topic")) {
        if (resource.inputs.fifoTopic)
            throw new Error(`${resource.name}: FIFO topics are not modelled by the harness yet`);
        const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: resource.outputs.name }));
        topics[resource.name] = TopicArn!;
        mapping.set(resource.outputs.arn, TopicArn!);
    }
    return topics;
}

/** SNS → SQS subscriptions with the program's attributes; any other protocol is listed as skipped. */
async function createSubscriptions(
    { program, sns, mapping, skipped }: PlaneBuilder,
    queues: Record<string, QueueInfo>,
    topics: Record<string, string>,
): Promise<SubscriptionInfo[]> {
    const subscriptions: SubscriptionInfo[] = [];
    const queueByMockArn = new Map(program.ofType("aws:sqs/queue:Queue").map((r) => [r.outputs.arn as string, r]));
    const topicByMockArn = new Map(program.ofType("aws:sns/topic:Topic").map((r) => [r.outputs.arn as string, r.name]));
    for (const resource of program.ofType("aws:sns/topicSubscription:TopicSubscription")) {
        const { protocol, topic, endpoint } = resource.inputs;
        const topicName = topicByMockArn.get(topic);
        const queue = queueByMockArn.get(endpoint);
        if (protocol !== "sqs" || !topicName || !queue) {
            skipped.push(`${resource.type} ${resource.name} (protocol ${protocol})`);
            continue;
        }
        const attributes: Record<string, string> = {};
        if (resource.inputs.rawMessageDelivery !== undefined)
            attributes.RawMessageDelivery = String(resource.inputs.rawMessageDelivery);
        if (resource.inputs.filterPolicy !== undefined) attributes.FilterPolicy = resource.inputs.filterPolicy;
        if (resource.inputs.filterPolicyScope !== undefined)
            attributes.FilterPolicyScope = resource.inputs.filterPolicyScope;
        if (resource.inputs.redrivePolicy !== undefined)
            attributes.RedrivePolicy = rewrite(resource.inputs.redrivePolicy, mapping);
        const out = await sns.send(
            new SubscribeCommand({
                TopicArn: topics[topicName],
                Protocol: "sqs",
                Endpoint: queues[queue.name].arn,
                Attributes: attributes,
                ReturnSubscriptionArn: true,
            }),
        );
        subscriptions.push({
            logicalName: resource.name,
            topic: topicName,
            queue: queue.name,
            subscriptionArn: out.SubscriptionArn!,
            rawMessageDelivery: attributes.RawMessageDelivery === "true",
            filterPolicy: attributes.FilterPolicy ? JSON.parse(attributes.FilterPolicy) : undefined,
            filterPolicyScope: attributes.FilterPolicyScope,
        });
    }
    return subscriptions;
}

/**
 * Replaces every mock ARN/URL in a value, whole names only (not `...:queue` inside `...:queue-dlq`),
 * longest first.
 */
function rewrite(value: string, mapping: Map<string, string>): string {
    let out = value;
    for (const [from, to] of [...mapping].sort((a, b) => b[0].length - a[0].length)) {
        const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        out = out.replace(new RegExp(`${escaped}(?![\\w-])`, "g"), () => to);
    }
    return out;
}
