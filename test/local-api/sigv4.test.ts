/**
 * The local API's SigV4 rules apart from any server: the signer is the SDK's own (@smithy/signature-v4),
 * the request is signed once and then altered the ways an attacker or a misconfigured client would.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { expect } from "chai";
import { createHash, createHmac } from "node:crypto";
import { type LocalCredentials, type SignedRequest, verifySigV4 } from "../../toolkit/local-api/sigv4";

class Sha256 {
    private readonly h;
    constructor(key?: string | Uint8Array) {
        this.h = key ? createHmac("sha256", key) : createHash("sha256");
    }
    update(d: string | Uint8Array) {
        this.h.update(d);
    }
    async digest() {
        return new Uint8Array(this.h.digest());
    }
    reset() {}
}

const KEY: LocalCredentials = {
    accessKeyId: "AKIALOCALTEST",
    secretAccessKey: "local-secret-for-the-sigv4-test",
    userArn: "arn:aws:iam::000000000000:user/local-producer",
    accountId: "000000000000",
};
const NOW = new Date("2026-12-06T20:00:00Z");

async function signed(
    options: { region?: string; service?: string; at?: Date; body?: string } = {},
): Promise<SignedRequest> {
    const body = options.body ?? '{"notificationId":"n-1"}';
    const signer = new SignatureV4({
        service: options.service ?? "execute-api",
        region: options.region ?? "eu-west-1",
        sha256: Sha256 as never,
        applyChecksum: false,
        credentials: { accessKeyId: KEY.accessKeyId, secretAccessKey: KEY.secretAccessKey },
    });
    const request = await signer.sign(
        {
            method: "POST",
            protocol: "http:",
            hostname: "127.0.0.1",
            port: 8787,
            path: "/v1/notifications",
            query: { a: "1" },
            headers: { host: "127.0.0.1:8787", "content-type": "application/json" },
            body,
        },
        { signingDate: options.at ?? NOW },
    );
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    return { method: "POST", path: "/v1/notifications", query: { a: "1" }, headers, body: Buffer.from(body) };
}

describe("local API SigV4 verification", function () {
    it("accepts the SDK's signature and names the key's identity", async function () {
        const verdict = await verifySigV4(await signed(), [KEY], "eu-west-1", NOW);
        expect(verdict).to.deep.equal({ ok: true, credentials: KEY });
    });

    it("refuses an altered body, query, path or signed header", async function () {
        const base = await signed();
        const cases: [string, SignedRequest][] = [
            ["body", { ...base, body: Buffer.from('{"notificationId":"n-2"}') }],
            ["query", { ...base, query: { a: "2" } }],
            ["path", { ...base, path: "/v1/notifications/n-1" }],
            ["header", { ...base, headers: { ...base.headers, "content-type": "text/plain" } }],
        ];
        for (const [what, request] of cases) {
            const verdict = await verifySigV4(request, [KEY], "eu-west-1", NOW);
            expect(verdict, what).to.deep.equal({ ok: false, reason: "signature does not match" });
        }
    });

    it("refuses another region or service in the scope, an unknown key, and a request 15+ minutes off", async function () {
        const reason = async (request: SignedRequest, now = NOW) => {
            const verdict = await verifySigV4(request, [KEY], "eu-west-1", now);
            return verdict.ok ? "accepted" : verdict.reason;
        };
        expect(await reason(await signed({ region: "us-east-1" }))).to.match(/credential scope/);
        expect(await reason(await signed({ service: "sns" }))).to.match(/credential scope/);
        expect(await reason(await signed(), new Date(NOW.getTime() + 16 * 60_000))).to.match(/expired/);
        expect(await reason(await signed(), new Date(NOW.getTime() + 14 * 60_000))).to.equal("accepted");
        const foreign = await signed();
        foreign.headers.authorization = foreign.headers.authorization.replace(KEY.accessKeyId, "AKIAOTHER");
        expect(await reason(foreign)).to.equal("unknown access key AKIAOTHER");
        const { authorization: _, ...unsigned } = foreign.headers;
        expect(await reason({ ...foreign, headers: unsigned })).to.equal("no Authorization header");
    });
});
