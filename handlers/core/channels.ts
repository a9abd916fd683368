/**
 * The channel list: the one place a new channel is named. Everything else that varies per channel
 * (its composer in core/channels/, its adapter in handlers/<channel>Sender.ts, its queue and processor
 * in infra/) is looked up from, or iterates over, this list.
 */
export const CHANNELS = ["push", "email", "sms", "inapp"] as const;
export type Channel = (typeof CHANNELS)[number];
