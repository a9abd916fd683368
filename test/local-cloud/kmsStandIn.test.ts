/**
 * The local cloud's KMS stand-in (toolkit/local-cloud/sdk.ts KmsStandIn), through a real KMSClient:
 * HMAC-SHA-256 per KeyId with a per-run random key, KMS's refusals, VerifyMac, injected faults, and
 * the calls counted by countApiCalls like any other AWS call.
 */
import { createHmac } from "node:crypto";
import { GenerateMacCommand, KMSClient, VerifyMacCommand } from "@aws-sdk/client-kms";
import { expect } from "chai";
import { countApiCalls, KmsStandIn } from "../../toolkit/local-cloud/sdk";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f0e0d0c-1111-4222-8333-444455556666";
const OTHER = "arn:aws:kms:eu-west-1:123456789012:key/1f0e0d0c-1111-4222-8333-444455556666";
const message = (text: string) => Buffer.from(text, "utf8");

describe("local cloud: the KMS HMAC key stand-in", () => {
    let kms: KmsStandIn;
    const client = new KMSClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    const mac = async (KeyId: string, text: string, MacAlgorithm: any = "HMAC_SHA_256") =>
        Buffer.from((await client.send(new GenerateMacCommand({ KeyId, MacAlgorithm, Message: message(text) }))).Mac!);
    const error = (promise: Promise<unknown>) =>
        promise.then(
            () => undefined,
            (e: Error) => e.name,
        );

    beforeEach(() => {
        kms = new KmsStandIn();
    });
    afterEach(() => kms.restore());

    it("is a keyed HMAC-SHA-256: 32 bytes, stable per KeyId and message, different across keys and runs", async () => {
        const a = await mac(KEY, "notify/inbox-cursor/v1");
        expect(a).to.have.length(32);
        expect((await mac(KEY, "notify/inbox-cursor/v1")).equals(a)).to.equal(true);
        expect((await mac(KEY, "notify/inbox-cursor/v2")).equals(a)).to.equal(false);
        expect((await mac(OTHER, "notify/inbox-cursor/v1")).equals(a)).to.equal(false);
        // Not an unkeyed hash, nor a key anyone could guess.
        expect(a.equals(createHmac("sha256", "").update("notify/inbox-cursor/v1").digest())).to.equal(false);
        kms.restore();
        kms = new KmsStandIn();
        expect((await mac(KEY, "notify/inbox-cursor/v1")).equals(a), "a new run, a new key").to.equal(false);
    });

    it("refuses what KMS refuses: another algorithm on an HMAC_256 key, a malformed KeyId, an empty or long message", async () => {
        expect(await error(mac(KEY, "m", "HMAC_SHA_512"))).to.equal("InvalidKeyUsageException");
        expect(await error(mac("not a key", "m"))).to.equal("NotFoundException");
        expect(await error(mac(KEY, ""))).to.equal("ValidationException");
        expect(await error(mac(KEY, "x".repeat(4097)))).to.equal("ValidationException");
        expect(await mac("alias/notify-dev-inbox-cursor", "m")).to.have.length(32);
    });

    it("VerifyMac accepts the MAC it made and refuses any other", async () => {
        const made = await mac(KEY, "m");
        const verify = (Mac: Uint8Array) =>
            client.send(new VerifyMacCommand({ KeyId: KEY, MacAlgorithm: "HMAC_SHA_256", Message: message("m"), Mac }));
        expect((await verify(made)).MacValid).to.equal(true);
        const altered = Buffer.from(made);
        altered[0] ^= 1;
        expect(await error(verify(altered))).to.equal("KMSInvalidMacException");
    });

    it("injected faults are thrown once each, and every call is recorded and counted", async () => {
        const counter = countApiCalls();
        try {
            kms.failures.push(Object.assign(new Error("throttled"), { name: "ThrottlingException" }));
            expect(await error(mac(KEY, "m"))).to.equal("ThrottlingException");
            expect(await mac(KEY, "m")).to.have.length(32);
            expect(kms.generateMacCalls(KEY)).to.have.length(2);
            expect(kms.generateMacCalls(OTHER)).to.have.length(0);
            expect(counter.byOperation()).to.deep.equal({ "KMS.GenerateMac": 2 });
        } finally {
            counter.restore();
        }
    });
});
