/** Keys are bounded whatever the input: validated and, where too long or malformed, hashed. */
import { expect } from "chai";
import { keyPart, MAX_KEY_PART_BYTES, recipientsFor, requestRecipient } from "../../../handlers/core/deliveryLog";
import { parseNotificationRequest } from "../../../handlers/core/request";

describe("core/deliveryLog: bounded keys", () => {
    it("keeps a short, well-formed identity as it is", () => {
        expect(keyPart("ada@example.com")).to.equal("ada@example.com");
    });

    it("hashes an identity above the byte bound, the same way every time", () => {
        const long = "ü".repeat(MAX_KEY_PART_BYTES); // 2 bytes each in UTF-8
        expect(keyPart(long)).to.match(/^sha256:[0-9a-f]{64}$/);
        expect(keyPart(long)).to.equal(keyPart(long));
    });

    it("hashes a string with a lone surrogate (not valid UTF-8 for DynamoDB)", () => {
        expect(keyPart("\ud800@example.com")).to.match(/^sha256:/);
        expect(keyPart("😀@example.com")).to.equal("😀@example.com");
    });

    it("names a 2 KB e-mail address's problem before any key, with a key under 1,024 bytes", () => {
        const [r] = recipientsFor({ recipients: [{ email: `${"a".repeat(2_000)}@example.com` }] }, "email");
        expect(r.problem).to.match(/2012 characters, above the 254/);
        expect(Buffer.byteLength(r.recipientKey)).to.be.below(1_024);
    });

    it("names a phone number longer than E.164 allows", () => {
        const [r] = recipientsFor({ recipients: [{ phone: "+12345678901234567" }] }, "sms");
        expect(r.problem).to.match(/E\.164 allows/);
    });

    it("gives request-level rows a key no recipient can have", () => {
        expect(requestRecipient("sms").recipientKey).to.equal("request#sms");
        const [r] = recipientsFor({ recipients: [{ userId: "request" }] }, "sms");
        expect(r.recipientKey).to.equal("sms#request");
    });
});

describe("core/request: limits of the whole request", () => {
    it("refuses a body above one SNS message, keeping its identity for the row", () => {
        const body = JSON.stringify({ notificationId: "n", userId: "u", body: "x".repeat(262_144) });
        const parsed = parseNotificationRequest(body, new Date());
        expect(parsed.ok).to.equal(false);
        if (parsed.ok) throw new Error("expected an invalid request");
        expect(parsed.reason).to.match(/above the 262144/);
        expect(parsed.notificationId).to.equal("n");
    });

    it("says how many recipients a request over the limit had", () => {
        const recipients = Array.from({ length: 101 }, (_, i) => ({ userId: `u${i}` }));
        const parsed = parseNotificationRequest(
            JSON.stringify({ notificationId: "n", recipients, body: "b" }),
            new Date(),
        );
        expect(parsed.ok).to.equal(false);
        if (parsed.ok) throw new Error("expected an invalid request");
        expect(parsed.recipientsOverLimit).to.equal(101);
        expect(parsed.recipients).to.have.length(100);
    });
});
