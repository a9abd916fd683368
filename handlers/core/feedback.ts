/**
 * Parsing of the feedback queue's messages: SES events (configuration-set event destination, via SNS
 * or EventBridge) and SNS platform-application events (endpoint deleted / updated / delivery failure).
 */
import { OUTCOME_MESSAGE_TYPE } from "./deliveryLog";
import type { DeliveryLogRow, DeliveryStatus } from "./types";

export type FeedbackEvent =
    | {
          kind: "email";
          sesEvent: string;
          notificationId: string;
          userId?: string;
          recipientKey: string;
          status: DeliveryStatus;
          reason?: string;
          /** Set on a permanent bounce or a complaint: flag this address suppressed on the profile. */
          suppressAddress?: string;
          providerMessageId?: string;
      }
    | { kind: "endpoint"; eventType: string; endpointArn: string; reason: string }
    /**
     * An EndpointUpdated event that does not say whether the endpoint is still enabled (real events
     * often carry no attributes): ask SNS (GetEndpointAttributes), then act on its answer.
     */
    | { kind: "endpoint-check"; endpointArn: string }
    /**
     * A delivery failure of the platform application itself (disabled application, expired or revoked
     * APNs/FCM credentials): every device fails alike, so no device is disabled; log and count it.
     */
    | { kind: "platform-failure"; endpointArn: string; platformApplicationArn?: string; reason: string }
    /** Delivery-log rows a sender could not write after its sends: replayed into the log. */
    | { kind: "outcomes"; rows: DeliveryLogRow[] }
    | { kind: "ignore"; reason: string }
    | { kind: "invalid"; reason: string };

// The feedback events are untyped JSON from SNS and SES; each parser checks the fields it reads.
// biome-ignore lint/suspicious/noExplicitAny: see above
const isRecord = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The event inside an SQS body: raw JSON, an SNS envelope, or an EventBridge event. */
// biome-ignore lint/suspicious/noExplicitAny: untyped event JSON (see isRecord)
export function unwrapFeedbackBody(body: string): Record<string, any> | undefined {
    let value: unknown;
    try {
        value = JSON.parse(body);
        if (isRecord(value) && value.Type === "Notification" && typeof value.Message === "string") {
            value = JSON.parse(value.Message);
        }
    } catch {
        return undefined;
    }
    if (isRecord(value) && isRecord(value.detail) && typeof value["detail-type"] === "string") value = value.detail;
    return isRecord(value) ? value : undefined;
}

export function parseFeedback(body: string): FeedbackEvent {
    const event = unwrapFeedbackBody(body);
    if (!event) return { kind: "invalid", reason: "feedback body is not a JSON object" };
    if (event.type === OUTCOME_MESSAGE_TYPE) return parseOutcomes(event.rows);
    if (typeof event.EventType === "string" && typeof event.EndpointArn === "string") return parseEndpointEvent(event);
    if (typeof event.eventType === "string" || typeof event.notificationType === "string") return parseSesEvent(event);
    return { kind: "invalid", reason: "neither an SES event nor an SNS endpoint event" };
}

/**
 * SNS `FailureType` values of an EventDeliveryFailure event that are about this endpoint alone: SNS
 * reports InvalidPlatformToken when APNs/FCM reject the token, EndpointDisabled when the endpoint was
 * already disabled, EndpointNotFound when it was deleted. Exact values: a substring match would also
 * take PlatformApplicationDisabled for a dead token.
 */
const ENDPOINT_FAILURE_TYPES: readonly string[] = ["InvalidPlatformToken", "EndpointDisabled", "EndpointNotFound"];
/** SNS `FailureType` values that concern the whole platform application. */
const PLATFORM_FAILURE_TYPES: readonly string[] = ["PlatformApplicationDisabled"];
/**
 * Provider reasons (in FailureMessage) that mean the platform application's setup is broken, not the
 * token: APNs certificate / provider-token / topic errors, FCM auth and sender errors, anything about
 * credentials or certificates, and a bare "expired" (certificates and credentials expire; a device token
 * "expires" only as Unregistered). Checked before the token reasons, so an ambiguous message never
 * disables a device: if the token really is dead SNS disables the endpoint and its EndpointUpdated
 * (Enabled=false) event disables the device anyway.
 */
const PLATFORM_REASON =
    /\b(ExpiredProviderToken|InvalidProviderToken|MissingProviderToken|BadCertificate|BadCertificateEnvironment|TopicDisallowed|BadTopic|DeviceTokenNotForTopic|Forbidden|THIRD_PARTY_AUTH_ERROR|SENDER_ID_MISMATCH|MismatchSenderId|UNAUTHENTICATED|PERMISSION_DENIED|certificates?|credentials?|expired)\b/i;
