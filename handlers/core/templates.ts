/**
 * Named templates with `{{variable}}` placeholders and per-locale variants. A missing variable is a
 * validation failure (never an empty string in a customer's inbox); HTML parts escape every value.
 */
import type { DataValue, TemplateVariant } from "./types";

export const DEFAULT_LOCALE = "en";
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** The locales to try, most specific first: "de-AT" -> ["de-AT", "de", "en"]. */
export function localeCandidates(locale: string | undefined): string[] {
    const out: string[] = [];
    if (locale) {
        const parts = locale.split("-");
        for (let n = parts.length; n >= 1; n--) out.push(canonicalLocale(parts.slice(0, n).join("-")));
    }
    out.push(DEFAULT_LOCALE);
    return [...new Set(out)];
}

/** Language lower case, region upper case, script title case: how template rows are keyed. */
export function canonicalLocale(locale: string): string {
    return locale
        .split("-")
        .map((part, i) => {
            if (i === 0) return part.toLowerCase();
            if (part.length === 2) return part.toUpperCase();
            if (part.length === 4) return part[0].toUpperCase() + part.slice(1).toLowerCase();
            return part.toLowerCase();
        })
        .join("-");
}

/** Picks the most specific variant present; undefined when not even the default locale exists. */
export function selectVariant(
    variants: Map<string, TemplateVariant> | Record<string, TemplateVariant>,
    locale: string | undefined,
): TemplateVariant | undefined {
    const lookup = (l: string) => (variants instanceof Map ? variants.get(l) : variants[l]);
    for (const candidate of localeCandidates(locale)) {
        const v = lookup(candidate);
        if (v) return v;
    }
    return undefined;
}

export const MISSING_VARIABLE = "MissingVariableError";

/**
 * A plain Error marked by name, not a subclass: closure serialization rewrites classes, and an Error
 * subclass came out of it without its message.
 */
export function missingVariableError(variables: string[]): Error & { variables: string[] } {
    const error = new Error(
        `missing template variable${variables.length > 1 ? "s" : ""}: ${variables.join(", ")}`,
    ) as Error & {
        variables: string[];
    };
    error.name = MISSING_VARIABLE;
    error.variables = variables;
    return error;
}

export function escapeHtml(value: string): string {
    return value
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/"/g, "&quot;")
        .replace(/'/g, "&#39;");
}

/** The variable names a template text uses. */
export function placeholders(text: string): string[] {
    return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** Substitutes every placeholder; throws a MissingVariableError naming all absent variables. */
export function renderText(text: string, data: Record<string, DataValue>, escapeValue?: (v: string) => string): string {
    const missing = placeholders(text).filter((name) => !Object.hasOwn(data, name));
    if (missing.length > 0) throw missingVariableError(missing);
    return text.replace(PLACEHOLDER, (_m, name: string) => {
        const value = String(data[name]);
        return escapeValue ? escapeValue(value) : value;
    });
}

export interface PushContent {
    title?: string;
    body: string;
}
export interface EmailContent {
    subject: string;
    html: string;
    text: string;
}

/** A rendering problem: the request is invalid for this channel (recorded FAILED, not retried). */
export type Rendered<T> = { ok: true; content: T } | { ok: false; reason: string };

function attempt<T>(render: () => T): Rendered<T> {
    try {
        return { ok: true, content: render() };
    } catch (err) {
        if ((err as Error).name === MISSING_VARIABLE) return { ok: false, reason: (err as Error).message };
        throw err;
    }
}

export function renderPush(variant: TemplateVariant, data: Record<string, DataValue>): Rendered<PushContent> {
    if (!variant.body)
        return { ok: false, reason: `template ${variant.templateId} (${variant.locale}) has no push body` };
    return attempt(() => ({
        title: variant.title === undefined ? undefined : renderText(variant.title, data),
        body: renderText(variant.body!, data),
    }));
}

export function renderEmail(variant: TemplateVariant, data: Record<string, DataValue>): Rendered<EmailContent> {
    if (!variant.subject || (!variant.html && !variant.text)) {
        return {
            ok: false,
            reason: `template ${variant.templateId} (${variant.locale}) has no e-mail subject and body`,
        };
    }
    return attempt(() => {
        const text = variant.text ? renderText(variant.text, data) : undefined;
        const html = variant.html ? renderText(variant.html, data, escapeHtml) : undefined;
        return {
            subject: renderText(variant.subject!, data),
            html: html ?? textToHtml(text!),
            text: text ?? htmlToText(html!),
        };
    });
}

export function renderSms(variant: TemplateVariant, data: Record<string, DataValue>): Rendered<string> {
    const source = variant.sms ?? variant.text ?? variant.body;
    if (!source) return { ok: false, reason: `template ${variant.templateId} (${variant.locale}) has no SMS text` };
    return attempt(() => renderText(source, data));
}

/** Direct (template-less) e-mail content: the body is plain text, escaped into the HTML part. */
export function directEmail(subject: string | undefined, body: string, title?: string): EmailContent {
    return { subject: subject ?? title ?? "", html: textToHtml(body), text: body };
}

export function textToHtml(text: string): string {
    const paragraphs = text.split(/\n{2,}/).map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`);
    return `<!DOCTYPE html><html><body>${paragraphs.join("")}</body></html>`;
}

/** A readable text part from an HTML-only template (tags dropped, entities of escapeHtml undone). */
export function htmlToText(html: string): string {
    return html
        .replace(/<(br|\/p|\/div|\/h[1-6]|\/li)\s*\/?>/gi, "\n")
        .replace(/<[^>]*>/g, "")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, "&")
        .replace(/\n{3,}/g, "\n\n")
        .trim();
}
