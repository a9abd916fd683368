/**
 * `GET` / `PUT /v1/me/preferences`, pure: the request body checked against the contract, the rows of the
 * preferences table the senders read (core/plan.ts via lib/pipeline/batchReads.ts: one row per user
 * and channel with `optIn` and `quietHours {start, end}`; the `profile` row with `timezone` and
 * `locale`), the writes that change only what the user may change, and the view of those rows.
 * Fields only the platform sets (email, phone, segment, the e-mail suppression) are never written here
 * and never shown: a PUT naming them is an unknown field (400).
 */
import { marshall } from "../attributes";
import { CHANNELS, type Channel } from "../channels";
import { isValidQuietHours, isValidTimeZone } from "../quietHours";
import { LOCALE_PATTERN } from "../request";
import type { QuietHours } from "../types";
import { type FieldError, type HttpApiEvent, type Parsed, parseJsonObject, problem } from "./http";

export const PROFILE_ROW = "profile";
export const PREFERENCES_BODY_MAX_BYTES = 16_384;
const HH_MM_TEXT = "HH:MM (00:00-23:59)";

export interface ChannelSettings {
    optIn: boolean;
    quietHours?: QuietHours;
}

/** The preferences object of the contract: what GET answers and what PUT takes (all parts optional). */
export interface Preferences {
    channels: Partial<Record<Channel, ChannelSettings>>;
    timezone?: string;
    locale?: string;
}

export type PreferencesUpdate = Partial<Preferences>;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
/** The channel list as it is when called: a channel added to CHANNELS (e.g. `inapp`) is accepted with it. */
const isChannel = (name: string): name is Channel => (CHANNELS as readonly string[]).includes(name);

function parseQuietHours(value: unknown, field: string, errors: FieldError[]): QuietHours | undefined {
    if (!isObject(value)) {
        errors.push({ field, problem: `must be an object { start, end } of ${HH_MM_TEXT}` });
        return undefined;
    }
    const unknown = Object.keys(value).filter((k) => k !== "start" && k !== "end");
    for (const k of unknown) errors.push({ field: `${field}.${k}`, problem: "unknown field" });
    const quiet = { start: value.start, end: value.end } as QuietHours;
    if (!isValidQuietHours(quiet)) {
        errors.push({ field, problem: `start and end must be ${HH_MM_TEXT} and differ` });
        return undefined;
    }
    return unknown.length > 0 ? undefined : { start: quiet.start, end: quiet.end };
}

function parseChannel(value: unknown, field: string, errors: FieldError[]): ChannelSettings | undefined {
    if (!isObject(value)) {
        errors.push({ field, problem: "must be an object { optIn, quietHours? }" });
        return undefined;
    }
    const before = errors.length;
    for (const k of Object.keys(value).filter((k) => k !== "optIn" && k !== "quietHours"))
        errors.push({ field: `${field}.${k}`, problem: "unknown field" });
    if (typeof value.optIn !== "boolean") errors.push({ field: `${field}.optIn`, problem: "must be true or false" });
    const quietHours =
        value.quietHours === undefined ? undefined : parseQuietHours(value.quietHours, `${field}.quietHours`, errors);
    if (errors.length > before) return undefined;
    return quietHours ? { optIn: value.optIn as boolean, quietHours } : { optIn: value.optIn as boolean };
}

function parseChannels(value: unknown, errors: FieldError[]): Preferences["channels"] | undefined {
    if (!isObject(value)) {
        errors.push({ field: "channels", problem: `must be an object keyed by channel (${CHANNELS.join(", ")})` });
        return undefined;
    }
    const out: Preferences["channels"] = {};
    for (const [name, settings] of Object.entries(value)) {
        if (!isChannel(name)) {
            errors.push({ field: `channels.${name}`, problem: `unknown channel (${CHANNELS.join(", ")})` });
            continue;
        }
        const parsed = parseChannel(settings, `channels.${name}`, errors);
        if (parsed) out[name] = parsed;
    }
    return out;
}

