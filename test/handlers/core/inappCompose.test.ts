/**
 * The in-app composer (pure core) through the shared plan: content from the template's push fields or
 * the request, bounded sizes, the item id from the queued time, opt-in by default, quiet hours that
 * never hold an item back, and the deterministic item it becomes.
 */
import { expect } from "chai";
import {
    INBOX_BODY_MAX_CHARS,
    INBOX_DATA_MAX_BYTES,
    INBOX_TITLE_MAX_CHARS,
    type InappDelivery,
    inappComposer,
    inboxItem,
} from "../../../handlers/core/compose/inapp";
import { parseInboxItemId } from "../../../handlers/core/inbox";
import { type Action, type BatchData, parseBatch, planBatch, templateKey } from "../../../handlers/core/plan";
import type { ChannelPreference, Profile, TemplateVariant } from "../../../handlers/core/types";

const NOW = Date.parse("2026-01-15T12:00:00Z"); // 13:00 in Berlin
const QUEUED = NOW - 42_000;

function data(partial: Partial<BatchData<undefined>> = {}): BatchData<undefined> {
    return {
        profiles: new Map<string, Profile>([["u1", { userId: "u1", timezone: "Europe/Berlin", locale: "de-AT" }]]),
        preferences: new Map(),
        logRows: new Map(),
        templates: new Map(),
        enrichment: undefined,
        ...partial,
    };
}

function actions(body: unknown, d = data(), sentTimestamp: number | undefined = QUEUED): Action<InappDelivery>[] {
    const attributes = sentTimestamp === undefined ? undefined : { SentTimestamp: String(sentTimestamp) };
    const parsed = parseBatch([{ messageId: "m1", body: JSON.stringify(body), attributes }], "inapp", NOW);
    const [plan] = planBatch(parsed, d, { now: NOW, composer: inappComposer });
    return plan.kind === "ignore" ? [] : plan.recipients.map((r) => r.action);
}

function delivery(action: Action<InappDelivery> | undefined): InappDelivery {
    expect(action?.kind, JSON.stringify(action)).to.equal("send");
    return (action as Extract<Action<InappDelivery>, { kind: "send" }>).delivery;
}

