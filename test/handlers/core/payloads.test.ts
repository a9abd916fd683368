import { expect } from "chai";
import { buildPushMessage, MAX_PUSH_PAYLOAD_BYTES } from "../../../handlers/core/push";
import { isE164, smsEncoding, smsProblem, smsSegments } from "../../../handlers/core/sms";
import { isValidEmail } from "../../../handlers/core/email";

const base = {
    content: { title: "T", body: "B" },
    data: { order: 7, vip: true },
    notificationId: "n1",
    priority: "high" as const,
};

describe("core/push: per-platform payloads", () => {
    for (const apnsPlatform of ["APNS", "APNS_SANDBOX"] as const) {
        it(`puts the APNs payload under ${apnsPlatform} as a JSON string`, () => {
            const r = buildPushMessage({ ...base, platform: "ios", apnsPlatform });
            if (!r.ok) throw new Error(r.reason);
            const message = JSON.parse(r.push.message);
            expect(Object.keys(message).sort()).to.deep.equal([apnsPlatform, "default"].sort());
            expect(message[apnsPlatform]).to.be.a("string");
            expect(JSON.parse(message[apnsPlatform])).to.deep.equal({
                aps: { alert: { title: "T", body: "B" }, sound: "default" },
                notificationId: "n1",
                data: { order: 7, vip: true },
            });
            expect(r.push.attributes["AWS.SNS.MOBILE.APNS.PRIORITY"].StringValue).to.equal("10");
        });
    }

    it("uses the FCM v1 shape under GCM with string data and the Android priority", () => {
        const r = buildPushMessage({ ...base, priority: "normal", platform: "android", apnsPlatform: "APNS" });
        if (!r.ok) throw new Error(r.reason);
        const message = JSON.parse(r.push.message);
        expect(message).to.have.keys("default", "GCM");
        expect(JSON.parse(message.GCM)).to.deep.equal({
            fcmV1Message: {
                message: {
                    notification: { title: "T", body: "B" },
                    data: { notificationId: "n1", order: "7", vip: "true" },
                    android: { priority: "NORMAL" },
                },
            },
        });
        expect(r.push.attributes).to.deep.equal({});
    });

    it("fails a payload above 4 KB and accepts one just under it", () => {
        const big = buildPushMessage({
            ...base,
            content: { body: "x".repeat(4100) },
            platform: "ios",
            apnsPlatform: "APNS",
        });
        expect(big.ok).to.equal(false);
        if (!big.ok) expect(big.reason).to.match(/above the 4096-byte limit/);
        // Multi-byte characters count in bytes, not characters.
        const euro = buildPushMessage({
            ...base,
            content: { body: "€".repeat(1400) },
            platform: "android",
            apnsPlatform: "APNS",
        });
        expect(euro.ok).to.equal(false);
        const fits = buildPushMessage({
            ...base,
            content: { body: "x".repeat(3800) },
            platform: "ios",
            apnsPlatform: "APNS",
        });
        expect(fits.ok).to.equal(true);
        if (fits.ok) expect(fits.push.payloadBytes).to.be.at.most(MAX_PUSH_PAYLOAD_BYTES);
    });
});

describe("core/sms: E.164 and GSM-7 / UCS-2 segments", () => {
    it("validates E.164", () => {
        for (const ok of ["+491701234567", "+14155552671", "+12"]) expect(isE164(ok), ok).to.equal(true);
        for (const bad of ["491701234567", "+0123456", "+1 415 555 2671", "+1234567890123456", "+", "++49170"]) {
            expect(isE164(bad), bad).to.equal(false);
        }
    });

    it("counts GSM-7 septets (extension characters twice) and segments at 160 / 153", () => {
        expect(smsSegments("x".repeat(160))).to.deep.equal({ encoding: "GSM-7", units: 160, segments: 1 });
        expect(smsSegments("x".repeat(161))).to.deep.equal({ encoding: "GSM-7", units: 161, segments: 2 });
        expect(smsSegments("x".repeat(306)).segments).to.equal(2);
        expect(smsSegments("x".repeat(307)).segments).to.equal(3);
        expect(smsSegments("€".repeat(80))).to.deep.equal({ encoding: "GSM-7", units: 160, segments: 1 });
        expect(smsSegments("€".repeat(81)).segments).to.equal(2);
        expect(smsEncoding("Grüße aus Köln")).to.equal("GSM-7");
    });

    it("switches to UCS-2 for any other character and segments at 70 / 67", () => {
        expect(smsSegments("ł".repeat(70))).to.deep.equal({ encoding: "UCS-2", units: 70, segments: 1 });
        expect(smsSegments("ł".repeat(71)).segments).to.equal(2);
        expect(smsSegments("😀".repeat(35))).to.deep.equal({ encoding: "UCS-2", units: 70, segments: 1 });
        expect(smsSegments(`${"a".repeat(134)}ł`).segments).to.equal(3);
    });

    it("refuses an empty text and one above the segment cap", () => {
        expect(smsProblem("   ")).to.match(/empty/);
        expect(smsProblem("x".repeat(1530))).to.equal(undefined);
        expect(smsProblem("x".repeat(1531))).to.match(/11 GSM-7 segments/);
    });
});

describe("core/email: address validation", () => {
    it("accepts ordinary addresses and rejects malformed ones", () => {
        for (const ok of ["ann@example.com", "a.b+tag@sub.example.co.uk", "x_y@xn--bcher-kva.example"]) {
            expect(isValidEmail(ok), ok).to.equal(true);
        }
        for (const bad of [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a..b@example.com",
            "ann@-bad.com",
            "an n@example.com",
            `${"a".repeat(65)}@example.com`,
        ]) {
            expect(isValidEmail(bad), bad).to.equal(false);
        }
    });
});
