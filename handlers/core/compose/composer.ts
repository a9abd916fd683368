/**
 * The seam between the shared plan and one channel: a composer resolves the recipient's address on its
 * channel and renders what to send, from the request, the profile, the template variant and what only
 * this channel read for the batch (its enrichment: push's device summaries, SMS's opt-out status).
 * Pure: the adapter in handlers/<channel>Sender.ts does the I/O for it.
 */
import type { RecipientRef } from "../deliveryLog";
import type { Channel } from "../channels";
import type { DataValue, DeliveryLogRow, NotificationRequest, Profile, TemplateVariant } from "../types";

export interface ComposeInput<E> {
    request: NotificationRequest;
    recipient: RecipientRef;
    profile?: Profile;
    /** The template variant for the recipient's locale; undefined for a direct (template-less) request. */
    variant?: TemplateVariant;
    /** The request's template variables. */
    values: Record<string, DataValue>;
    /** What this channel's enrich step produced for the whole batch. */
    enrichment: E;
    /** The recipient's earlier delivery-log row, if any (push: the devices already reached). */
    previous?: DeliveryLogRow;
    /**
     * Epoch ms the request's message entered the queue (SQS SentTimestamp, kept across redeliveries):
     * what a channel derives deterministic ids from (in-app: the inbox item id), so a retry repeats them.
     */
    queuedAt: number;
}

export type Composed<D> = { kind: "send"; delivery: D } | { kind: "fail" | "suppress" | "retry"; reason: string };

export interface Composer<D, E> {
    channel: Channel;
    /**
     * Whether a user with no preference row for the channel counts as opted in (SMS needs an explicit
     * opt-in: carrier and consent rules; push and e-mail are on until the user turns them off).
     */
    defaultOptIn: boolean;
    /**
     * Whether the user's quiet hours hold a delivery back (deferred to their end). Default true; in-app
     * sets false: an inbox item is read when the user opens the app, so it never wakes anyone.
     */
    holdsForQuietHours?: boolean;
    compose(input: ComposeInput<E>): Composed<D>;
}
