/**
 * SMS sender (sms channel queue -> SNS Publish to a phone number, Transactional). Opt-outs come from
 * ListPhoneNumbersOptedOut, paged and cached per container for a few minutes: one listing serves many
 * batches, instead of one CheckIfPhoneNumberIsOptedOut per message. Only when the listing is too long
 * to page through within bounds does it fall back to per-number checks for the numbers it missed.
 */
import {
    CheckIfPhoneNumberIsOptedOutCommand,
    ListPhoneNumbersOptedOutCommand,
    PublishCommand,
    SNSClient,
    type MessageAttributeValue,
} from "@aws-sdk/client-sns";
import { ENV, requireEnv } from "./lib/env";
import type { Logger } from "./lib/log";
import { callWithBackoff, createTelemetry, isRetryable, providerClientConfig, SEND_TIME_GUARD_MS } from "./lib/runtime";
import { createSenderHandler, senderSetup, type DeliverArgs, type DeliveryResult } from "./lib/sender";

export const OPT_OUT_CACHE_TTL_MS = 5 * 60_000;
export const OPT_OUT_MAX_PAGES = 50;

export function smsSender() {
    const telemetry = createTelemetry();
    const sns = new SNSClient(providerClientConfig());
    const senderId = process.env[ENV.smsSenderId] || undefined;
    const optOuts = createOptOutCache(sns, telemetry.log);
    return createSenderHandler({
        ...senderSetup("sms", telemetry),
        optedOut: optOuts,
        deliver: (args) => deliverSms(args, sns, senderId),
    });
}

/** The opted-out numbers among `phones`, from a per-container listing refreshed every few minutes. */
export function createOptOutCache(sns: SNSClient, log: Logger, now: () => number = Date.now) {
    let cache: { phones: Set<string>; complete: boolean; fetchedAt: number } | undefined;
    const refresh = async () => {
        const phones = new Set<string>();
        let nextToken: string | undefined;
        let pages = 0;
        do {
            const out = await sns.send(new ListPhoneNumbersOptedOutCommand({ nextToken }));
            for (const p of out?.phoneNumbers ?? []) phones.add(p);
            nextToken = out?.nextToken;
            pages++;
        } while (nextToken && pages < OPT_OUT_MAX_PAGES);
        if (nextToken) log.warn("opt-out listing longer than the page bound; checking the rest per number", { pages });
        cache = { phones, complete: !nextToken, fetchedAt: now() };
        return cache;
    };
    return async (candidates: string[]): Promise<Set<string>> => {
        if (candidates.length === 0) return new Set();
        const current = cache && now() - cache.fetchedAt < OPT_OUT_CACHE_TTL_MS ? cache : await refresh();
        const opted = new Set(candidates.filter((p) => current.phones.has(p)));
        if (!current.complete) {
            for (const phone of candidates) {
                if (opted.has(phone)) continue;
                const out = await sns.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: phone }));
                if (out?.isOptedOut) {
                    opted.add(phone);
                    current.phones.add(phone);
                }
            }
        }
        return opted;
    };
}

export async function deliverSms(args: DeliverArgs, sns: SNSClient, senderId: string | undefined): Promise<DeliveryResult> {
    if (args.delivery.channel !== "sms") throw new Error("sms sender got a non-sms delivery");
    const attributes: Record<string, MessageAttributeValue> = {
        "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
    };
    if (senderId) attributes["AWS.SNS.SMS.SenderID"] = { DataType: "String", StringValue: senderId };
    const { phone, text } = args.delivery;
    const result = await callWithBackoff(
        () => sns.send(new PublishCommand({ PhoneNumber: phone, Message: text, MessageAttributes: attributes })),
        args.remaining,
        { minRemainingMs: SEND_TIME_GUARD_MS },
    );
    if (result.ok) return { status: "SENT", providerMessageId: result.value.MessageId };
    const { error, errorClass } = result;
    if (error.name === "OptedOutException") return { status: "SUPPRESSED", reason: "phone number opted out of SMS" };
    if (isRetryable(errorClass)) return { status: "RETRY", reason: `${error.name}: ${error.message}`, errorClass };
    return { status: "FAILED", reason: `${error.name}: ${error.message}` };
}