describe("core/compose/inapp: the inbox item of a request", () => {
    it("direct content: title and body, the request's data, the item id and createdAt from the queued time", () => {
        const d = delivery(
            actions({ notificationId: "n-1", userId: "u1", title: "Hi", body: "There", data: { orderId: "A-1" } })[0],
        );
        expect(d).to.deep.equal({
            channel: "inapp",
            userId: "u1",
            itemId: `${QUEUED}_n-1`,
            notificationId: "n-1",
            title: "Hi",
            body: "There",
            data: { orderId: "A-1" },
            createdAt: new Date(QUEUED).toISOString(),
        });
        expect(parseInboxItemId(d.itemId)).to.deep.equal({ queuedAtMs: QUEUED, notificationId: "n-1" });
    });

    it("the same message processed again (a retry, later) builds the same item", () => {
        const body = { notificationId: "n-1", userId: "u1", body: "There" };
        const first = delivery(actions(body)[0]);
        const parsed = parseBatch(
            [{ messageId: "m1", body: JSON.stringify(body), attributes: { SentTimestamp: String(QUEUED) } }],
            "inapp",
            NOW + 3_600_000,
        );
        const [later] = planBatch(parsed, data(), { now: NOW + 3_600_000, composer: inappComposer });
        expect(later.kind === "request" && delivery(later.recipients[0].action)).to.deep.equal(first);
        expect(inboxItem(first, 90)).to.deep.equal(inboxItem(delivery(actions(body)[0]), 90));
        // Without a subject or title the title is empty; a subject stands in for a missing title.
        expect(first.title).to.equal("");
        expect(delivery(actions({ ...body, subject: "S" })[0]).title).to.equal("S");
    });

    it("a template: the push title/body of the recipient's locale, falling back to en; a missing variable fails", () => {
        const variant = (locale: string, title: string): TemplateVariant => ({
            templateId: "t",
            locale,
            title,
            body: `${title} {{orderId}}`,
        });
        const templates = new Map([
            [templateKey("t", "de"), variant("de", "Versandt")],
            [templateKey("t", "en"), variant("en", "Shipped")],
        ]);
        const request = { notificationId: "n-2", userId: "u1", template: "t", data: { orderId: "A-2" } };
        const de = delivery(actions(request, data({ templates }))[0]);
        expect([de.title, de.body]).to.deep.equal(["Versandt", "Versandt A-2"]);
        const en = delivery(actions({ ...request, locale: "fr" }, data({ templates }))[0]);
        expect([en.title, en.body]).to.deep.equal(["Shipped", "Shipped A-2"]);
        const missing = actions({ ...request, data: {} }, data({ templates }))[0];
        expect(missing.kind).to.equal("fail");
        expect((missing as { reason: string }).reason).to.match(/orderId/);
    });

    it("bounded sizes: a title, body or data above its bound fails the recipient with the reason", () => {
        const base = { notificationId: "n-3", userId: "u1" };
        const fails = (extra: Record<string, unknown>) => actions({ ...base, body: "b", ...extra })[0];
        expect(fails({ title: "t".repeat(INBOX_TITLE_MAX_CHARS) }).kind).to.equal("send");
        expect(fails({ title: "t".repeat(INBOX_TITLE_MAX_CHARS + 1) })).to.deep.equal({
            kind: "fail",
            reason: `in-app title is ${INBOX_TITLE_MAX_CHARS + 1} characters, above ${INBOX_TITLE_MAX_CHARS}`,
        });
        expect(fails({ body: "b".repeat(INBOX_BODY_MAX_CHARS + 1) }).kind).to.equal("fail");
        expect(fails({ body: "b".repeat(INBOX_BODY_MAX_CHARS) }).kind).to.equal("send");
        const big = { blob: "x".repeat(INBOX_DATA_MAX_BYTES) };
        expect((fails({ data: big }) as { reason: string }).reason).to.match(/in-app data is \d+ bytes as JSON/);
    });

    it("needs a user: an address-only recipient is not an in-app recipient; a named channel without one fails", () => {
        const emailOnly = { notificationId: "n-4", recipients: [{ email: "a@example.com" }], body: "b" };
        const [ignored] = planBatch(
            parseBatch([{ messageId: "m", body: JSON.stringify(emailOnly) }], "inapp", NOW),
            data(),
            {
                now: NOW,
                composer: inappComposer,
            },
        );
        expect(ignored.kind).to.equal("ignore");
        const named = actions({ ...emailOnly, channels: ["inapp"] });
        expect(named).to.deep.equal([{ kind: "fail", reason: "no inapp recipient in the request" }]);
    });

    it("opted in by default; an explicit opt-out suppresses; quiet hours never defer an inbox item", () => {
        const body = { notificationId: "n-5", userId: "u1", body: "b" };
        expect(actions(body)[0].kind).to.equal("send");
        const pref = (p: Partial<ChannelPreference>) =>
            data({ preferences: new Map([["u1", { userId: "u1", channel: "inapp" as const, ...p }]]) });
        expect(actions(body, pref({ optIn: false }))[0]).to.deep.equal({
            kind: "suppress",
            reason: "user has not opted in to inapp",
        });
        // 13:00 in Berlin is inside 12:00-14:00: push would defer; the inbox item goes now.
        expect(actions(body, pref({ quietHours: { start: "12:00", end: "14:00" } }))[0].kind).to.equal("send");
        // A future sendAt is the producer's schedule, not the user's quiet hours: still deferred.
        const later = new Date(NOW + 3_600_000).toISOString();
        expect(actions({ ...body, sendAt: later })[0]).to.deep.include({ kind: "defer", until: NOW + 3_600_000 });
    });

    it("the item: unread (in the byUnread index), TTL from ttlDays counted from the queued time, data only when given", () => {
        const d = delivery(actions({ notificationId: "n-6", userId: "u1", title: "T", body: "B" })[0]);
        expect(inboxItem(d, 30)).to.deep.equal({
            userId: "u1",
            itemId: `${QUEUED}_n-6`,
            notificationId: "n-6",
            title: "T",
            body: "B",
            createdAt: new Date(QUEUED).toISOString(),
            read: false,
            unreadUserId: "u1",
            expiresAt: Math.floor(QUEUED / 1000) + 30 * 86_400,
        });
    });
});
