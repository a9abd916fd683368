/**
 * The Firehose stand-in's side of the analytics hop: every PutRecordBatch the functions made, checked
 * against Firehose's limits (1-500 records, 1,000 KiB per record, 4 MiB per call, the stream the
 * program names) and the records decoded and checked as the analytics events the bucket expects
 * (one JSON object per line with type, notificationId, channel, status).
 */
import type { ApiCall } from "../local-cloud/sdk";

export interface AnalyticsCheck {
    calls: number;
    records: Record<string, any>[];
    problems: string[];
}

const MAX_RECORDS = 500;
const MAX_RECORD_BYTES = 1_000 * 1024;
const MAX_CALL_BYTES = 4 * 1024 * 1024;

export function checkAnalytics(calls: ApiCall[], streams: Set<string>): AnalyticsCheck {
    const out: AnalyticsCheck = { calls: 0, records: [], problems: [] };
    for (const call of calls) {
        if (call.service !== "Firehose") continue;
        if (call.operation !== "PutRecordBatch") {
            out.problems.push(
                `Firehose.${call.operation}: the functions are meant to send one PutRecordBatch per invocation`,
            );
            continue;
        }
        out.calls++;
        const input = call.input ?? {};
        if (!streams.has(input.DeliveryStreamName))
            out.problems.push(`PutRecordBatch to unknown stream ${input.DeliveryStreamName}`);
        const records: { Data?: Uint8Array }[] = input.Records ?? [];
        if (records.length < 1 || records.length > MAX_RECORDS)
            out.problems.push(`PutRecordBatch with ${records.length} records (1-${MAX_RECORDS})`);
        let total = 0;
        for (const record of records) {
            const data = Buffer.from(record.Data ?? new Uint8Array());
            total += data.length;
            if (data.length > MAX_RECORD_BYTES) out.problems.push(`record of ${data.length} bytes exceeds 1,000 KiB`);
            const text = data.toString("utf8");
            if (!text.endsWith("\n")) out.problems.push(`record not newline-terminated: ${text.slice(0, 80)}`);
            try {
                const event = JSON.parse(text);
                for (const key of ["type", "notificationId", "channel", "status", "timestamp"]) {
                    if (typeof event[key] !== "string")
                        out.problems.push(`analytics event without ${key}: ${text.trim().slice(0, 120)}`);
                }
                out.records.push(event);
            } catch {
                out.problems.push(`record is not JSON: ${text.slice(0, 80)}`);
            }
        }
        if (total > MAX_CALL_BYTES) out.problems.push(`PutRecordBatch of ${total} bytes exceeds 4 MiB`);
    }
    return out;
}
