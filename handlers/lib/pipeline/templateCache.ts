/**
 * The per-container template cache. Templates change rarely and every record of a campaign names the
 * same one: a container keeps each variant it read (or learned is missing) for TEMPLATE_CACHE_MS
 * instead of reading it per batch; an edited template reaches every container within that time.
 * A plain Map with free functions (no class: closure serialization).
 */
import { type AttributeMap, unmarshall } from "../../core/attributes";
import { templateKey } from "../../core/plan";
import type { TemplateVariant } from "../../core/types";

export const TEMPLATE_CACHE_MS = 60_000;
/** Bound on the variants a container keeps: beyond it the oldest entries go first. */
export const TEMPLATE_CACHE_MAX_ENTRIES = 1_000;
export type TemplateCache = Map<string, { variant?: TemplateVariant; readAt: number }>;
export type TemplateRef = { templateId: string; locale: string };

/** Whether the cache holds a fresh answer (a variant or a known miss) for `ref`. */
export function isCached(cache: TemplateCache, ref: TemplateRef, now: number): boolean {
    const entry = cache.get(templateKey(ref.templateId, ref.locale));
    return entry !== undefined && now - entry.readAt < TEMPLATE_CACHE_MS;
}

/** The variants this batch asked for (and that exist), from the cache: not every variant it holds. */
export function cachedTemplates(cache: TemplateCache, wanted: TemplateRef[]): Map<string, TemplateVariant> {
    const out = new Map<string, TemplateVariant>();
    for (const k of wanted) {
        const key = templateKey(k.templateId, k.locale);
        const variant = cache.get(key)?.variant;
        if (variant) out.set(key, variant);
    }
    return out;
}

/**
 * Caches every requested variant: the ones read, and the missing ones as misses (no re-read either).
 * Adding is when the cache is kept bounded: expired entries are dropped, then the oldest beyond
 * TEMPLATE_CACHE_MAX_ENTRIES (a Map iterates in insertion order; a refreshed key is re-inserted).
 */
export function rememberTemplates(cache: TemplateCache, requested: TemplateRef[], items: AttributeMap[], now: number) {
    for (const [key, entry] of cache) if (now - entry.readAt >= TEMPLATE_CACHE_MS) cache.delete(key);
    const put = (key: string, entry: { variant?: TemplateVariant; readAt: number }) => {
        cache.delete(key);
        cache.set(key, entry);
    };
    for (const k of requested) put(templateKey(k.templateId, k.locale), { readAt: now });
    for (const raw of items) {
        const variant = unmarshall(raw) as unknown as TemplateVariant;
        put(templateKey(variant.templateId, variant.locale), { variant, readAt: now });
    }
    for (const key of cache.keys()) {
        if (cache.size <= TEMPLATE_CACHE_MAX_ENTRIES) break;
        cache.delete(key);
    }
}
