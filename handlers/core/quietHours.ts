/**
 * Quiet hours in the user's own time zone, DST included, with nothing but Intl (no tz library in the
 * archive). Wall-clock to instant conversion follows the "compatible" disambiguation of Temporal: a
 * wall time skipped by a spring-forward gap moves forward by the gap, a wall time repeated by a
 * fall-back overlap resolves to its earlier instant.
 */
import type { QuietHours } from "./types";

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DAY_MS = 86_400_000;

export interface WallClock {
    year: number;
    month: number;
    day: number;
    hour: number;
    minute: number;
    second: number;
}

export function isValidTimeZone(timeZone: string): boolean {
    try {
        new Intl.DateTimeFormat("en-US", { timeZone });
        return true;
    } catch {
        return false;
    }
}

/** The wall clock in `timeZone` at `instant`. */
export function wallClockAt(instant: number, timeZone: string): WallClock {
    // A formatter per call: a module-level cache would be captured by closure serialization.
    const parts = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
    }).formatToParts(new Date(instant));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    return {
        year: get("year"),
        month: get("month"),
        day: get("day"),
        hour: get("hour"),
        minute: get("minute"),
        second: get("second"),
    };
}

/** Offset of `timeZone` from UTC at `instant`, in milliseconds (e.g. +3_600_000 for CET). */
export function offsetAt(instant: number, timeZone: string): number {
    const w = wallClockAt(instant, timeZone);
    const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * Every instant at which `timeZone` shows the wall clock `w`, earliest first: one on an ordinary day,
 * two for a time repeated by a fall-back overlap, none for a time skipped by a spring-forward gap.
 */
export function instantsOfWallClock(w: WallClock, timeZone: string): number[] {
    const local = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    const candidates = [local - offsetAt(local - DAY_MS, timeZone), local - offsetAt(local + DAY_MS, timeZone)];
    const valid = candidates.filter((t) => offsetAt(t, timeZone) === local - t);
    return [...new Set(valid)].sort((a, b) => a - b);
}

/** The instant at which `timeZone` shows the wall clock `w` (see the disambiguation rule above). */
export function instantOfWallClock(w: WallClock, timeZone: string): number {
    const valid = instantsOfWallClock(w, timeZone);
    if (valid.length > 0) return valid[0];
    // In a gap: shift forward by the gap, i.e. read the wall time with the offset in force before it.
    const local = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    return local - offsetAt(local - DAY_MS, timeZone);
}

/**
 * The first instant after `after` at which `timeZone` shows `w`: on a fall-back night, when `after`
 * lies in the second pass of the repeated hour, that is the second occurrence (the first is already
 * past). A time in a spring-forward gap resolves as in instantOfWallClock.
 */
export function nextInstantOfWallClock(w: WallClock, timeZone: string, after: number): number {
    const upcoming = instantsOfWallClock(w, timeZone).filter((t) => t > after);
    return upcoming.length > 0 ? upcoming[0] : instantOfWallClock(w, timeZone);
}

export function parseHhMm(value: string): number | undefined {
    const m = HH_MM.exec(value);
    return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

export function isValidQuietHours(q: QuietHours | undefined): q is QuietHours {
    return (
        q !== undefined &&
        typeof q.start === "string" &&
        typeof q.end === "string" &&
        parseHhMm(q.start) !== undefined &&
        parseHhMm(q.end) !== undefined &&
        q.start !== q.end
    );
}

/** Whether local minute-of-day `minute` lies in [start, end), the window possibly spanning midnight. */
function inWindow(minute: number, start: number, end: number): boolean {
    return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/**
 * When the quiet hours that `now` falls in end, as an epoch-ms instant; undefined when `now` is not
 * in quiet hours (or the window is missing or malformed: a broken preference never blocks delivery).
 */
export function quietHoursEnd(now: number, timeZone: string, quiet: QuietHours | undefined): number | undefined {
    if (!isValidQuietHours(quiet) || !isValidTimeZone(timeZone)) return undefined;
    const start = parseHhMm(quiet.start)!;
    const end = parseHhMm(quiet.end)!;
    const wall = wallClockAt(now, timeZone);
    const minute = wall.hour * 60 + wall.minute;
    if (!inWindow(minute, start, end)) return undefined;
    // The end is today when we are before it on the clock, otherwise tomorrow (window spans midnight).
    const dayShift = minute < end ? 0 : 1;
    const date = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + dayShift));
    const endInstant = nextInstantOfWallClock(
        {
            year: date.getUTCFullYear(),
            month: date.getUTCMonth() + 1,
            day: date.getUTCDate(),
            hour: Math.floor(end / 60),
            minute: end % 60,
            second: 0,
        },
        timeZone,
        now,
    );
    // Not reachable with the end taken after `now`; kept so a miscomputed end never defers into the past.
    return endInstant > now ? endInstant : now + 60_000;
}
