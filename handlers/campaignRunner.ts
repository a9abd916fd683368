/**
 * Campaign runner (EventBridge Scheduler -> Lambda): pages through the segment's audience (preferences
 * table, bySegment index) and publishes one NotificationRequest per user to the ingress topic with
 * PublishBatch (10 per call, <= 256 KB). Ids are deterministic (`${campaignId}-${yyyymmdd}-${userId}`, a
 * hash of the userId in place of its tail when that would pass 128 characters) and the page cursor is checkpointed in the idempotency table after each published page: a retried
 * or resumed run continues where the last one stopped, and a page published twice only re-sends ids
 * that the senders' delivery log already marks as sent. When the time budget runs out (checkpoint saved)
 * the run invokes its own function asynchronously with the same input and returns: the continuation
 * resumes from the checkpoint, however many 15-minute runs the segment takes, and a pause is not an
 * error. Only real failures throw (and get Lambda's asynchronous retries), as does a run that paused
 * without publishing a single page: continuing it would loop without progress.
 */
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { PublishBatchCommand, SNSClient, type PublishBatchRequestEntry } from "@aws-sdk/client-sns";
import { marshall, unmarshall, type AttributeMap } from "./core/attributes";
import {
    campaignRequest,
    checkpointId,
    nextCheckpoint,
    packPublishBatches,
    parseCampaignInput,
    type CampaignInput,
    type Checkpoint,
} from "./core/campaign";
import { createDynamo, type Dynamo } from "./lib/dynamo";
import { ENV, requireEnv } from "./lib/env";
import type { Logger } from "./lib/log";
import { callWithBackoff } from "./lib/backoff";
import { sleep } from "./lib/concurrency";
import { type LambdaContext, remainingMs } from "./lib/lambda";
import { createTelemetry } from "./lib/telemetry";

export const AUDIENCE_PAGE_SIZE = 100;
/** Time kept back to checkpoint the page in flight and return cleanly. */
export const CAMPAIGN_RESERVE_MS = 15_000;
const MAX_PUBLISH_ROUNDS = 4;

export interface CampaignResult {
    campaignId: string;
    /** PAUSED: out of time with the checkpoint saved; a continuation invocation takes over. */
    status: "DONE" | "ALREADY_DONE" | "PAUSED";
    publishedThisRun: number;
    publishedTotal: number;
}

export function campaignRunner() {
    const telemetry = createTelemetry();
    const sns = new SNSClient({});
    const lambda = new LambdaClient({});
    const dynamo = createDynamo();
    const preferencesTable = requireEnv(ENV.preferencesTable);
    const idempotencyTable = requireEnv(ENV.idempotencyTable);
    const topicArn = requireEnv(ENV.ingressTopicArn);

    return async (event: unknown, context?: LambdaContext): Promise<CampaignResult> => {
        const { log } = telemetry;
        log.addContext(context);
        const input = parseCampaignInput(event);
        log.appendKeys({ campaignId: input.campaignId, segment: input.segment });
        const id = checkpointId(input.campaignId, input.scheduledTime);
        let checkpoint = await readCheckpoint(dynamo, idempotencyTable, id);
        if (checkpoint?.status === "DONE") {
            log.info("campaign run already complete", { published: checkpoint.published });
            return {
                campaignId: input.campaignId,
                status: "ALREADY_DONE",
                publishedThisRun: 0,
                publishedTotal: checkpoint.published,
            };
        }
        let publishedThisRun = 0;
        for (let page = 0; page < 100_000; page++) {
            if (remainingMs(context) < CAMPAIGN_RESERVE_MS) {
                const publishedTotal = checkpoint?.published ?? 0;
                if (page === 0) {
                    // Not one page checkpointed: a continuation would start from the same place and loop.
                    throw new Error(
                        `campaign ${input.campaignId} made no progress (checkpoint at ${publishedTotal} requests); not continuing`,
                    );
                }
                await invokeContinuation(lambda, context, event);
                log.info("campaign paused; continuation invoked", { publishedThisRun, published: publishedTotal });
                return { campaignId: input.campaignId, status: "PAUSED", publishedThisRun, publishedTotal };
            }
            const { userIds, cursor } = await readAudiencePage(
                dynamo,
                preferencesTable,
                input.segment,
                checkpoint?.cursor,
            );
            const published = await publishRequests(sns, topicArn, input, userIds, log, () => remainingMs(context));
            publishedThisRun += published;
            checkpoint = nextCheckpoint(checkpoint, id, cursor, published, Date.now());
            await dynamo.call("PutItem", { TableName: idempotencyTable, Item: marshall({ ...checkpoint }) });
            if (checkpoint.status === "DONE") break;
        }
        log.info("campaign run complete", { publishedThisRun, published: checkpoint?.published });
        return {
            campaignId: input.campaignId,
            status: "DONE",
            publishedThisRun,
            publishedTotal: checkpoint?.published ?? 0,
        };
    };
}