/** The PUT body, or the 400/413 answer listing every problem. */
export function parsePreferencesUpdate(event: HttpApiEvent): Parsed<PreferencesUpdate> {
    const body = parseJsonObject(event, {
        maxBytes: PREFERENCES_BODY_MAX_BYTES,
        fields: ["channels", "timezone", "locale"],
    });
    if (!body.ok) return body;
    const { channels, timezone, locale } = body.value;
    const errors: FieldError[] = [];
    const update: PreferencesUpdate = {};
    if (channels !== undefined) update.channels = parseChannels(channels, errors);
    if (timezone !== undefined) {
        if (typeof timezone === "string" && timezone !== "" && isValidTimeZone(timezone)) update.timezone = timezone;
        else errors.push({ field: "timezone", problem: "must be an IANA time zone such as Europe/Vienna" });
    }
    if (locale !== undefined) {
        if (typeof locale === "string" && LOCALE_PATTERN.test(locale)) update.locale = locale;
        else errors.push({ field: "locale", problem: "must be a BCP-47 tag such as en or de-AT" });
    }
    if (errors.length > 0) return { ok: false, result: problem(400, "Invalid preferences", errors) };
    return { ok: true, value: update };
}

/**
 * The TransactWriteItems input applying `update` for `userId` (all or nothing): one UpdateItem per
 * channel row (optIn; quietHours set, or removed when the channel is given without it) and one on the
 * profile row for timezone/locale. Only these attributes are named, so the platform's own
 * (suppression, segment, email, phone) stay as they are. Undefined when there is nothing to write.
 */
export function preferencesWrites(table: string, userId: string, update: PreferencesUpdate, now: number) {
    const updatedAt = new Date(now).toISOString();
    const items: Record<string, unknown>[] = [];
    for (const [channel, settings] of Object.entries(update.channels ?? {}) as [Channel, ChannelSettings][]) {
        const quiet = settings.quietHours;
        items.push({
            Update: {
                TableName: table,
                Key: marshall({ userId, channel }),
                UpdateExpression: `SET #optIn = :optIn, #updatedAt = :now${quiet ? ", #quietHours = :quiet" : " REMOVE #quietHours"}`,
                ExpressionAttributeNames: { "#optIn": "optIn", "#updatedAt": "updatedAt", "#quietHours": "quietHours" },
                ExpressionAttributeValues: marshall({ ":optIn": settings.optIn, ":now": updatedAt, ":quiet": quiet }),
            },
        });
    }
    const profile: Record<string, string> = {};
    if (update.timezone !== undefined) profile.timezone = update.timezone;
    if (update.locale !== undefined) profile.locale = update.locale;
    if (Object.keys(profile).length > 0) {
        const names = Object.keys(profile);
        items.push({
            Update: {
                TableName: table,
                Key: marshall({ userId, channel: PROFILE_ROW }),
                UpdateExpression: `SET ${names.map((n) => `#${n} = :${n}`).join(", ")}, #updatedAt = :now`,
                ExpressionAttributeNames: Object.fromEntries([...names, "updatedAt"].map((n) => [`#${n}`, n])),
                ExpressionAttributeValues: marshall({
                    ...Object.fromEntries(names.map((n) => [`:${n}`, profile[n]])),
                    ":now": updatedAt,
                }),
            },
        });
    }
    return items.length > 0 ? { TransactItems: items } : undefined;
}

/**
 * The preferences object from the user's rows (a Query on userId): each channel with a row of its own
 * (a channel without one follows the platform default: push, e-mail and in-app on, SMS off), the
 * profile's timezone and locale. Rows of channels no longer in CHANNELS and platform-only fields are
 * left out.
 */
export function preferencesView(rows: Record<string, unknown>[]): Preferences {
    const view: Preferences = { channels: {} };
    for (const row of rows) {
        const name = String(row.channel);
        if (name === PROFILE_ROW) {
            if (typeof row.timezone === "string") view.timezone = row.timezone;
            if (typeof row.locale === "string") view.locale = row.locale;
        } else if (isChannel(name) && typeof row.optIn === "boolean") {
            const quiet = row.quietHours as QuietHours | undefined;
            view.channels[name] = isValidQuietHours(quiet)
                ? { optIn: row.optIn, quietHours: { start: quiet.start, end: quiet.end } }
                : { optIn: row.optIn };
        }
    }
    return view;
}
