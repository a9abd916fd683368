/**
 * Shapes shared by the pure cores and the adapters. Plain data only: everything here crosses the
 * closure-serialization boundary and the DynamoDB marshalling boundary unchanged.
 */
import type { Channel } from "./channels";

export type { Channel };

export type Priority = "high" | "normal";
export type DataValue = string | number | boolean;

/** One explicit recipient of a request that does not name a single userId. */
export interface RecipientSpec {
    userId?: string;
    email?: string;
    phone?: string;
}

/** The validated NotificationRequest: the JSON body on each channel queue. */
export interface NotificationRequest {
    notificationId: string;
    userId?: string;
    recipients?: RecipientSpec[];
    channels?: Channel[];
    template?: string;
    data?: Record<string, DataValue>;
    locale?: string;
    title?: string;
    body?: string;
    subject?: string;
    priority: Priority;
    sendAt?: string;
    campaignId?: string;
}

/** Delivery-log statuses (infra/tables.ts). */
export type DeliveryStatus =
    | "PENDING"
    | "SENT"
    | "DELIVERED"
    | "BOUNCED"
    | "COMPLAINT"
    | "FAILED"
    | "SUPPRESSED"
    | "DEFERRED"
    /** Final: the request reached the provider without an answer; the channel's policy sends no more. */
    | "UNCERTAIN";

/** Quiet hours as local wall-clock times "HH:MM"; start > end spans midnight. */
export interface QuietHours {
    start: string;
    end: string;
}

/** The per-user `profile` row of the preferences table. */
export interface Profile {
    userId: string;
    timezone?: string;
    locale?: string;
    email?: string;
    phone?: string;
    segment?: string;
    /** Set by the feedback processor on a permanent bounce or a complaint for `emailSuppressedAddress`. */
    emailSuppressed?: boolean;
    emailSuppressedAddress?: string;
    emailSuppressedReason?: string;
}

/** The per-user, per-channel row of the preferences table. */
export interface ChannelPreference {
    userId: string;
    channel: Channel;
    optIn?: boolean;
    quietHours?: QuietHours;
}

export type DevicePlatform = "ios" | "android";

/** One device of the per-user summary item (devices table, deviceId "#summary"). */
export interface DeviceSummaryEntry {
    platform: DevicePlatform;
    endpointArn?: string;
    enabled: boolean;
}

export interface DeviceSummary {
    userId: string;
    devices: Record<string, DeviceSummaryEntry>;
}

/** One row of the templates table (one locale of one template). */
export interface TemplateVariant {
    templateId: string;
    locale: string;
    title?: string;
    body?: string;
    subject?: string;
    html?: string;
    text?: string;
    sms?: string;
}

/** The delivery-log row as this runtime reads it back (idempotency) and writes it. */
export interface DeliveryLogRow {
    notificationId: string;
    recipientKey: string;
    channel: Channel;
    status: DeliveryStatus;
    userId?: string;
    reason?: string;
    providerMessageId?: string;
    campaignId?: string;
    /** Push: devices already published to, so a retried record never publishes to them twice. */
    sentDevices?: string[];
    /** An attempt reached the provider and got no answer (the UncertainSends metric counts them). */
    uncertain?: boolean;
    createdAt: string;
    updatedAt: string;
    expiresAt: number;
}
