/**
 * Uncertain sends: which failed provider calls can have reached the provider. The shapes come from the
 * real thing where this machine can make it — the SES v2 client (one attempt, bounded) against a local
 * server that refuses, hangs, resets after reading the request, or answers 500 — and otherwise are
 * Node's documented system errors (getaddrinfo ENOTFOUND/EAI_AGAIN: errno, code, syscall, hostname) and
 * @smithy/node-http-handler's own errors as its source (4.14.x) builds them.
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { classifyError, sendCertainty, UNCERTAIN_SEND_POLICY } from "../../../handlers/core/retry";
import { callWithBackoff, providerClientConfig, transportInfo } from "../../../handlers/lib/backoff";

type Mode = "hang" | "reset-after-read" | "fail";

/** One SendEmail with the provider clients' configuration; resolves with the error it ends in. */
async function sendAndFail(endpoint: string, requestTimeout = 300): Promise<Error> {
    const client = new SESv2Client({
        region: "eu-west-1",
        endpoint,
        credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
        ...providerClientConfig({ requestTimeout }),
    });
    try {
        await client.send(
            new SendEmailCommand({
                FromEmailAddress: "from@example.com",
                Destination: { ToAddresses: ["to@example.com"] },
                Content: { Simple: { Subject: { Data: "s" }, Body: { Text: { Data: "b" } } } },
            }),
        );
        throw new Error("the call succeeded");
    } catch (error) {
        return error as Error;
    } finally {
        client.destroy();
    }
}

const certaintyOf = (error: Error) => sendCertainty(transportInfo(error as never));

