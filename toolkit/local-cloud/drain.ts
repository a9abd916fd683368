/**
 * Plays the part of Lambda's SQS event source mapping: receive a batch, hand it to the function in the
 * SQS event shape, delete what it acknowledged, leave the reported failures (partial batch response)
 * for redelivery. Loops are bounded; the harness's own SQS calls are not the function's API calls.
 */
import {
    ChangeMessageVisibilityBatchCommand,
    DeleteMessageBatchCommand,
    GetQueueAttributesCommand,
    type Message,
    ReceiveMessageCommand,
    type SQSClient,
} from "@aws-sdk/client-sqs";
import type { QueueInfo } from "./resources";

/** One record of an SQS event as Lambda delivers it. */
export interface SqsEventRecord {
    messageId: string;
    receiptHandle: string;
    body: string;
    attributes: Record<string, string>;
    messageAttributes: Record<
        string,
        {
            stringValue?: string;
            binaryValue?: string;
            stringListValues: string[];
            binaryListValues: string[];
            dataType: string;
        }
    >;
    md5OfBody: string;
    eventSource: "aws:sqs";
    eventSourceARN: string;
    awsRegion: string;
}

export function toSqsEvent(
    messages: Message[],
    queue: Pick<QueueInfo, "arn">,
    region: string,
): { Records: SqsEventRecord[] } {
    return {
        Records: messages.map((m) => ({
            messageId: m.MessageId!,
            receiptHandle: m.ReceiptHandle!,
            body: m.Body ?? "",
            attributes: { ...(m.Attributes ?? {}) } as Record<string, string>,
            messageAttributes: Object.fromEntries(
                Object.entries(m.MessageAttributes ?? {}).map(([name, v]) => [
                    name,
                    {
                        stringValue: v.StringValue,
                        binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString("base64") : undefined,
                        stringListValues: v.StringListValues ?? [],
                        binaryListValues: [],
                        dataType: v.DataType!,
                    },
                ]),
            ),
            md5OfBody: m.MD5OfBody ?? "",
            eventSource: "aws:sqs",
            eventSourceARN: queue.arn,
            awsRegion: region,
        })),
    };
}

export interface DrainOptions {
    sqs: SQSClient;
    queue: QueueInfo;
    region: string;
    /** The function: gets an SQS event, returns a partial batch response (or throws: the whole batch fails). */
    invoke: (event: { Records: SqsEventRecord[] }) => Promise<unknown>;
    /** Records per invocation (the event source's batch size); received in calls of up to 10. */
    batchSize?: number;
    /**
     * Failed records normally come back after the visibility timeout (minutes). true makes them visible
     * again at once (ChangeMessageVisibility 0), so redelivery and the redrive to the DLQ play out now.
     */
    retryFailuresNow?: boolean;
    /** Upper bound on invocations; exceeding it is an error (a message that never settles). */
    maxInvocations?: number;
}

export interface DrainReport {
    invocations: number;
    /** Records the function acknowledged (deleted from the queue). */
    acknowledged: number;
    /** Records reported failed (or in a batch whose invocation threw), counted per delivery. */
    failedDeliveries: number;
    /** Errors thrown by invocations, in order. */
    errors: Error[];
    /** Each invocation's event and response, in order. */
    batches: { messageIds: string[]; response: unknown }[];
}

