/**
 * SMS rules: E.164 numbers and GSM-7 vs UCS-2 segmentation. One SMS carries 140 bytes: 160 GSM-7
 * septets or 70 UCS-2 code units; a concatenated message loses a 6/7-byte header per segment (153 or 67).
 */

const E164 = /^\+[1-9]\d{1,14}$/;
/** Longer messages cost more than they are worth and SNS caps a message at 1600 characters. */
export const MAX_SMS_SEGMENTS = 10;

export function isE164(phone: string): boolean {
    return E164.test(phone);
}

const GSM7_BASIC =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/** Extension table characters: each costs an escape plus itself, two septets. */
const GSM7_EXTENSION = "^{}\\[~]|€\f";

export type SmsEncoding = "GSM-7" | "UCS-2";

export interface SmsSegmentation {
    encoding: SmsEncoding;
    /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
    units: number;
    segments: number;
}

export function smsEncoding(text: string): SmsEncoding {
    for (const ch of text) if (!GSM7_BASIC.includes(ch) && !GSM7_EXTENSION.includes(ch)) return "UCS-2";
    return "GSM-7";
}

export function smsSegments(text: string): SmsSegmentation {
    const encoding = smsEncoding(text);
    if (encoding === "GSM-7") {
        let units = 0;
        for (const ch of text) units += GSM7_EXTENSION.includes(ch) ? 2 : 1;
        return { encoding, units, segments: units === 0 ? 1 : units <= 160 ? 1 : Math.ceil(units / 153) };
    }
    const units = text.length; // UTF-16 code units: an emoji (surrogate pair) takes two.
    return { encoding, units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}

/** Why this text cannot go out as an SMS, or undefined when it can. */
export function smsProblem(text: string): string | undefined {
    if (text.trim() === "") return "SMS text is empty";
    const s = smsSegments(text);
    if (s.segments > MAX_SMS_SEGMENTS) {
        return `SMS needs ${s.segments} ${s.encoding} segments, more than the ${MAX_SMS_SEGMENTS} allowed`;
    }
    return undefined;
}
