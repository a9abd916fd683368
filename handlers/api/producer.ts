/**
 * The producer routes of the HTTPS API (IAM / SigV4 auth, HTTP API payload format 2.0):
 * - `POST /v1/notifications` (postNotification): idempotency claim (PutItem with a condition, then
 *   GetItem when it is refused), sns:Publish to the ingress topic with the `channels` attribute, then
 *   UpdateItem to record the answer (or release the claim after a failed publish).
 * - `GET /v1/notifications/{id}` (notificationStatus): Query on the delivery log by notificationId,
 *   every page.
 * The decisions are in core/api/notifications.ts; this file only calls AWS. SDK clients are created in
 * the factories (once per cold start), never captured from deploy time.
 */
import { randomUUID } from "node:crypto";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { marshall, unmarshall, type AttributeMap } from "../core/attributes";
import { type HttpApiEvent, type HttpApiResult, iamCaller, parseJsonObject, problem } from "../core/api/http";
import {
    type AcceptedRequest,
    acceptedAnswer,
    acceptRequest,
    callerPrincipal,
    type ClaimRow,
    claimCondition,
    decideOnExisting,
    idempotencyHeader,
    idempotencyRowId,
    MAX_REQUEST_BYTES,
    messageAttributes,
    notificationIdParameter,
    pendingClaim,
    publishFailedAnswer,
    REQUEST_FIELDS,
    STATUS_ATTRIBUTES,
    statusAnswer,
} from "../core/api/notifications";
import { createDynamo, type Dynamo } from "../lib/dynamo";
import { PROCESSOR_ENV, readEnvironment } from "../lib/env";
import type { LambdaContext } from "../lib/lambda";
import type { Logger } from "../lib/log";
import { createTelemetry } from "../lib/telemetry";

const unauthenticated = () => problem(401, "The request carries no IAM (SigV4) identity");

/** Factory of `POST /v1/notifications`. */
export function postNotification() {
    const { log } = createTelemetry();
    const env = readEnvironment(PROCESSOR_ENV.producerPost);
    const sns = new SNSClient({});
    const dynamo = createDynamo();

    return async (event: HttpApiEvent, context?: LambdaContext): Promise<HttpApiResult> => {
        log.addContext(context);
        const caller = iamCaller(event);
        if (!caller) return unauthenticated();
        const parsed = parseJsonObject(event, { maxBytes: MAX_REQUEST_BYTES, fields: REQUEST_FIELDS });
        if (!parsed.ok) return parsed.result;
        const nowMs = Date.now();
        const accepted = acceptRequest(parsed.value, idempotencyHeader(event.headers), new Date(nowMs));
        if (!accepted.ok) {
            if (!accepted.replayOf) return accepted.result;
            const replayId = idempotencyRowId(callerPrincipal(caller), accepted.replayOf.key);
            const earlier = await readClaim(dynamo, env.idempotencyTable, replayId);
            const decision = decideOnExisting(earlier, accepted.replayOf.requestHash);
            return earlier && decision.kind === "replay" ? decision.result : accepted.result;
        }
        const request = accepted.request;
        const id = idempotencyRowId(callerPrincipal(caller), request.key);
        const owner = context?.awsRequestId ?? randomUUID();
        const ids = { notificationId: request.notificationId };

        const claim = await claimKey(dynamo, env.idempotencyTable, id, request, owner, nowMs);
        if (claim.result) return claim.result;
        try {
            const out = await sns.send(
                new PublishCommand({
                    TopicArn: env.ingressTopicArn,
                    Message: request.message,
                    MessageAttributes: messageAttributes(request),
                }),
            );
            const answer = acceptedAnswer(request.notificationId);
            await recordAnswer(dynamo, env.idempotencyTable, id, owner, answer, out.MessageId, log);
            log.info("notification accepted", { ...ids, snsMessageId: out.MessageId });
            return answer;
        } catch (err) {
            log.error("publish to the ingress topic failed; claim released for a retry", {
                ...ids,
                error: err as Error,
            });
            await releaseClaim(dynamo, env.idempotencyTable, id, owner, log);
            return publishFailedAnswer();
        }
    };
}

/**
 * Claims the key (conditional PutItem). Refused: reads the row back and answers the replay, 409 or "in
 * progress". Any other error answers 503 before anything was published.
 */
