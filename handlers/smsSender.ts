/**
 * SMS sender (sms channel queue -> SNS Publish to a phone number, Transactional). Opt-outs come from
 * ListPhoneNumbersOptedOut, paged and cached per container for a few minutes: one listing serves many
 * batches, instead of one CheckIfPhoneNumberIsOptedOut per message. Only when the listing is too long
 * to page through within bounds, or cannot be had at all, does it check numbers one by one (bounded).
 */
import {
    CheckIfPhoneNumberIsOptedOutCommand,
    ListPhoneNumbersOptedOutCommand,
    PublishCommand,
    SNSClient,
    type MessageAttributeValue,
} from "@aws-sdk/client-sns";
import { type OptOutStatus, type SmsDelivery, smsComposer } from "./core/compose/sms";
import type { BackoffPolicy } from "./core/retry";
import { callWithBackoff, providerClientConfig, SEND_TIME_GUARD_MS } from "./lib/backoff";
import { readEnvironment, SMS_ENV } from "./lib/env";
import type { Logger } from "./lib/log";
import { type DeliverArgs, type DeliveryResult, deliveryResultOf, type EnrichRecipient } from "./lib/pipeline/channel";
import { createSenderHandler, senderSetup } from "./lib/sender";
import { createTelemetry } from "./lib/telemetry";

export const OPT_OUT_CACHE_TTL_MS = 5 * 60_000;
export const OPT_OUT_MAX_PAGES = 50;
/** Per-number CheckIfPhoneNumberIsOptedOut calls per batch when no complete listing is at hand. */
export const OPT_OUT_MAX_CHECKS = 25;

export function smsSender() {
    const telemetry = createTelemetry();
    const sns = new SNSClient(providerClientConfig());
    const { smsSenderId } = readEnvironment(SMS_ENV);
    const optOuts = createOptOutCache(sns, telemetry.log);
    return createSenderHandler(senderSetup("sms", telemetry), {
        composer: smsComposer,
        // The SMS composer ignores the previous row: the claim alone finds one already sent.
        readsPreviousRows: false,
        // Only SMS reads opt-outs: the numbers of the batch (request, else profile), looked up at once.
        enrich: ({ recipients, remaining }) => optOuts(batchPhones(recipients), remaining),
        deliver: (args) => deliverSms(args, sns, smsSenderId),
    });
}

/** The distinct numbers the batch's recipients would be sent to. */
export function batchPhones(recipients: EnrichRecipient[]): string[] {
    const phones = new Set<string>();
    for (const r of recipients) {
        const phone = r.address ?? r.profile?.phone;
        if (phone) phones.add(phone);
    }
    return [...phones];
}

/** OptOutStatus with the sets the cache builds. */
export interface OptOutSets extends OptOutStatus {
    optedOut: Set<string>;
    unknown: Set<string>;
}

export interface OptOutCacheOptions {
    now?: () => number;
    /** Backoff of the listing and check calls (tests shorten it). */
    policy?: BackoffPolicy;
    random?: () => number;
}

/**
 * One ListPhoneNumbersOptedOut listing, up to OPT_OUT_MAX_PAGES pages; `complete` is false when the
 * page bound cut it short. Undefined when a page failed past the backoff.
 */
async function listOptedOut(
    sns: SNSClient,
    log: Logger,
    remaining: () => number,
    backoff: { policy?: BackoffPolicy; random?: () => number },
): Promise<{ phones: Set<string>; complete: boolean } | undefined> {
    const phones = new Set<string>();
    let nextToken: string | undefined;
    let pages = 0;
    do {
        const token = nextToken;
        const result = await callWithBackoff(
            () => sns.send(new ListPhoneNumbersOptedOutCommand({ nextToken: token })),
            remaining,
            backoff,
        );
        if (!result.ok) {
            log.warn("opt-out listing failed", { pages, errorClass: result.errorClass, error: result.error });
            return undefined;
        }
        for (const p of result.value?.phoneNumbers ?? []) phones.add(p);
        nextToken = result.value?.nextToken;
        pages++;
    } while (nextToken && pages < OPT_OUT_MAX_PAGES);
    if (nextToken) log.warn("opt-out listing longer than the page bound; checking the rest per number", { pages });
    return { phones, complete: !nextToken };
}

