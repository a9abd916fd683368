import { expect } from "chai";
import { backoffDelay, classifyError, nextRetryDelay, type BackoffPolicy } from "../../../handlers/core/retry";

const policy: BackoffPolicy = { baseMs: 100, capMs: 1_000, maxAttempts: 5, reserveMs: 2_000 };

describe("core/retry: error classes and full-jitter backoff", () => {
    it("classifies provider errors", () => {
        expect(
            classifyError({ name: "EndpointDisabledException", message: "Endpoint is disabled" }, "push-endpoint"),
        ).to.equal("endpoint-gone");
        expect(
            classifyError(
                { name: "InvalidParameterException", message: "Invalid parameter: TargetArn" },
                "push-endpoint",
            ),
        ).to.equal("endpoint-gone");
        expect(classifyError({ name: "NotFoundException" }, "push-endpoint")).to.equal("endpoint-gone");
        expect(
            classifyError({ name: "InvalidParameterException", message: "Invalid parameter: Message too long" }),
        ).to.equal("permanent");
        expect(classifyError({ name: "ThrottledException" })).to.equal("throttled");
        expect(classifyError({ name: "TooManyRequestsException" })).to.equal("throttled");
        expect(classifyError({ name: "Whatever", httpStatusCode: 429 })).to.equal("throttled");
        expect(classifyError({ name: "InternalErrorException", httpStatusCode: 500 })).to.equal("transient");
        expect(classifyError({ name: "Weird", httpStatusCode: 503 })).to.equal("transient");
        expect(classifyError({ name: "MessageRejected", httpStatusCode: 400 })).to.equal("permanent");
        expect(classifyError({})).to.equal("transient");
    });

    it("classifies a broken setup or account as operational (retried via the queue and DLQ, never FAILED)", () => {
        const operational = [
            "AccessDenied",
            "AccessDeniedException",
            "AuthorizationError",
            "AuthorizationErrorException",
            "PlatformApplicationDisabled",
            "PlatformApplicationDisabledException",
            "AccountSuspendedException",
            "MailFromDomainNotVerifiedException",
            "SendingPausedException",
            "KMSDisabledException",
            "KMSInvalidStateException",
            "KMSAccessDeniedException",
            "KMSNotFoundException",
            "KMSOptInRequired",
            "InvalidClientTokenId",
            "ExpiredToken",
            "ExpiredTokenException",
        ];
        for (const name of operational) {
            for (const target of ["service", "push-endpoint"] as const) {
                expect(classifyError({ name, httpStatusCode: 400 }, target), `${name} on ${target}`).to.equal(
                    "operational",
                );
            }
        }
        expect(classifyError({ name: "Unheard", httpStatusCode: 403 })).to.equal("operational");
        // KMS throttling is still throttling.
        expect(classifyError({ name: "KMSThrottlingException" })).to.equal("throttled");
    });

    it("takes NotFound as a gone endpoint only for a push endpoint: elsewhere (SES configuration set) it is ours, operational", () => {
        expect(classifyError({ name: "NotFoundException", message: "Configuration set <x> does not exist." })).to.equal(
            "operational",
        );
        expect(classifyError({ name: "NotFoundException" }, "service")).to.equal("operational");
        expect(classifyError({ name: "NotFoundException" }, "push-endpoint")).to.equal("endpoint-gone");
        // An invalid phone number on an SMS publish is the message's problem, not a gone endpoint.
        expect(
            classifyError({
                name: "InvalidParameterException",
                message: "Invalid parameter: PhoneNumber Reason: +1 is not valid",
            }),
        ).to.equal("permanent");
        expect(classifyError({ name: "InvalidParameterException", message: "Invalid parameter: TargetArn" })).to.equal(
            "permanent",
        );
    });

    it("draws the delay uniformly below min(cap, base * 2^attempt)", () => {
        expect(backoffDelay(0, policy, () => 0)).to.equal(0);
        expect(backoffDelay(0, policy, () => 0.999)).to.equal(99);
        expect(backoffDelay(2, policy, () => 0.5)).to.equal(200);
        expect(backoffDelay(10, policy, () => 0.999)).to.equal(999); // capped
        for (let attempt = 0; attempt < 12; attempt++) {
            for (const r of [0, 0.25, 0.5, 0.999999]) {
                const d = backoffDelay(attempt, policy, () => r);
                expect(d)
                    .to.be.at.least(0)
                    .and.below(Math.min(policy.capMs, policy.baseMs * 2 ** attempt));
            }
        }
    });

    it("gives up when attempts are used up or the wait would eat the bookkeeping reserve", () => {
        expect(nextRetryDelay(0, 60_000, policy, () => 0.5)).to.equal(50);
        expect(nextRetryDelay(4, 60_000, policy, () => 0.5)).to.equal(undefined);
        expect(nextRetryDelay(1, 2_050, policy, () => 0.9)).to.equal(undefined); // 180 ms would leave < 2000
        expect(nextRetryDelay(1, 2_500, policy, () => 0.9)).to.equal(180);
    });
});
