/** The analytics stream: one PutRecordBatch per invocation's outcome lines (best effort). */
import { type FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";
import type { Logger } from "./log";

const FIREHOSE_MAX_RECORDS = 500;
const FIREHOSE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Sends the invocation's analytics lines with PutRecordBatch: one call for up to 500 records / 4 MiB
 * (more only for larger invocations). Analytics is best effort: a failure is logged, never retried
 * into a duplicate send.
 */
export async function putAnalytics(
    firehose: FirehoseClient,
    stream: string,
    lines: string[],
    log: Logger,
): Promise<void> {
    const batches: string[][] = [];
    let current: string[] = [];
    let size = 0;
    for (const line of lines) {
        const n = Buffer.byteLength(line);
        if (current.length === FIREHOSE_MAX_RECORDS || size + n > FIREHOSE_MAX_BYTES) {
            batches.push(current);
            current = [];
            size = 0;
        }
        current.push(line);
        size += n;
    }
    if (current.length > 0) batches.push(current);
    for (const batch of batches) {
        try {
            const out = await firehose.send(
                new PutRecordBatchCommand({
                    DeliveryStreamName: stream,
                    Records: batch.map((l) => ({ Data: Buffer.from(l) })),
                }),
            );
            if (out.FailedPutCount)
                log.warn("analytics records rejected", { failed: out.FailedPutCount, total: batch.length });
        } catch (error) {
            log.error("analytics batch failed", { error, records: batch.length });
        }
    }
}
