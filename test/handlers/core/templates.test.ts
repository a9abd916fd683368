import { expect } from "chai";
import {
    escapeHtml,
    localeCandidates,
    renderEmail,
    renderPush,
    renderSms,
    renderText,
    selectVariant,
} from "../../../handlers/core/templates";
import type { TemplateVariant } from "../../../handlers/core/types";

const variant = (locale: string, extra: Partial<TemplateVariant> = {}): TemplateVariant => ({
    templateId: "welcome",
    locale,
    ...extra,
});

describe("core/templates: locales, substitution, escaping", () => {
    it("falls back from region to language to the default locale", () => {
        expect(localeCandidates("de-AT")).to.deep.equal(["de-AT", "de", "en"]);
        expect(localeCandidates("zh-hant-tw")).to.deep.equal(["zh-Hant-TW", "zh-Hant", "zh", "en"]);
        expect(localeCandidates(undefined)).to.deep.equal(["en"]);
        const variants = new Map([
            ["de", variant("de", { body: "Hallo" })],
            ["en", variant("en", { body: "Hello" })],
        ]);
        expect(selectVariant(variants, "de-AT")?.body).to.equal("Hallo");
        expect(selectVariant(variants, "fr-FR")?.body).to.equal("Hello");
        expect(selectVariant(new Map([["de", variant("de")]]), "fr")).to.equal(undefined);
    });

    it("substitutes variables and names every missing one", () => {
        expect(renderText("Hi {{ name }}, {{n}} new", { name: "Ann", n: 3 })).to.equal("Hi Ann, 3 new");
        expect(() => renderText("Hi {{name}} {{city}} {{name}}", {})).to.throw(
            "missing template variables: name, city",
        );
        // A present-but-empty value is the caller's choice, not a missing variable.
        expect(renderText("[{{x}}]", { x: "" })).to.equal("[]");
    });

    it("a missing variable is a failed rendering, never an empty string", () => {
        const r = renderPush(variant("en", { title: "Hi {{name}}", body: "b" }), {});
        expect(r).to.deep.equal({ ok: false, reason: "missing template variable: name" });
    });

    it("escapes values in the HTML part only", () => {
        const r = renderEmail(
            variant("en", { subject: "Hi {{name}}", html: "<p>Hello {{name}}</p>", text: "Hello {{name}}" }),
            { name: `<script>alert("x")</script> & 'co'` },
        );
        if (!r.ok) throw new Error(r.reason);
        expect(r.content.html).to.equal(
            "<p>Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p>",
        );
        expect(r.content.text).to.equal(`Hello <script>alert("x")</script> & 'co'`);
        expect(r.content.subject).to.equal(`Hi <script>alert("x")</script> & 'co'`);
        expect(escapeHtml("a<b")).to.equal("a&lt;b");
    });

    it("derives the missing part of an e-mail (text from HTML, HTML from text)", () => {
        const htmlOnly = renderEmail(variant("en", { subject: "S", html: "<p>A &amp; B</p><p>C</p>" }), {});
        if (!htmlOnly.ok) throw new Error(htmlOnly.reason);
        expect(htmlOnly.content.text).to.equal("A & B\nC");
        const textOnly = renderEmail(variant("en", { subject: "S", text: "x < y\n\nz" }), {});
        if (!textOnly.ok) throw new Error(textOnly.reason);
        expect(textOnly.content.html).to.contain("<p>x &lt; y</p><p>z</p>");
        expect(renderEmail(variant("en", { html: "<p/>" }), {}).ok).to.equal(false);
    });

    it("renders SMS from the sms part, falling back to text", () => {
        expect(renderSms(variant("en", { sms: "Code {{c}}" }), { c: 42 })).to.deep.equal({
            ok: true,
            content: "Code 42",
        });
        expect(renderSms(variant("en", { text: "T {{c}}" }), { c: 1 })).to.deep.equal({ ok: true, content: "T 1" });
        expect(renderSms(variant("en", { subject: "only" }), {}).ok).to.equal(false);
    });
});