describe("core/retry: sendCertainty over real error shapes", function () {
    this.timeout(20_000);
    let server: Server;
    let endpoint = "";
    let mode: Mode = "fail";
    const open: (() => void)[] = [];

    before(async () => {
        server = createServer((req, res) => {
            req.resume();
            req.on("end", () => {
                if (mode === "hang") open.push(() => res.destroy());
                else if (mode === "reset-after-read") req.socket.destroy();
                else {
                    res.writeHead(500, { "x-amzn-errortype": "InternalServiceErrorException" });
                    res.end(JSON.stringify({ message: "boom" }));
                }
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
        for (const release of open) release();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it("a refused connection (real ECONNREFUSED from the SDK) never left: not-sent, and transient", async () => {
        const closed = createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
        const port = (closed.address() as AddressInfo).port;
        await new Promise<void>((resolve) => closed.close(() => resolve()));
        const error = (await sendAndFail(`http://127.0.0.1:${port}`)) as Error & { code?: string; syscall?: string };
        expect([error.code, error.syscall]).to.deep.equal(["ECONNREFUSED", "connect"]);
        expect(certaintyOf(error)).to.equal("not-sent");
        expect(classifyError({ name: error.code })).to.equal("transient");
    });

    it("the request timeout after the request was written (real smithy TimeoutError, ETIMEDOUT) is uncertain", async () => {
        mode = "hang";
        const error = (await sendAndFail(endpoint)) as Error & { code?: string };
        expect([error.name, error.code]).to.deep.equal(["TimeoutError", "ETIMEDOUT"]);
        expect(error.message).to.match(/requestTimeout/);
        expect(certaintyOf(error)).to.equal("uncertain");
    });

    it("a reset after the server read the request (real socket hang up, renamed TimeoutError by smithy) is uncertain", async () => {
        mode = "reset-after-read";
        const error = (await sendAndFail(endpoint)) as Error & { code?: string };
        expect([error.name, error.code]).to.deep.equal(["TimeoutError", "ECONNRESET"]);
        expect(certaintyOf(error)).to.equal("uncertain");
    });

    it("an answer, even a 500, is answered (the provider said what happened)", async () => {
        mode = "fail";
        const error = await sendAndFail(endpoint);
        expect(error.name).to.equal("InternalServiceErrorException");
        expect(certaintyOf(error)).to.equal("answered");
    });

    it("DNS failures (Node's getaddrinfo ENOTFOUND and EAI_AGAIN) never left", () => {
        const dns = (code: string, errno: number) =>
            Object.assign(new Error(`getaddrinfo ${code} email.eu-west-1.amazonaws.com`), {
                errno,
                code,
                syscall: "getaddrinfo",
                hostname: "email.eu-west-1.amazonaws.com",
            });
        expect(certaintyOf(dns("ENOTFOUND", -3008))).to.equal("not-sent");
        expect(certaintyOf(dns("EAI_AGAIN", -3001))).to.equal("not-sent");
    });

    it("smithy's connection timeout (no connection within connectionTimeout) never left", () => {
        const error = Object.assign(
            new Error(
                "@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 2000 ms.",
            ),
            { name: "TimeoutError" },
        );
        expect(certaintyOf(error)).to.equal("not-sent");
    });

    it("a TCP connect timeout (ETIMEDOUT on syscall connect) never left", () => {
        const error = Object.assign(new Error("connect ETIMEDOUT 52.0.0.1:443"), {
            name: "TimeoutError",
            code: "ETIMEDOUT",
            syscall: "connect",
        });
        expect(certaintyOf(error)).to.equal("not-sent");
    });

    it("smithy's socket inactivity timeout (the connection was up) is uncertain", () => {
        const error = Object.assign(
            new Error(
                "@smithy/node-http-handler - the request socket timed out after 5000 ms of inactivity (configured by client requestHandler).",
            ),
            { name: "TimeoutError" },
        );
        expect(certaintyOf(error)).to.equal("uncertain");
    });

    it("the policy: push, e-mail and in-app (a conditional write) resend once, SMS never", () => {
        expect(UNCERTAIN_SEND_POLICY).to.deep.equal({
            push: { resends: 1 },
            email: { resends: 1 },
            sms: { resends: 0 },
            inapp: { resends: 1 },
        });
    });
});

describe("lib/backoff: callWithBackoff under the uncertain-send policy", () => {
    const noWait = { random: () => 0 };
    const timedOut = () =>
        Object.assign(new Error("a request has exceeded the configured 5000 ms requestTimeout."), {
            name: "TimeoutError",
            code: "ETIMEDOUT",
        });
    const refused = () =>
        Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED", syscall: "connect" });
    const scripted = (faults: (() => Error)[]) => {
        let calls = 0;
        const call = async () => {
            const fault = faults[calls++];
            if (fault) throw fault();
            return "ok";
        };
        return { call, calls: () => calls };
    };

    it("with no resend allowed, an uncertain attempt is the last: one call, failure with uncertainAttempts 1", async () => {
        const s = scripted([timedOut]);
        const result = await callWithBackoff(s.call, () => 60_000, { ...noWait, uncertainResends: 0 });
        expect(s.calls()).to.equal(1);
        expect([result.ok, result.uncertainAttempts]).to.deep.equal([false, 1]);
    });

    it("with one resend allowed, the resend that succeeds is ok and still says uncertain", async () => {
        const s = scripted([timedOut]);
        const result = await callWithBackoff(s.call, () => 60_000, { ...noWait, uncertainResends: 1 });
        expect(s.calls()).to.equal(2);
        expect(result).to.deep.equal({ ok: true, value: "ok", uncertainAttempts: 1 });
    });

    it("with one resend allowed, a second uncertain attempt stops there", async () => {
        const s = scripted([timedOut, timedOut, timedOut]);
        const result = await callWithBackoff(s.call, () => 60_000, { ...noWait, uncertainResends: 1 });
        expect(s.calls()).to.equal(2);
        expect([result.ok, result.uncertainAttempts]).to.deep.equal([false, 2]);
    });

    it("a request that never left is retried freely, even with no resend allowed", async () => {
        const s = scripted([refused, refused]);
        const result = await callWithBackoff(s.call, () => 60_000, { ...noWait, uncertainResends: 0 });
        expect(s.calls()).to.equal(3);
        expect(result).to.deep.equal({ ok: true, value: "ok" });
    });
});