/** Drains the queue through the function until a receive finds nothing. */
export async function drainQueue(options: DrainOptions): Promise<DrainReport> {
    const { sqs, queue, region } = options;
    const batchSize = options.batchSize ?? 10;
    const maxInvocations = options.maxInvocations ?? 100;
    const report: DrainReport = { invocations: 0, acknowledged: 0, failedDeliveries: 0, errors: [], batches: [] };
    for (;;) {
        const messages: Message[] = [];
        // Like the event source, gather up to batchSize records with receives of at most 10.
        while (messages.length < batchSize) {
            const got = await sqs.send(
                new ReceiveMessageCommand({
                    QueueUrl: queue.url,
                    MaxNumberOfMessages: Math.min(10, batchSize - messages.length),
                    WaitTimeSeconds: 0,
                    MessageSystemAttributeNames: ["All"],
                    MessageAttributeNames: ["All"],
                }),
            );
            if (!got.Messages?.length) break;
            messages.push(...got.Messages);
        }
        if (messages.length === 0) return report;
        if (report.invocations === maxInvocations) {
            throw new Error(`${queue.logicalName}: still not drained after ${maxInvocations} invocations`);
        }
        report.invocations++;
        const event = toSqsEvent(messages, queue, region);
        const ids = new Set(messages.map((m) => m.MessageId!));
        let failed: Set<string>;
        let response: unknown;
        try {
            response = await options.invoke(event);
            failed = failedIds(response, ids);
        } catch (err) {
            report.errors.push(err instanceof Error ? err : new Error(String(err)));
            failed = ids;
        }
        report.batches.push({ messageIds: [...ids], response });
        const done = messages.filter((m) => !failed.has(m.MessageId!));
        const retry = messages.filter((m) => failed.has(m.MessageId!));
        report.acknowledged += done.length;
        report.failedDeliveries += retry.length;
        for (let i = 0; i < done.length; i += 10) {
            const chunk = done.slice(i, i + 10);
            const out = await sqs.send(
                new DeleteMessageBatchCommand({
                    QueueUrl: queue.url,
                    Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
                }),
            );
            if (out.Failed?.length)
                throw new Error(`${queue.logicalName}: delete failed: ${JSON.stringify(out.Failed)}`);
        }
        if (options.retryFailuresNow) {
            for (let i = 0; i < retry.length; i += 10) {
                const chunk = retry.slice(i, i + 10);
                await sqs.send(
                    new ChangeMessageVisibilityBatchCommand({
                        QueueUrl: queue.url,
                        Entries: chunk.map((m, j) => ({
                            Id: String(j),
                            ReceiptHandle: m.ReceiptHandle!,
                            VisibilityTimeout: 0,
                        })),
                    }),
                );
            }
        }
    }
}

/**
 * The records to retry, as Lambda reads a partial batch response: the listed identifiers; an
 * identifier that is empty or not in the batch makes the whole batch fail; no response, success.
 */
export function failedIds(response: unknown, ids: Set<string>): Set<string> {
    if (response === undefined || response === null) return new Set();
    const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === undefined || failures === null) return new Set();
    if (!Array.isArray(failures)) return new Set(ids);
    const out = new Set<string>();
    for (const f of failures) {
        const id = (f as { itemIdentifier?: unknown })?.itemIdentifier;
        if (typeof id !== "string" || !ids.has(id)) return new Set(ids);
        out.add(id);
    }
    return out;
}

/** Every message of a queue, received and left in place (made visible again): for inspecting DLQs. */
export async function peekAll(sqs: SQSClient, queue: QueueInfo, limit = 1000): Promise<Message[]> {
    const seen = new Map<string, Message>();
    const handles: string[] = [];
    for (let round = 0; round < Math.ceil(limit / 10) + 1; round++) {
        const got = await sqs.send(
            new ReceiveMessageCommand({
                QueueUrl: queue.url,
                MaxNumberOfMessages: 10,
                WaitTimeSeconds: 0,
                MessageSystemAttributeNames: ["All"],
                MessageAttributeNames: ["All"],
            }),
        );
        if (!got.Messages?.length) break;
        for (const m of got.Messages) {
            seen.set(m.MessageId!, m);
            handles.push(m.ReceiptHandle!);
        }
    }
    for (let i = 0; i < handles.length; i += 10) {
        await sqs.send(
            new ChangeMessageVisibilityBatchCommand({
                QueueUrl: queue.url,
                Entries: handles
                    .slice(i, i + 10)
                    .map((h, j) => ({ Id: String(j), ReceiptHandle: h, VisibilityTimeout: 0 })),
            }),
        );
    }
    return [...seen.values()];
}

/** ApproximateNumberOfMessages + NotVisible + Delayed: zero means the queue is really empty. */
export async function queueDepth(sqs: SQSClient, queue: QueueInfo): Promise<number> {
    const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
            QueueUrl: queue.url,
            AttributeNames: [
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        }),
    );
    return (
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
    );
}