async function claimKey(
    dynamo: Dynamo,
    table: string,
    id: string,
    request: AcceptedRequest,
    owner: string,
    nowMs: number,
): Promise<{ result?: HttpApiResult }> {
    const condition = claimCondition(request, nowMs);
    try {
        await dynamo.call("PutItem", {
            TableName: table,
            Item: marshall({ ...pendingClaim(id, request, owner, nowMs) }),
            ConditionExpression: condition.ConditionExpression,
            ExpressionAttributeNames: condition.ExpressionAttributeNames,
            ExpressionAttributeValues: marshall(condition.values),
        });
        return {};
    } catch (err) {
        if ((err as Error).name !== "ConditionalCheckFailedException") {
            return { result: publishFailedAnswer() };
        }
    }
    const row = await readClaim(dynamo, table, id);
    return { result: decideOnExisting(row, request.requestHash).result };
}

async function readClaim(dynamo: Dynamo, table: string, id: string): Promise<ClaimRow | undefined> {
    const out = await dynamo.call<{ Item?: AttributeMap }>("GetItem", {
        TableName: table,
        Key: marshall({ id }),
        ConsistentRead: true,
    });
    return out.Item ? (unmarshall(out.Item) as unknown as ClaimRow) : undefined;
}

/** Marks the claim PUBLISHED with the exact answer; a failure is logged (the publish already happened). */
async function recordAnswer(
    dynamo: Dynamo,
    table: string,
    id: string,
    owner: string,
    answer: HttpApiResult,
    snsMessageId: string | undefined,
    log: Logger,
): Promise<void> {
    try {
        await dynamo.call("UpdateItem", {
            TableName: table,
            Key: marshall({ id }),
            UpdateExpression: "SET #state = :published, answer = :answer, publishedAt = :at, snsMessageId = :mid",
            ConditionExpression: "#owner = :owner",
            ExpressionAttributeNames: { "#state": "state", "#owner": "owner" },
            ExpressionAttributeValues: marshall({
                ":published": "PUBLISHED",
                ":answer": JSON.stringify(answer),
                ":at": new Date().toISOString(),
                ":mid": snsMessageId ?? "",
                ":owner": owner,
            }),
        });
    } catch (err) {
        // The row stays PENDING: a retry after the lease publishes again, which the senders absorb.
        log.warn("published, but the idempotency row could not be marked", { error: err as Error });
    }
}

/** Ends the lease of our own claim after a failed publish, so the producer's retry takes it over now. */
async function releaseClaim(dynamo: Dynamo, table: string, id: string, owner: string, log: Logger): Promise<void> {
    try {
        await dynamo.call("UpdateItem", {
            TableName: table,
            Key: marshall({ id }),
            UpdateExpression: "SET leaseExpiresAt = :released",
            ConditionExpression: "#owner = :owner AND #state = :pending",
            ExpressionAttributeNames: { "#state": "state", "#owner": "owner" },
            ExpressionAttributeValues: marshall({ ":released": 0, ":owner": owner, ":pending": "PENDING" }),
        });
    } catch (err) {
        // The lease then runs out by itself (CLAIM_LEASE_MS) and a retry takes the claim over.
        log.warn("claim not released; it expires with its lease", { error: err as Error });
    }
}

/** Factory of `GET /v1/notifications/{id}`. */
export function notificationStatus() {
    const { log } = createTelemetry();
    const env = readEnvironment(PROCESSOR_ENV.producerStatus);
    const dynamo = createDynamo();

    return async (event: HttpApiEvent, context?: LambdaContext): Promise<HttpApiResult> => {
        log.addContext(context);
        if (!iamCaller(event)) return unauthenticated();
        const param = notificationIdParameter(event);
        if (!param.ok) return param.result;
        const rows: Record<string, unknown>[] = [];
        let startKey: AttributeMap | undefined;
        do {
            const out = await dynamo.call<{ Items?: AttributeMap[]; LastEvaluatedKey?: AttributeMap }>("Query", {
                TableName: env.deliveryLogTable,
                KeyConditionExpression: "notificationId = :id",
                ProjectionExpression: STATUS_ATTRIBUTES.map((a) => `#${a}`).join(", "),
                ExpressionAttributeNames: Object.fromEntries(STATUS_ATTRIBUTES.map((a) => [`#${a}`, a])),
                ExpressionAttributeValues: marshall({ ":id": param.id }),
                ExclusiveStartKey: startKey,
            });
            rows.push(...(out.Items ?? []).map((item) => unmarshall(item)));
            startKey = out.LastEvaluatedKey;
        } while (startKey);
        return statusAnswer(param.id, rows);
    };
}
