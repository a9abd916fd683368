import { expect } from "chai";
import {
    MAX_RECIPIENTS,
    parseNotificationRequest,
    validateNotificationRequest,
    WHOLE_BODY_FIELD,
} from "../../../handlers/core/request";

const NOW = new Date("2026-03-01T12:00:00Z");

describe("core/request: every field error, the first one as the senders' reason", () => {
    it("a valid request has no field errors", () => {
        expect(validateNotificationRequest({ notificationId: "n-1", userId: "u1", body: "hi" }, NOW)).to.deep.equal([]);
    });

    it("collects every problem, field by field, in the order of the checks", () => {
        const errors = validateNotificationRequest(
            {
                notificationId: "has space",
                recipients: [{ userId: 3, email: 4 }, "x", {}],
                channels: ["push", "fax", 2],
                title: 5,
                body: "b",
                template: "welcome",
                locale: "german!",
                data: { ok: 1, nested: { a: 1 } },
                priority: "urgent",
                campaignId: "",
                sendAt: "2020-01-01T00:00:00Z",
            },
            NOW,
        );
        expect(errors.map((e) => e.field)).to.deep.equal([
            "notificationId",
            "recipients[0].userId",
            "recipients[0].email",
            "recipients[1]",
            "recipients[2]",
            "channels[1]",
            "channels[2]",
            "title",
            "template",
            "locale",
            "data.nested",
            "priority",
            "campaignId",
            "sendAt",
        ]);
        expect(errors[0].problem).to.equal("notificationId must match [A-Za-z0-9_-]{1,128}");
        expect(errors[5].problem).to.equal("unknown channel 'fax' (expected push, email or sms)");
        expect(errors[8].problem).to.equal("give either template or direct title/body/subject, not both");
    });

    it("the senders' reason is the first error, whatever else is wrong", () => {
        const body = JSON.stringify({ userId: "u1", body: 5, priority: "x" });
        const parsed = parseNotificationRequest(body, NOW);
        expect(parsed.ok).to.equal(false);
        if (parsed.ok) return;
        expect(parsed.reason).to.equal("notificationId is required");
        expect(parsed.errors.map((e) => e.problem)).to.deep.equal([
            "notificationId is required",
            "body must be a string",
            "priority must be high or normal",
        ]);
        // The partial identity the senders record FAILED rows against is still there.
        expect(parsed.recipients).to.deep.equal([{ userId: "u1" }]);
    });

    it("names neither or both of userId and recipients on the field that is wrong", () => {
        expect(validateNotificationRequest({ notificationId: "n", body: "b" }, NOW)).to.deep.equal([
            { field: "userId", problem: "exactly one of userId and recipients is required" },
        ]);
        expect(
            validateNotificationRequest({ notificationId: "n", userId: "u", recipients: [], body: "b" }, NOW),
        ).to.deep.equal([{ field: "recipients", problem: "exactly one of userId and recipients is required" }]);
    });

    it("bounds the list: over MAX_RECIPIENTS entries, one error for the size and the first entries only", () => {
        const recipients = Array.from({ length: MAX_RECIPIENTS + 50 }, () => ({}));
        const errors = validateNotificationRequest({ notificationId: "n", recipients, body: "b" }, NOW);
        expect(errors[0]).to.deep.equal({
            field: "recipients",
            problem: `recipients must hold at most ${MAX_RECIPIENTS} entries`,
        });
        expect(errors).to.have.length(1 + MAX_RECIPIENTS);
    });

    it("problems with the body as a whole are on the pseudo-field (body)", () => {
        const parsed = parseNotificationRequest("{nope", NOW);
        expect(parsed).to.deep.equal({
            ok: false,
            reason: "body is not valid JSON",
            errors: [{ field: WHOLE_BODY_FIELD, problem: "body is not valid JSON" }],
        });
    });
});
