/** The SQS event source's shapes as Lambda delivers them (only the fields the processors read). */

export interface SqsRecord {
    messageId: string;
    body: string;
    /** SentTimestamp: epoch ms when the message entered the queue (kept across redeliveries). */
    attributes?: { ApproximateReceiveCount?: string; SentTimestamp?: string };
}
export interface SqsEvent {
    Records: SqsRecord[];
}
/** Partial batch response (FunctionResponseTypes ReportBatchItemFailures). */
export interface BatchResponse {
    batchItemFailures: { itemIdentifier: string }[];
}