/**
 * The opted-out numbers among `phones`, from a per-container listing refreshed every few minutes.
 * A listing call that stays throttled past the backoff does not fail the batch: a previous (stale)
 * listing is used if there is one (opt-outs it misses are still enforced by SNS itself, which does not
 * deliver to opted-out numbers); with none, or when the listing is incomplete, the batch's numbers are
 * checked one by one, at most OPT_OUT_MAX_CHECKS per batch. Numbers left unchecked come back as
 * `unknown`: their records are retried rather than sent blind.
 */
export function createOptOutCache(sns: SNSClient, log: Logger, options: OptOutCacheOptions = {}) {
    const now = options.now ?? (() => Date.now());
    const backoff = { policy: options.policy, random: options.random };
    let listing: { phones: Set<string>; complete: boolean; fetchedAt: number } | undefined;
    /** Per-number answers of CheckIfPhoneNumberIsOptedOut, kept as long as a listing. */
    const checked = new Map<string, { optedOut: boolean; at: number }>();

    const refresh = async (remaining: () => number) => {
        const fetched = await listOptedOut(sns, log, remaining, backoff);
        if (fetched) listing = { ...fetched, fetchedAt: now() };
        return fetched && listing;
    };

    /** Per-number checks, bounded; a failed check stops them (the next would most likely fail too). */
    const checkEach = async (
        phones: string[],
        remaining: () => number,
        optedOut: Set<string>,
        unknown: Set<string>,
    ) => {
        const at = now();
        for (const [phone, entry] of checked) if (at - entry.at >= OPT_OUT_CACHE_TTL_MS) checked.delete(phone);
        let calls = 0;
        let failing = false;
        for (const phone of phones) {
            const known = checked.get(phone);
            if (known) {
                if (known.optedOut) optedOut.add(phone);
                continue;
            }
            if (failing || calls >= OPT_OUT_MAX_CHECKS) {
                unknown.add(phone);
                continue;
            }
            calls++;
            const result = await callWithBackoff(
                () => sns.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: phone })),
                remaining,
                backoff,
            );
            if (!result.ok) {
                log.warn("opt-out check failed", { errorClass: result.errorClass, error: result.error });
                failing = true;
                unknown.add(phone);
                continue;
            }
            const isOptedOut = result.value?.isOptedOut === true;
            checked.set(phone, { optedOut: isOptedOut, at: now() });
            if (isOptedOut) optedOut.add(phone);
        }
        if (unknown.size > 0)
            log.warn("opt-out status unknown; those records are retried", { numbers: unknown.size, checked: calls });
    };

    return async (candidates: string[], remaining: () => number): Promise<OptOutSets> => {
        const optedOut = new Set<string>();
        const unknown = new Set<string>();
        if (candidates.length === 0) return { optedOut, unknown };
        let current = listing && now() - listing.fetchedAt < OPT_OUT_CACHE_TTL_MS ? listing : await refresh(remaining);
        if (!current && listing) {
            log.warn("using the previous opt-out listing", { ageMs: now() - listing.fetchedAt });
            current = listing;
        }
        for (const phone of candidates) if (current?.phones.has(phone)) optedOut.add(phone);
        if (!current?.complete) {
            await checkEach(
                candidates.filter((p) => !optedOut.has(p)),
                remaining,
                optedOut,
                unknown,
            );
        }
        return { optedOut, unknown };
    };
}

export async function deliverSms(
    args: DeliverArgs<SmsDelivery>,
    sns: SNSClient,
    senderId: string | undefined,
): Promise<DeliveryResult> {
    const attributes: Record<string, MessageAttributeValue> = {
        "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
    };
    if (senderId) attributes["AWS.SNS.SMS.SenderID"] = { DataType: "String", StringValue: senderId };
    const { phone, text } = args.delivery;
    const result = await callWithBackoff(
        () => sns.send(new PublishCommand({ PhoneNumber: phone, Message: text, MessageAttributes: attributes })),
        args.remaining,
        { minRemainingMs: SEND_TIME_GUARD_MS, uncertainResends: args.uncertainResends },
    );
    // Publish does not list OptedOutException (SNS drops SMS to opted-out numbers itself; the code is the
    // SMS sandbox's): kept because, should it ever come, SUPPRESSED is its only right reading.
    if (!result.ok && result.error.name === "OptedOutException")
        return { status: "SUPPRESSED", reason: "phone number opted out of SMS" };
    return deliveryResultOf(result);
}
