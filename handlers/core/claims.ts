/**
 * Claim before send: before its provider call, a recipient's delivery-log row is claimed with a
 * conditional write — a lease (owner, expiry) that holds past the end of the invocation. A concurrent
 * copy of the request meets the live claim and does not send; a copy that meets an expired lease with
 * no result (its owner crashed or timed out) takes over. The result row written afterwards (a Put of
 * the whole item) replaces the claim. Pure: the expressions and the decisions; lib/pipeline/claims
 * makes the calls.
 */
import { SENT_STATUSES } from "./deliveryLog";
import type { RecipientPlan, RecordPlan } from "./plan";
import type { DeliveryStatus } from "./types";

/** Past the invocation's own end (remaining time at its start): the lease outlives its owner's timeout. */
export const CLAIM_MARGIN_MS = 5_000;

/** When a claim taken at `now` by an invocation with `remainingMs` left expires (epoch ms). */
export function leaseExpiry(now: number, remainingMs: number): number {
    return now + Math.max(0, remainingMs) + CLAIM_MARGIN_MS;
}

export interface ClaimKey {
    notificationId: string;
    recipientKey: string;
    /** The hourly rate counter this send counts against (core/deliveryLog rateCounterId). */
    rateCounterId?: string;
}

/** One rate counter's increment in a claim transaction: the sends it claims for that user and hour. */
export interface CounterAdd {
    id: string;
    add: number;
    /** Epoch seconds: the idempotency table's TTL, an hour past the counter's hour. */
    expiration: number;
}

/** The counters the claimed keys count against, each with the number of its keys. */
export function counterAdds(keys: ClaimKey[], now: number): CounterAdd[] {
    const added = new Map<string, number>();
    for (const k of keys) if (k.rateCounterId) added.set(k.rateCounterId, (added.get(k.rateCounterId) ?? 0) + 1);
    const expiration = Math.floor(now / 3_600_000 + 1) * 3_600 + 3_600;
    return [...added].map(([id, add]) => ({ id, add, expiration }));
}

/**
 * The Update that counts claimed sends against a user's hourly limit, in the claim's own transaction:
 * an atomic ADD (concurrent copies cannot overwrite each other's counts), conditional on the limit
 * when there is one — a counter already at its limit cancels the transaction, and the claims behind
 * it are refused as rate limited. What a claim counts is an attempt: a send that then fails still
 * counts for the hour (the limit errs on the side of fewer notifications).
 */
export function counterUpdate(args: { table: string; counter: CounterAdd; limit?: number }): {
    TableName: string;
    Key: { id: { S: string } };
    UpdateExpression: string;
    ConditionExpression?: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, { N: string }>;
} {
    const { counter, limit } = args;
    const values: Record<string, { N: string }> = {
        ":n": { N: String(counter.add) },
        ":exp": { N: String(counter.expiration) },
    };
    const update = {
        TableName: args.table,
        Key: { id: { S: counter.id } },
        UpdateExpression: "ADD #count :n SET expiration = if_not_exists(expiration, :exp)",
        ExpressionAttributeNames: { "#count": "count" },
        ExpressionAttributeValues: values,
    };
    if (limit === undefined) return update;
    values[":max"] = { N: String(limit - counter.add) };
    return { ...update, ConditionExpression: "attribute_not_exists(#count) OR #count <= :max" };
}

/**
 * The conditional Update that claims one row: it succeeds on no row, or on a row without a sent status
 * whose claim is absent, expired, or already ours (a retry within the same invocation).
 */
export function claimUpdate(args: {
    table: string;
    key: ClaimKey;
    owner: string;
    now: number;
    expiresAt: number;
    /** Epoch seconds for the row's TTL should it never get a result. */
    ttl: number;
}) {
    const values: Record<string, { S: string } | { N: string }> = {
        ":owner": { S: args.owner },
        ":now": { N: String(args.now) },
        ":exp": { N: String(args.expiresAt) },
        ":ttl": { N: String(args.ttl) },
    };
    SENT_STATUSES.forEach((status, i) => {
        values[`:sent${i}`] = { S: status };
    });
    const sent = SENT_STATUSES.map((_, i) => `:sent${i}`).join(", ");
    return {
        TableName: args.table,
        Key: { notificationId: { S: args.key.notificationId }, recipientKey: { S: args.key.recipientKey } },
        UpdateExpression: "SET claimOwner = :owner, claimExpiresAt = :exp, expiresAt = if_not_exists(expiresAt, :ttl)",
        ConditionExpression:
            "attribute_not_exists(notificationId) OR ((attribute_not_exists(#status) OR NOT #status IN (" +
            sent +
            ")) AND (attribute_not_exists(claimExpiresAt) OR claimExpiresAt < :now OR claimOwner = :owner))",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    };
}

/** Why a claim was refused, from the row as it stood (ReturnValuesOnConditionCheckFailure ALL_OLD). */
export type ClaimRefusal =
    | { kind: "sent"; status: DeliveryStatus }
    | { kind: "claimed"; owner?: string; until?: number }
    /** The user's counter for this channel and hour is at its limit. */
    | { kind: "rate-limited"; reason: string };

export function refusalOf(
    row: { status?: DeliveryStatus; claimOwner?: string; claimExpiresAt?: number } | undefined,
): ClaimRefusal {
    if (row?.status && SENT_STATUSES.includes(row.status)) return { kind: "sent", status: row.status };
    return { kind: "claimed", owner: row?.claimOwner, until: row?.claimExpiresAt };
}

/** The rows to claim: every recipient the plan sends to. */
export function claimKeys(plans: RecordPlan<unknown>[]): ClaimKey[] {
    const keys: ClaimKey[] = [];
    for (const p of plans) {
        if (p.kind !== "request") continue;
        for (const r of p.recipients)
            if (r.action.kind === "send")
                keys.push({
                    notificationId: p.request.notificationId,
                    recipientKey: r.recipient.recipientKey,
                    rateCounterId: r.action.rateCounterId,
                });
    }
    return keys;
}

export type ClaimOutcome = ClaimRefusal | { kind: "unavailable"; reason: string } | undefined;

/**
 * The plans after claiming: a send whose row a copy already sent becomes a skip; one claimed by a live
 * copy, or not claimable now, is left for a later retry of its record (nothing sent, nothing written).
 */
export function applyClaims<D>(
    plans: RecordPlan<D>[],
    outcomeOf: (notificationId: string, recipientKey: string) => ClaimOutcome,
): RecordPlan<D>[] {
    return plans.map((p) => {
        if (p.kind !== "request") return p;
        const recipients = p.recipients.map((r): RecipientPlan<D> => {
            if (r.action.kind !== "send") return r;
            const claim = outcomeOf(p.request.notificationId, r.recipient.recipientKey);
            if (claim === undefined) return r;
            if (claim.kind === "sent") return { ...r, action: { kind: "skip", reason: `already ${claim.status}` } };
            if (claim.kind === "rate-limited") return { ...r, action: { kind: "suppress", reason: claim.reason } };
            const reason =
                claim.kind === "claimed"
                    ? `claimed by a concurrent copy until ${claim.until ? new Date(claim.until).toISOString() : "?"}`
                    : `claim not possible now: ${claim.reason}`;
            return { ...r, action: { kind: "retry", reason } };
        });
        return { ...p, recipients };
    });
}
