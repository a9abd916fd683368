/**
 * The senders' per-container template cache: a batch gets only the variants it asked for, and the
 * cache stays bounded (expired entries dropped and the oldest beyond the cap evicted when adding).
 */
import { expect } from "chai";
import { marshall } from "../../../handlers/core/attributes";
import { templateKey } from "../../../handlers/core/plan";
import {
    cachedTemplates,
    rememberTemplates,
    TEMPLATE_CACHE_MAX_ENTRIES,
    TEMPLATE_CACHE_MS,
    type TemplateCache,
} from "../../../handlers/lib/pipeline/templateCache";

const variant = (templateId: string, locale: string) => ({ templateId, locale, body: `${templateId} ${locale}` });
const item = (templateId: string, locale: string) => marshall({ ...variant(templateId, locale) });
const ref = (templateId: string, locale: string) => ({ templateId, locale });

describe("lib/sender: template cache", () => {
    it("copies into a batch only the variants it asked for", () => {
        const cache: TemplateCache = new Map();
        rememberTemplates(
            cache,
            [ref("a", "en"), ref("b", "en"), ref("c", "de")],
            [item("a", "en"), item("b", "en")],
            0,
        );
        const got = cachedTemplates(cache, [ref("a", "en"), ref("c", "de")]);
        expect([...got.keys()]).to.deep.equal([templateKey("a", "en")]); // c|de is a remembered miss
        expect(got.get(templateKey("a", "en"))).to.deep.equal(variant("a", "en"));
    });

    it("drops expired entries when adding", () => {
        const cache: TemplateCache = new Map();
        rememberTemplates(cache, [ref("old", "en")], [item("old", "en")], 0);
        rememberTemplates(cache, [ref("mid", "en")], [item("mid", "en")], TEMPLATE_CACHE_MS / 2);
        rememberTemplates(cache, [ref("new", "en")], [item("new", "en")], TEMPLATE_CACHE_MS);
        expect([...cache.keys()]).to.deep.equal([templateKey("mid", "en"), templateKey("new", "en")]);
    });

    it("evicts the oldest beyond the cap; a re-read key counts as new", () => {
        const cache: TemplateCache = new Map();
        const refs = Array.from({ length: TEMPLATE_CACHE_MAX_ENTRIES }, (_, i) => ref(`t${i}`, "en"));
        rememberTemplates(cache, refs, [], 0);
        rememberTemplates(cache, [ref("t0", "en")], [item("t0", "en")], 1); // refreshed: now the newest
        rememberTemplates(cache, [ref("x", "en"), ref("y", "en")], [], 2);
        expect(cache.size).to.equal(TEMPLATE_CACHE_MAX_ENTRIES);
        expect(cache.has(templateKey("t0", "en"))).to.equal(true);
        expect(cache.has(templateKey("t1", "en"))).to.equal(false);
        expect(cache.has(templateKey("t2", "en"))).to.equal(false);
        expect(cache.has(templateKey("y", "en"))).to.equal(true);
    });
});
