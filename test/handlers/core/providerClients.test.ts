/**
 * The provider clients' configuration against a local HTTP server (127.0.0.1, port 0): one attempt per
 * call (our callWithBackoff owns retries), a request that hangs ends in a TimeoutError (transient), and
 * the time guard refuses a call when the invocation is nearly out of time.
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { classifyError } from "../../../handlers/core/retry";
import { callWithBackoff, OUT_OF_TIME, providerClientConfig, SEND_TIME_GUARD_MS } from "../../../handlers/lib/backoff";

const send = (client: SESv2Client) =>
    client.send(
        new SendEmailCommand({
            FromEmailAddress: "from@example.com",
            Destination: { ToAddresses: ["to@example.com"] },
            Content: { Simple: { Subject: { Data: "s" }, Body: { Text: { Data: "b" } } } },
        }),
    );

describe("lib/runtime: provider clients and the send time guard", function () {
    this.timeout(30_000);
    let server: Server;
    let mode: "fail" | "hang" = "fail";
    let requests = 0;
    const hung: (() => void)[] = [];
    let endpoint = "";

    before(async () => {
        server = createServer((req, res) => {
            requests++;
            req.resume();
            if (mode === "hang") {
                hung.push(() => res.destroy());
                return;
            }
            res.writeHead(500, {
                "content-type": "application/json",
                "x-amzn-errortype": "InternalServiceErrorException",
            });
            res.end(JSON.stringify({ message: "boom" }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
        for (const release of hung) release();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const client = (config: object) =>
        new SESv2Client({
            region: "eu-west-1",
            endpoint,
            credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
            ...config,
        });

    it("makes exactly one HTTP attempt per call (the SDK default would make three)", async () => {
        mode = "fail";
        requests = 0;
        const error = await send(client(providerClientConfig())).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.name).to.equal("InternalServiceErrorException");
        expect(requests).to.equal(1);

        requests = 0;
        await send(client({})).catch(() => undefined);
        expect(requests, "the default client retries on its own").to.equal(3);
    });

    it("ends a hung request with a TimeoutError, which is transient", async () => {
        mode = "hang";
        requests = 0;
        const error = await send(client(providerClientConfig({ requestTimeout: 200 }))).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.name).to.equal("TimeoutError");
        expect(classifyError({ name: error!.name })).to.equal("transient");
        expect(requests).to.equal(1);
    });

    it("refuses a call with less than the guard left: no call, a transient out-of-time error", async () => {
        let calls = 0;
        const call = async () => {
            calls++;
            return "sent";
        };
        const refused = await callWithBackoff(call, () => SEND_TIME_GUARD_MS - 1, {
            minRemainingMs: SEND_TIME_GUARD_MS,
        });
        expect(calls).to.equal(0);
        expect(refused.ok).to.equal(false);
        if (!refused.ok) expect([refused.error.name, refused.errorClass]).to.deep.equal([OUT_OF_TIME, "transient"]);
        const made = await callWithBackoff(call, () => SEND_TIME_GUARD_MS, { minRemainingMs: SEND_TIME_GUARD_MS });
        expect(made).to.deep.equal({ ok: true, value: "sent" });
        expect(calls).to.equal(1);
    });
});
