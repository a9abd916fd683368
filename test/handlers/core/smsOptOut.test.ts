/**
 * The SMS sender's opt-out cache (adapter, SNS on aws-sdk-client-mock): a throttled listing is backed
 * off; if it stays throttled a previous (stale) listing is used with a warning; with no listing at all
 * the batch's numbers are checked one by one (bounded); numbers left unknown are reported as such.
 */
import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import {
    CheckIfPhoneNumberIsOptedOutCommand,
    ListPhoneNumbersOptedOutCommand,
    SNSClient,
    ThrottledException,
} from "@aws-sdk/client-sns";
import type { BackoffPolicy } from "../../../handlers/core/retry";
import type { Logger } from "../../../handlers/lib/log";
import { createOptOutCache, OPT_OUT_CACHE_TTL_MS, OPT_OUT_MAX_CHECKS } from "../../../handlers/smsSender";

const FAST: BackoffPolicy = { baseMs: 1, capMs: 2, maxAttempts: 3, reserveMs: 0 };
const throttled = () => new ThrottledException({ message: "Rate exceeded", $metadata: { httpStatusCode: 400 } });
const plenty = () => 60_000;

describe("smsSender: opt-out listing with backoff, a stale listing, per-number checks", () => {
    let sns: SNSClient;
    let mock: ReturnType<typeof mockClient>;
    let warnings: string[];
    let clock: number;
    let log: Logger;

    beforeEach(() => {
        sns = new SNSClient({
            region: "eu-west-1",
            credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
        });
        mock = mockClient(sns);
        warnings = [];
        clock = Date.parse("2026-03-01T12:00:00Z");
        const noop = () => undefined;
        log = {
            debug: noop,
            info: noop,
            error: noop,
            appendKeys: noop,
            removeKeys: noop,
            addContext: noop,
            warn: (m: string) => void warnings.push(m),
        };
    });
    afterEach(() => mock.restore());

    const cache = () => createOptOutCache(sns, log, { now: () => clock, policy: FAST, random: () => 0.5 });
    const sorted = (s: Set<string>) => [...s].sort();

    it("backs off a throttled listing and uses it when it comes", async () => {
        let calls = 0;
        mock.on(ListPhoneNumbersOptedOutCommand).callsFake(() => {
            if (calls++ === 0) throw throttled();
            return { phoneNumbers: ["+491700000001"] };
        });
        const status = await cache()(["+491700000001", "+491700000002"], plenty);
        expect(sorted(status.optedOut)).to.deep.equal(["+491700000001"]);
        expect(status.unknown.size).to.equal(0);
        expect(mock.commandCalls(ListPhoneNumbersOptedOutCommand)).to.have.length(2);
        expect(mock.commandCalls(CheckIfPhoneNumberIsOptedOutCommand)).to.have.length(0);
    });

    it("uses the previous listing, with a warning, when the refresh stays throttled", async () => {
        mock.on(ListPhoneNumbersOptedOutCommand)
            .resolvesOnce({ phoneNumbers: ["+491700000001"] })
            .rejects(throttled());
        const optedOut = cache();
        await optedOut(["+491700000001"], plenty);
        clock += OPT_OUT_CACHE_TTL_MS + 1; // the listing is now stale: a refresh is due, and fails
        const status = await optedOut(["+491700000001", "+491700000002"], plenty);
        expect(sorted(status.optedOut)).to.deep.equal(["+491700000001"]);
        expect(status.unknown.size).to.equal(0);
        expect(mock.commandCalls(ListPhoneNumbersOptedOutCommand)).to.have.length(1 + FAST.maxAttempts);
        expect(mock.commandCalls(CheckIfPhoneNumberIsOptedOutCommand)).to.have.length(0);
        expect(warnings).to.include("using the previous opt-out listing");
    });

    it("with no listing at all, checks the batch's numbers one by one, at most OPT_OUT_MAX_CHECKS; the rest are unknown", async () => {
        mock.on(ListPhoneNumbersOptedOutCommand).rejects(throttled());
        mock.on(CheckIfPhoneNumberIsOptedOutCommand).resolves({ isOptedOut: false });
        mock.on(CheckIfPhoneNumberIsOptedOutCommand, { phoneNumber: "+491700000003" }).resolves({ isOptedOut: true });
        const phones = Array.from(
            { length: OPT_OUT_MAX_CHECKS + 5 },
            (_, i) => `+4917000000${String(i + 1).padStart(2, "0")}`,
        );
        const optedOut = cache();
        const status = await optedOut(phones, plenty);
        expect(sorted(status.optedOut)).to.deep.equal(["+491700000003"]);
        expect(mock.commandCalls(CheckIfPhoneNumberIsOptedOutCommand)).to.have.length(OPT_OUT_MAX_CHECKS);
        expect(sorted(status.unknown)).to.deep.equal(phones.slice(OPT_OUT_MAX_CHECKS));

        // The answers are remembered: the next batch checks only the numbers not yet checked.
        const again = await optedOut(phones, plenty);
        expect(sorted(again.optedOut)).to.deep.equal(["+491700000003"]);
        expect(again.unknown.size).to.equal(0);
        expect(mock.commandCalls(CheckIfPhoneNumberIsOptedOutCommand)).to.have.length(OPT_OUT_MAX_CHECKS + 5);
    });

    it("when the checks fail too, the numbers are unknown (never assumed opted in), and no more checks are made", async () => {
        mock.on(ListPhoneNumbersOptedOutCommand).rejects(throttled());
        mock.on(CheckIfPhoneNumberIsOptedOutCommand).rejects(throttled());
        const status = await cache()(["+491700000001", "+491700000002"], plenty);
        expect(status.optedOut.size).to.equal(0);
        expect(sorted(status.unknown)).to.deep.equal(["+491700000001", "+491700000002"]);
        expect(mock.commandCalls(CheckIfPhoneNumberIsOptedOutCommand)).to.have.length(FAST.maxAttempts);
    });
});