/**
 * Invokes this function again, asynchronously, with the event it was given; throws when it cannot (a
 * real failure: Lambda's asynchronous retry then resumes from the checkpoint).
 */
async function invokeContinuation(
    lambda: LambdaClient,
    context: LambdaContext | undefined,
    event: unknown,
): Promise<void> {
    const functionArn = context?.invokedFunctionArn;
    if (!functionArn) throw new Error("campaign paused, but the context names no function to continue with");
    const out = await lambda.send(
        new InvokeCommand({
            FunctionName: functionArn,
            InvocationType: "Event",
            Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
    );
    if (out.StatusCode !== 202)
        throw new Error(`continuation invoke of ${functionArn} answered ${out.StatusCode}, not 202`);
}

async function readCheckpoint(dynamo: Dynamo, table: string, id: string): Promise<Checkpoint | undefined> {
    const out = await dynamo.call("GetItem", { TableName: table, Key: marshall({ id }), ConsistentRead: true });
    return out.Item ? (unmarshall(out.Item) as unknown as Checkpoint) : undefined;
}

/** One page of the segment: the users and the cursor after them (undefined at the end). */
async function readAudiencePage(dynamo: Dynamo, table: string, segment: string, cursor: string | undefined) {
    const out = await dynamo.call("Query", {
        TableName: table,
        IndexName: "bySegment",
        KeyConditionExpression: "#segment = :segment",
        ExpressionAttributeNames: { "#segment": "segment" },
        ExpressionAttributeValues: marshall({ ":segment": segment }),
        Limit: AUDIENCE_PAGE_SIZE,
        ExclusiveStartKey: cursor ? JSON.parse(cursor) : undefined,
    });
    const userIds = [...new Set(((out.Items ?? []) as AttributeMap[]).map((i) => unmarshall(i).userId as string))];
    return { userIds, cursor: out.LastEvaluatedKey ? JSON.stringify(out.LastEvaluatedKey) : undefined };
}

/** Publishes the page's requests; entries SNS reports failed are retried, then the run fails (no checkpoint). */
async function publishRequests(
    sns: SNSClient,
    topicArn: string,
    input: CampaignInput,
    userIds: string[],
    log: Logger,
    remaining: () => number,
): Promise<number> {
    const messages: { id: string; message: string }[] = [];
    for (const userId of userIds) {
        try {
            messages.push({ id: userId, message: JSON.stringify(campaignRequest(input, userId)) });
        } catch (error) {
            log.warn("user skipped: no valid notification id", { userId: userId.slice(0, 64), error });
        }
    }
    const { batches, oversize } = packPublishBatches(messages);
    if (oversize.length > 0) log.error("requests above 256 KB skipped", { users: oversize.length });
    let published = 0;
    // The ingress subscriptions filter on a `channels` attribute when the request names channels (as a
    // producer publishing with the contract does); without one every channel queue receives it.
    const attributes = input.channels
        ? { channels: { DataType: "String.Array", StringValue: JSON.stringify(input.channels) } }
        : undefined;
    for (const batch of batches) {
        let entries: PublishBatchRequestEntry[] = batch.map((e) => ({ ...e, MessageAttributes: attributes }));
        for (let round = 0; entries.length > 0; round++) {
            if (round === MAX_PUBLISH_ROUNDS)
                throw new Error(`PublishBatch kept failing for ${entries.length} entries`);
            if (round > 0) await sleep(Math.random() * 100 * 2 ** round);
            const result = await callWithBackoff(
                () => sns.send(new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries })),
                remaining,
            );
            if (!result.ok) throw result.error;
            const failed = new Set((result.value.Failed ?? []).filter((f) => !f.SenderFault).map((f) => f.Id));
            const senderFaults = (result.value.Failed ?? []).filter((f) => f.SenderFault);
            if (senderFaults.length > 0)
                log.error("requests rejected by SNS", { failures: senderFaults.map((f) => `${f.Code}: ${f.Message}`) });
            published += result.value.Successful?.length ?? 0;
            entries = entries.filter((e) => failed.has(e.Id));
        }
    }
    return published;
}
