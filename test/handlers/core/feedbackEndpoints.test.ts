import { expect } from "chai";
import {
    classifyDeliveryFailure,
    endpointUpdate,
    overwritableStatuses,
    parseFeedback,
} from "../../../handlers/core/feedback";
import {
    decideDeviceAction,
    endpointRepair,
    parseExistingEndpointArn,
    SUMMARY_DEVICE_ID,
} from "../../../handlers/core/endpoints";

const mail = {
    messageId: "ses-1",
    destination: ["ann@example.com"],
    tags: { notificationId: ["n1"], userId: ["u1"], channel: ["email"] },
};
const sns = (message: object) =>
    JSON.stringify({ Type: "Notification", MessageId: "x", Message: JSON.stringify(message) });

describe("core/feedback: SES and endpoint events", () => {
    it("maps SES events to delivery-log statuses, correlated through the mail tags", () => {
        expect(parseFeedback(JSON.stringify({ eventType: "Delivery", mail }))).to.deep.include({
            kind: "email",
            notificationId: "n1",
            recipientKey: "email#u1",
            status: "DELIVERED",
            providerMessageId: "ses-1",
        });
        const reject = parseFeedback(sns({ eventType: "Reject", mail, reject: { reason: "Bad content" } }));
        expect(reject).to.deep.include({ status: "FAILED", reason: "rejected by SES: Bad content" });
        const render = parseFeedback(
            JSON.stringify({ eventType: "Rendering Failure", mail, failure: { errorMessage: "no var" } }),
        );
        expect(render).to.deep.include({ status: "FAILED" });
        for (const type of ["Send", "DeliveryDelay", "Open"])
            expect(parseFeedback(JSON.stringify({ eventType: type, mail })).kind).to.equal("ignore");
    });

    it("suppresses the address on a permanent bounce or a complaint, not on a transient bounce", () => {
        const permanent = parseFeedback(
            JSON.stringify({
                eventType: "Bounce",
                mail,
                bounce: {
                    bounceType: "Permanent",
                    bounceSubType: "General",
                    bouncedRecipients: [{ emailAddress: "ann@example.com" }],
                },
            }),
        );
        expect(permanent).to.deep.include({
            status: "BOUNCED",
            suppressAddress: "ann@example.com",
            reason: "Permanent bounce (General)",
        });
        const transient = parseFeedback(
            JSON.stringify({ eventType: "Bounce", mail, bounce: { bounceType: "Transient" } }),
        );
        expect(transient).to.deep.include({ status: "BOUNCED", suppressAddress: undefined });
        const complaint = parseFeedback(
            sns({
                eventType: "Complaint",
                mail,
                complaint: { complainedRecipients: [{ emailAddress: "ann@example.com" }] },
            }),
        );
        expect(complaint).to.deep.include({ status: "COMPLAINT", suppressAddress: "ann@example.com" });
    });

    it("reads the EventBridge shape and keys an address-only recipient by its address", () => {
        const noUser = { ...mail, tags: { notificationId: ["n1"], channel: ["email"] } };
        const event = parseFeedback(
            JSON.stringify({ "detail-type": "Email Delivered", detail: { eventType: "Delivery", mail: noUser } }),
        );
        expect(event).to.deep.include({ recipientKey: "email#ann@example.com", userId: undefined });
    });

    it("turns endpoint events into device disables only when the token is dead", () => {
        const arn = "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/app/abc";
        expect(
            parseFeedback(sns({ EventType: "DeliveryFailure", EndpointArn: arn, FailureType: "EndpointDisabled" })),
        ).to.deep.include({ kind: "endpoint", endpointArn: arn });
        expect(parseFeedback(JSON.stringify({ EventType: "EndpointDeleted", EndpointArn: arn })).kind).to.equal(
            "endpoint",
        );
        expect(
            parseFeedback(JSON.stringify({ EventType: "EndpointUpdated", EndpointArn: arn, Enabled: "false" })).kind,
        ).to.equal("endpoint");
        expect(
            parseFeedback(JSON.stringify({ EventType: "EndpointUpdated", EndpointArn: arn, Enabled: "true" })).kind,
        ).to.equal("ignore");
        expect(
            parseFeedback(
                JSON.stringify({ EventType: "DeliveryFailure", EndpointArn: arn, FailureType: "PlatformThrottled" }),
            ).kind,
        ).to.equal("ignore");
    });

    it("asks SNS about an EndpointUpdated event that does not say whether the endpoint is enabled", () => {
        const arn = "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/app/abc";
        expect(parseFeedback(sns({ EventType: "EndpointUpdated", EndpointArn: arn }))).to.deep.equal({
            kind: "endpoint-check",
            endpointArn: arn,
        });
    });

    it("disables the device when GetEndpointAttributes says Enabled=false or the endpoint is gone, not otherwise", () => {
        const arn = "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/app/abc";
        expect(endpointUpdate(arn, { Enabled: "false", Token: "t" })).to.deep.equal({
            kind: "endpoint",
            eventType: "EndpointUpdated",
            endpointArn: arn,
            reason: "endpoint disabled by the platform",
        });
        expect(endpointUpdate(arn, undefined)).to.deep.include({ kind: "endpoint", reason: "endpoint deleted" });
        expect(endpointUpdate(arn, { Enabled: "true", Token: "t" }).kind).to.equal("ignore");
        expect(endpointUpdate(arn, {}).kind, "nothing says disabled: the device stays").to.equal("ignore");
    });

    it("disables a device only on token-level delivery failures (exact SNS FailureType, APNs/FCM token reasons)", () => {
        const arn = "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/app/abc";
        const failure = (FailureType: string, FailureMessage?: string) =>
            parseFeedback(
                sns({
                    EventType: "DeliveryFailure",
                    EndpointArn: arn,
                    FailureType,
                    FailureMessage,
                    DeliveryAttempts: 1,
                }),
            );
        for (const [type, message] of [
            ["InvalidPlatformToken", "Platform token associated with the endpoint is not valid"],
            ["EndpointDisabled", "Endpoint is disabled"],
            ["EndpointNotFound", "Endpoint was not found"],
            ["DeliveryFailure", "APNs: 410 Unregistered"],
            ["DeliveryFailure", "APNs: 400 BadDeviceToken"],
            ["DeliveryFailure", "FCM: UNREGISTERED"],
            ["DeliveryFailure", "FCM: INVALID_ARGUMENT The registration token is not a valid FCM registration token"],
        ]) {
            expect(failure(type, message), `${type} ${message}`).to.deep.include({
                kind: "endpoint",
                eventType: "DeliveryFailure",
                endpointArn: arn,
            });
        }
        // INVALID_ARGUMENT about the payload is not the token's fault.
        expect(failure("DeliveryFailure", "FCM: INVALID_ARGUMENT Invalid JSON payload received").kind).to.equal(
            "ignore",
        );
    });

    it("never disables a device on platform-level failures (disabled application, expired or revoked credentials)", () => {
        const arn = "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/app/abc";
        const app = "arn:aws:sns:eu-west-1:123456789012:app/GCM/app";
        const failure = (FailureType: string, FailureMessage: string) =>
            parseFeedback(
                JSON.stringify({
                    EventType: "DeliveryFailure",
                    EndpointArn: arn,
                    Resource: app,
                    FailureType,
                    FailureMessage,
                }),
            );
        for (const [type, message] of [
            ["PlatformApplicationDisabled", "Platform application is disabled"],
            // The old pattern matched "disabled" and "expired" anywhere: each of these disabled a device.
            ["DeliveryFailure", "APNs certificate expired"],
            ["DeliveryFailure", "APNs: 403 ExpiredProviderToken"],
            ["DeliveryFailure", "APNs: 403 InvalidProviderToken"],
            ["DeliveryFailure", "APNs: 403 BadCertificateEnvironment"],
            ["DeliveryFailure", "FCM: THIRD_PARTY_AUTH_ERROR"],
            ["DeliveryFailure", "FCM: SENDER_ID_MISMATCH"],
            ["DeliveryFailure", "Invalid credentials for the platform application"],
            // A platform reason wins even beside a token-level type: ambiguity never disables a device.
            ["InvalidPlatformToken", "credentials expired"],
        ]) {
            const event = failure(type, message);
            expect(event, `${type} ${message}`).to.deep.include({
                kind: "platform-failure",
                endpointArn: arn,
                platformApplicationArn: app,
            });
            expect((event as { reason: string }).reason).to.include(message);
        }
        expect(classifyDeliveryFailure("PlatformApplicationDisabled", "")).to.equal("platform");
        expect(classifyDeliveryFailure("InvalidPlatformToken", "")).to.equal("endpoint");
        // Substrings are not values: a made-up type merely containing a known one is not token-level.
        expect(classifyDeliveryFailure("NotEndpointDisabledReally", "")).to.equal("other");
        expect(classifyDeliveryFailure("", "service unavailable")).to.equal("other");
    });

    it("reports garbage as invalid and never moves a row backwards", () => {
        expect(parseFeedback("nope").kind).to.equal("invalid");
        expect(parseFeedback(JSON.stringify({ hello: 1 })).kind).to.equal("invalid");
        expect(overwritableStatuses("DELIVERED")).to.not.include("BOUNCED");
        expect(overwritableStatuses("COMPLAINT")).to.include("DELIVERED");
        expect(overwritableStatuses("SENT")).to.deep.equal([]);
    });
});