/** Provider reasons that mean this token is dead: APNs Unregistered / BadDeviceToken, FCM UNREGISTERED. */
const TOKEN_REASON = /\b(Unregistered|BadDeviceToken|NotRegistered|InvalidRegistration)\b/i;
/** FCM's INVALID_ARGUMENT is about the token only when its message says so (else: the payload). */
const FCM_INVALID_TOKEN =
    /\bINVALID_ARGUMENT\b[\s\S]*\bregistration token\b|\bregistration token\b[\s\S]*\bINVALID_ARGUMENT\b/i;

export type DeliveryFailureScope = "endpoint" | "platform" | "other";

/** Whose fault an SNS EventDeliveryFailure is: this endpoint's token, the platform application, or neither known. */
export function classifyDeliveryFailure(failureType: string, failureMessage: string): DeliveryFailureScope {
    if (PLATFORM_FAILURE_TYPES.includes(failureType)) return "platform";
    if (PLATFORM_REASON.test(failureMessage)) return "platform";
    if (ENDPOINT_FAILURE_TYPES.includes(failureType)) return "endpoint";
    if (TOKEN_REASON.test(failureMessage) || FCM_INVALID_TOKEN.test(failureMessage)) return "endpoint";
    return "other";
}

// biome-ignore lint/suspicious/noExplicitAny: untyped event JSON (see isRecord)
function parseEndpointEvent(event: Record<string, any>): FeedbackEvent {
    const endpointArn = event.EndpointArn as string;
    switch (event.EventType) {
        case "EndpointDeleted":
            return { kind: "endpoint", eventType: "EndpointDeleted", endpointArn, reason: "endpoint deleted" };
        case "EndpointUpdated":
            if (event.Enabled === undefined || event.Enabled === null || event.Enabled === "") {
                return { kind: "endpoint-check", endpointArn };
            }
            return endpointUpdate(endpointArn, { Enabled: String(event.Enabled) });
        case "DeliveryFailure": {
            const failureType = typeof event.FailureType === "string" ? event.FailureType : "";
            const failureMessage = typeof event.FailureMessage === "string" ? event.FailureMessage : "";
            const failure = `${failureType} ${failureMessage}`.trim() || "unknown";
            switch (classifyDeliveryFailure(failureType, failureMessage)) {
                case "endpoint":
                    return {
                        kind: "endpoint",
                        eventType: "DeliveryFailure",
                        endpointArn,
                        reason: `delivery failure: ${failure}`,
                    };
                case "platform":
                    return {
                        kind: "platform-failure",
                        endpointArn,
                        platformApplicationArn: typeof event.Resource === "string" ? event.Resource : undefined,
                        reason: `platform delivery failure: ${failure}`,
                    };
                default:
                    return { kind: "ignore", reason: `delivery failure not tied to the token: ${failure}` };
            }
        }
        default:
            return { kind: "ignore", reason: `endpoint event ${event.EventType} needs no action` };
    }
}

/**
 * What an endpoint's attributes — from an EndpointUpdated event or from GetEndpointAttributes — mean for
 * its device: `Enabled` "false" disables it; `undefined` attributes (SNS answered NotFound: the endpoint
 * was deleted) disable it too; anything else is still enabled.
 */
export function endpointUpdate(
    endpointArn: string,
    attributes: Record<string, string> | undefined,
): Extract<FeedbackEvent, { kind: "endpoint" | "ignore" }> {
    if (attributes === undefined) {
        return { kind: "endpoint", eventType: "EndpointUpdated", endpointArn, reason: "endpoint deleted" };
    }
    if (String(attributes.Enabled).toLowerCase() === "false") {
        return {
            kind: "endpoint",
            eventType: "EndpointUpdated",
            endpointArn,
            reason: "endpoint disabled by the platform",
        };
    }
    return { kind: "ignore", reason: "endpoint updated, still enabled" };
}

const tag = (tags: Record<string, unknown> | undefined, name: string): string | undefined => {
    const v = tags?.[name];
    const first = Array.isArray(v) ? v[0] : v;
    return typeof first === "string" && first !== "" ? first : undefined;
};

