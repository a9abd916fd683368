/**
 * Claiming the batch's sends in TransactWriteItems of up to 100 conditional Updates (one call for a
 * whole batch when nothing conflicts). A cancelled transaction names, per action, why: the actions
 * whose condition failed are refused (their row says whether it was sent or is claimed by a live
 * copy), the others are retried in a new transaction. Measured against one conditional UpdateItem per
 * recipient (test/handlers/emulator/claims.test.ts): 1 call vs n per batch, so only this one ships.
 */
import { type AttributeMap, unmarshall } from "../../core/attributes";
import {
    claimUpdate,
    type ClaimKey,
    type ClaimRefusal,
    counterAdds,
    counterUpdate,
    refusalOf,
} from "../../core/claims";
import { logKey } from "../../core/deliveryLog";
import { sleep } from "../concurrency";
import type { Dynamo } from "../dynamo";

export const TRANSACT_MAX_ACTIONS = 100;
/** Claims per transaction: with at most one counter action each, a chunk stays within 100 actions. */
export const CLAIMS_PER_TRANSACTION = TRANSACT_MAX_ACTIONS / 2;
const MAX_ROUNDS = 5;

export interface ClaimArgs {
    dynamo: Dynamo;
    table: string;
    owner: string;
    now: number;
    expiresAt: number;
    ttl: number;
    keys: ClaimKey[];
    /**
     * The idempotency table holding the hourly rate counters, and the channel's limit: each claimed
     * send is counted in the same transaction (omitted: nothing is counted, no channel is limited).
     */
    counters?: { table: string; limit?: number; channel: string };
}

/** Per logKey: claimed (undefined) or the refusal; keys still unresolved after the rounds are "unavailable". */
export type ClaimResults = Map<string, ClaimRefusal | { kind: "unavailable"; reason: string } | undefined>;

export async function claimAll(args: ClaimArgs): Promise<ClaimResults> {
    const results: ClaimResults = new Map();
    for (let i = 0; i < args.keys.length; i += CLAIMS_PER_TRANSACTION) {
        await claimChunk(args, args.keys.slice(i, i + CLAIMS_PER_TRANSACTION), results);
    }
    return results;
}

async function claimChunk(args: ClaimArgs, chunk: ClaimKey[], results: ClaimResults) {
    let pending = chunk;
    let lastError = "";
    const id = (key: ClaimKey) => logKey(key.notificationId, key.recipientKey);
    for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
        if (round > 0) await sleep(Math.random() * Math.min(500, 25 * 2 ** round));
        const counters = args.counters ? counterAdds(pending, args.now) : [];
        const actions = [
            ...pending.map((key) => ({ Update: claimUpdate({ ...args, key }) })),
            ...counters.map((counter) => ({
                Update: counterUpdate({ table: args.counters!.table, counter, limit: args.counters!.limit }),
            })),
        ];
        try {
            await args.dynamo.call("TransactWriteItems", { TransactItems: actions });
            for (const key of pending) results.set(id(key), undefined);
            return;
        } catch (err) {
            const error = err as Error & { CancellationReasons?: { Code?: string; Item?: AttributeMap }[] };
            lastError = `${error.name}: ${error.message}`;
            if (error.name !== "TransactionCanceledException" || !error.CancellationReasons) continue;
            const reasons = error.CancellationReasons;
            // Counters at their limit refuse every claim counted against them.
            const limited = new Set(
                counters
                    .filter((_, i) => reasons[pending.length + i]?.Code === "ConditionalCheckFailed")
                    .map((c) => c.id),
            );
            const retry: ClaimKey[] = [];
            pending.forEach((key, i) => {
                if (reasons[i]?.Code === "ConditionalCheckFailed") {
                    const row = reasons[i].Item
                        ? (unmarshall(reasons[i].Item!) as Parameters<typeof refusalOf>[0])
                        : undefined;
                    results.set(id(key), refusalOf(row));
                } else if (key.rateCounterId && limited.has(key.rateCounterId)) {
                    const reason = `rate limited: ${args.counters!.limit} ${args.counters!.channel} per hour`;
                    results.set(id(key), { kind: "rate-limited", reason });
                } else retry.push(key); // None (cancelled with the others), TransactionConflict, throttling
            });
            pending = retry;
        }
    }
    for (const key of pending) results.set(id(key), { kind: "unavailable", reason: lastError });
}

/** The alternative measured against claimAll: one conditional UpdateItem per recipient, in parallel. */
export async function claimEach(args: ClaimArgs): Promise<ClaimResults> {
    const results: ClaimResults = new Map();
    await Promise.all(
        args.keys.map(async (key) => {
            const id = logKey(key.notificationId, key.recipientKey);
            try {
                await args.dynamo.call("UpdateItem", claimUpdate({ ...args, key }));
                results.set(id, undefined);
            } catch (err) {
                const error = err as Error & { Item?: AttributeMap };
                if (error.name === "ConditionalCheckFailedException")
                    results.set(
                        id,
                        refusalOf(error.Item ? (unmarshall(error.Item) as Parameters<typeof refusalOf>[0]) : undefined),
                    );
                else results.set(id, { kind: "unavailable", reason: `${error.name}: ${error.message}` });
            }
        }),
    );
    return results;
}
