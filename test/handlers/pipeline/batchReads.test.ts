/** Reading a batch: one first round for everything (the channel's reads included), row mapping, enrich. */
import { expect } from "chai";
import { marshall } from "../../../handlers/core/attributes";
import { logKey } from "../../../handlers/core/deliveryLog";
import { parseBatch } from "../../../handlers/core/plan";
import { emailComposer } from "../../../handlers/core/compose/email";
import type { Dynamo } from "../../../handlers/lib/dynamo";
import { readBatchData, requestRecipients, toSharedData } from "../../../handlers/lib/pipeline/batchReads";

const tables = { preferences: "prefs", templates: "tpl", deliveryLog: "log", idempotency: "idem" };
const NOW = Date.parse("2026-01-15T12:00:00Z");

/** A Dynamo that answers BatchGetItem from fixed items per table and records every call. */
function fakeDynamo(items: Record<string, Record<string, unknown>[]>) {
    const calls: { operation: string; input: any }[] = [];
    const dynamo: Dynamo = {
        async call(operation, input: any) {
            calls.push({ operation, input });
            const Responses: Record<string, unknown[]> = {};
            for (const table of Object.keys(input.RequestItems))
                Responses[table] = (items[table] ?? []).map((i) => marshall(i));
            return { Responses } as any;
        },
    };
    return { dynamo, calls };
}

describe("lib/pipeline/batchReads: reading a batch", () => {
    it("maps profiles, preferences, log rows and counters into the plan's maps", () => {
        const shared = toSharedData(
            tables,
            new Map([
                [
                    "prefs",
                    [
                        marshall({ userId: "u1", channel: "profile", email: "a@example.com" }),
                        marshall({ userId: "u1", channel: "email", optIn: false }),
                    ],
                ],
                ["log", [marshall({ notificationId: "n", recipientKey: "email#u1", status: "SENT" })]],
            ]),
        );
        expect(shared.profiles.get("u1")?.email).to.equal("a@example.com");
        expect(shared.preferences.get("u1")?.optIn).to.equal(false);
        expect(shared.logRows.get(logKey("n", "email#u1"))?.status).to.equal("SENT");
    });

    it("adds the channel's own reads to the first round (one call) and hands the items to its enrich step", async () => {
        const { dynamo, calls } = fakeDynamo({
            prefs: [{ userId: "u1", channel: "profile" }],
            extra: [{ userId: "u1", note: "mine" }],
        });
        const parsed = parseBatch(
            [{ messageId: "m", body: JSON.stringify({ notificationId: "n", userId: "u1", subject: "s", body: "b" }) }],
            "email",
            NOW,
        );
        const data = await readBatchData({
            dynamo,
            tables,
            channel: "email",
            adapter: {
                composer: emailComposer as any,
                reads: (userIds) => [{ table: "extra", keys: userIds.map((userId) => marshall({ userId })) }],
                enrich: async ({ items, recipients }) => ({
                    extra: items("extra").length,
                    users: recipients.map((r) => r.userId),
                }),
                deliver: async () => ({ status: "SENT" }),
            },
            parsed,
            now: NOW,
            templateCache: new Map(),
            remaining: () => 30_000,
        });
        expect(calls).to.have.length(1);
        expect(Object.keys(calls[0].input.RequestItems).sort()).to.deep.equal(["extra", "log", "prefs"]);
        expect(data.enrichment).to.deep.equal({ extra: 1, users: ["u1"] });
    });

    it("gives the enrich step each request recipient with its profile, and none of invalid records", () => {
        const parsed = parseBatch(
            [
                {
                    messageId: "a",
                    body: JSON.stringify({
                        notificationId: "n",
                        recipients: [{ userId: "u1" }, { phone: "+4915112345678" }],
                        body: "b",
                    }),
                },
                { messageId: "b", body: "{" },
            ],
            "sms",
            NOW,
        );
        const recipients = requestRecipients(parsed, { profiles: new Map([["u1", { userId: "u1", phone: "+491" }]]) });
        expect(recipients).to.deep.equal([
            { userId: "u1", address: undefined, profile: { userId: "u1", phone: "+491" } },
            { userId: undefined, address: "+4915112345678", profile: undefined },
        ]);
    });
});