// biome-ignore lint/suspicious/noExplicitAny: untyped event JSON (see isRecord)
function parseSesEvent(event: Record<string, any>): FeedbackEvent {
    const type = String(event.eventType ?? event.notificationType);
    const mail = isRecord(event.mail) ? event.mail : {};
    const tags = isRecord(mail.tags) ? mail.tags : undefined;
    const notificationId = tag(tags, "notificationId");
    if (!notificationId) return { kind: "ignore", reason: `SES ${type} event without a notificationId tag` };
    const userId = tag(tags, "userId");
    const destination = Array.isArray(mail.destination) ? (mail.destination[0] as string | undefined) : undefined;
    const identity = userId ?? destination;
    if (!identity) return { kind: "invalid", reason: `SES ${type} event names no user and no destination` };
    const base = {
        kind: "email" as const,
        sesEvent: type,
        notificationId,
        userId,
        recipientKey: `email#${identity}`,
        providerMessageId: typeof mail.messageId === "string" ? mail.messageId : undefined,
    };
    switch (type) {
        case "Delivery":
            return { ...base, status: "DELIVERED" };
        case "Bounce": {
            const bounce = isRecord(event.bounce) ? event.bounce : {};
            const permanent = bounce.bounceType === "Permanent";
            const bounced = Array.isArray(bounce.bouncedRecipients)
                ? bounce.bouncedRecipients[0]?.emailAddress
                : undefined;
            return {
                ...base,
                status: "BOUNCED",
                reason: `${bounce.bounceType ?? "Unknown"} bounce${bounce.bounceSubType ? ` (${bounce.bounceSubType})` : ""}`,
                suppressAddress: permanent ? (bounced ?? destination) : undefined,
            };
        }
        case "Complaint": {
            const complaint = isRecord(event.complaint) ? event.complaint : {};
            const complained = Array.isArray(complaint.complainedRecipients)
                ? complaint.complainedRecipients[0]?.emailAddress
                : undefined;
            return {
                ...base,
                status: "COMPLAINT",
                reason: `complaint${complaint.complaintFeedbackType ? ` (${complaint.complaintFeedbackType})` : ""}`,
                suppressAddress: complained ?? destination,
            };
        }
        case "Reject":
            return { ...base, status: "FAILED", reason: `rejected by SES: ${event.reject?.reason ?? "unknown"}` };
        case "Rendering Failure":
        case "RenderingFailure":
            return {
                ...base,
                status: "FAILED",
                reason: `rendering failure: ${event.failure?.errorMessage ?? "unknown"}`,
            };
        default:
            // Send (the sender already wrote SENT), DeliveryDelay (SES keeps trying), Open, Click, Subscription.
            return { kind: "ignore", reason: `SES ${type} event needs no delivery-log change` };
    }
}

/**
 * Which current statuses a feedback status may overwrite, so late or reordered events never move a row
 * backwards (a Delivery after a Complaint, a Delivery for a row already BOUNCED).
 */
export function overwritableStatuses(next: DeliveryStatus): DeliveryStatus[] {
    switch (next) {
        // UNCERTAIN (sent, no answer) is settled by the provider's own event when one comes.
        case "DELIVERED":
            return ["PENDING", "SENT", "UNCERTAIN"];
        case "BOUNCED":
        case "FAILED":
            return ["PENDING", "SENT", "UNCERTAIN", "DELIVERED"];
        case "COMPLAINT":
            return ["PENDING", "SENT", "UNCERTAIN", "DELIVERED", "BOUNCED"];
        default:
            return [];
    }
}

const ROW_STATUSES: readonly DeliveryStatus[] = [
    "PENDING",
    "SENT",
    "DELIVERED",
    "BOUNCED",
    "COMPLAINT",
    "FAILED",
    "SUPPRESSED",
    "DEFERRED",
    "UNCERTAIN",
];

/** A sender's unwritten outcomes: every row must carry its key, channel, status and stamps. */
function parseOutcomes(rows: unknown): FeedbackEvent {
    if (!Array.isArray(rows) || rows.length === 0) return { kind: "invalid", reason: "outcome message without rows" };
    for (const row of rows) {
        const ok =
            isRecord(row) &&
            typeof row.notificationId === "string" &&
            typeof row.recipientKey === "string" &&
            typeof row.channel === "string" &&
            ROW_STATUSES.includes(row.status) &&
            typeof row.createdAt === "string" &&
            typeof row.updatedAt === "string" &&
            typeof row.expiresAt === "number";
        if (!ok) return { kind: "invalid", reason: "outcome message with a malformed row" };
    }
    return { kind: "outcomes", rows: rows as DeliveryLogRow[] };
}