describe("core/endpoints: platform endpoint lifecycle", () => {
    const arn = "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/notify-dev-ios/0f3c5d2e-1111-2222-3333-444455556666";
    const device = { userId: "u1", deviceId: "d1", platform: "ios", token: "tok1", enabled: true };

    it("parses the existing endpoint ARN out of the InvalidParameter message", () => {
        const message = `Invalid parameter: Token Reason: Endpoint ${arn} already exists with the same Token, but different attributes.`;
        expect(parseExistingEndpointArn(message)).to.equal(arn);
        expect(parseExistingEndpointArn("Invalid parameter: Token Reason: malformed")).to.equal(undefined);
    });

    it("creates an endpoint for a new device and repairs it on a token change or a re-enable", () => {
        expect(decideDeviceAction({ eventName: "INSERT", newImage: device }).kind).to.equal("ensure-endpoint");
        const synced = { ...device, endpointArn: arn, endpointToken: "tok1" };
        expect(
            decideDeviceAction({ eventName: "MODIFY", oldImage: synced, newImage: { ...synced, token: "tok2" } }).kind,
        ).to.equal("ensure-endpoint");
        expect(
            decideDeviceAction({ eventName: "MODIFY", oldImage: { ...synced, enabled: false }, newImage: synced }).kind,
        ).to.equal("ensure-endpoint");
    });

    it("only refreshes the summary on its own write-back and stops when nothing mirrored changed (no stream loop)", () => {
        const synced = { ...device, endpointArn: arn, endpointToken: "tok1" };
        expect(decideDeviceAction({ eventName: "MODIFY", oldImage: device, newImage: synced })).to.deep.equal({
            kind: "update-summary",
            userId: "u1",
            deviceId: "d1",
            entry: { platform: "ios", enabled: true, endpointArn: arn },
        });
        expect(
            decideDeviceAction({ eventName: "MODIFY", oldImage: synced, newImage: { ...synced, lastSeen: "x" } as any })
                .kind,
        ).to.equal("none");
        const disabled = decideDeviceAction({
            eventName: "MODIFY",
            oldImage: synced,
            newImage: { ...synced, enabled: false },
        });
        expect(disabled).to.deep.include({
            kind: "update-summary",
            entry: { platform: "ios", enabled: false, endpointArn: arn },
        });
        expect(
            decideDeviceAction({ eventName: "MODIFY", newImage: { userId: "u1", deviceId: SUMMARY_DEVICE_ID } }).kind,
        ).to.equal("none");
    });

    it("deletes the endpoint when the row is removed (TTL expiry or deletion)", () => {
        expect(decideDeviceAction({ eventName: "REMOVE", oldImage: { ...device, endpointArn: arn } })).to.deep.equal({
            kind: "delete-device",
            userId: "u1",
            deviceId: "d1",
            endpointArn: arn,
        });
    });

    it("rejects rows it cannot act on and computes the attribute repair", () => {
        expect(decideDeviceAction({ eventName: "INSERT", newImage: { ...device, platform: "windows" } }).kind).to.equal(
            "invalid",
        );
        expect(decideDeviceAction({ eventName: "INSERT", newImage: { ...device, token: undefined } }).kind).to.equal(
            "invalid",
        );
        expect(endpointRepair({ Token: "tok1", Enabled: "true" }, "tok1")).to.equal(undefined);
        expect(endpointRepair({ Token: "tok1", Enabled: "false" }, "tok1")).to.deep.equal({
            Token: "tok1",
            Enabled: "true",
        });
        expect(endpointRepair({ Token: "old", Enabled: "true" }, "tok1")).to.deep.equal({
            Token: "tok1",
            Enabled: "true",
        });
    });
});
