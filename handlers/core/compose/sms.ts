/** SMS: the number (request, else profile), E.164, the opt-out status the adapter looked up, the text. */
import { isE164, smsProblem } from "../sms";
import { renderSms, type Rendered } from "../templates";
import type { Composer } from "./composer";

export interface SmsDelivery {
    channel: "sms";
    phone: string;
    text: string;
}

/** The opt-out status of the batch's numbers (smsSender's enrich step). */
export interface OptOutStatus {
    /** Numbers known to have opted out. */
    optedOut: { has(phone: string): boolean };
    /** Numbers whose status could not be learned (listing and checks failed): their records retry. */
    unknown: { has(phone: string): boolean };
}

export const smsComposer: Composer<SmsDelivery, OptOutStatus> = {
    channel: "sms",
    defaultOptIn: false,
    compose({ request, recipient, profile, variant, values, enrichment }) {
        const phone = recipient.address ?? profile?.phone;
        if (!phone) return { kind: "fail", reason: "recipient has no phone number" };
        if (!isE164(phone)) return { kind: "fail", reason: `invalid phone number ${phone} (E.164 expected)` };
        if (enrichment.optedOut.has(phone)) return { kind: "suppress", reason: "phone number opted out of SMS" };
        if (enrichment.unknown.has(phone)) return { kind: "retry", reason: "opt-out status of the number unavailable" };
        const text: Rendered<string> = variant ? renderSms(variant, values) : { ok: true, content: request.body! };
        if (!text.ok) return { kind: "fail", reason: text.reason };
        const problem = smsProblem(text.content);
        if (problem) return { kind: "fail", reason: problem };
        return { kind: "send", delivery: { channel: "sms", phone, text: text.content } };
    },
};
