/**
 * A deterministic barrier for the concurrent-copy tests: every DynamoDB TransactWriteItems (the claims)
 * is held until `parties` of them have arrived, then all go at once, so the copies' claims really meet.
 */
import { DynamoDBClient, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";

export type DynamoProto = { send: (c: unknown) => Promise<unknown> };
/** The SDK client's prototype, patched by the tests that inject faults or barriers into DynamoDB calls. */
export const dynamoProto = DynamoDBClient.prototype as unknown as DynamoProto;

/** Installs the barrier; returns the function that removes it. */
export function claimBarrier(parties: number): () => void {
    const original = dynamoProto.send;
    let waiting: (() => void)[] = [];
    dynamoProto.send = function (this: unknown, command: unknown) {
        if (!(command instanceof TransactWriteItemsCommand)) return original.call(this, command);
        return new Promise<void>((release) => {
            waiting.push(release);
            if (waiting.length === parties) {
                for (const go of waiting) go();
                waiting = [];
            }
        }).then(() => original.call(this, command));
    };
    return () => {
        dynamoProto.send = original;
    };
}
