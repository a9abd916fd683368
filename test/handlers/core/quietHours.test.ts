import { expect } from "chai";
import {
    instantOfWallClock,
    instantsOfWallClock,
    offsetAt,
    quietHoursEnd,
    isValidQuietHours,
} from "../../../handlers/core/quietHours";

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const night = { start: "22:00", end: "07:00" };

describe("core/quietHours: quiet hours in the user's time zone", () => {
    it("knows the offsets of Berlin and New York on both sides of DST", () => {
        expect(offsetAt(t("2026-01-15T12:00:00Z"), "Europe/Berlin")).to.equal(3_600_000);
        expect(offsetAt(t("2026-07-15T12:00:00Z"), "Europe/Berlin")).to.equal(7_200_000);
        expect(offsetAt(t("2026-01-15T12:00:00Z"), "America/New_York")).to.equal(-5 * 3_600_000);
        expect(offsetAt(t("2026-07-15T12:00:00Z"), "America/New_York")).to.equal(-4 * 3_600_000);
    });

    it("is not quiet outside the window and defers to today's end inside it", () => {
        // 12:00 UTC = 13:00 in Berlin (winter): not quiet.
        expect(quietHoursEnd(t("2026-01-15T12:00:00Z"), "Europe/Berlin", night)).to.equal(undefined);
        // 05:00 UTC = 06:00 Berlin: quiet until 07:00 Berlin = 06:00 UTC.
        expect(iso(quietHoursEnd(t("2026-01-15T05:00:00Z"), "Europe/Berlin", night))).to.equal(
            "2026-01-15T06:00:00.000Z",
        );
        // 22:30 Berlin: quiet until tomorrow 07:00.
        expect(iso(quietHoursEnd(t("2026-01-15T21:30:00Z"), "Europe/Berlin", night))).to.equal(
            "2026-01-16T06:00:00.000Z",
        );
        // The end is exclusive: at 07:00 sharp it is no longer quiet.
        expect(quietHoursEnd(t("2026-01-15T06:00:00Z"), "Europe/Berlin", night)).to.equal(undefined);
    });

    it("handles a window within one day", () => {
        const lunch = { start: "12:00", end: "13:30" };
        expect(iso(quietHoursEnd(t("2026-01-15T17:10:00Z"), "America/New_York", lunch))).to.equal(
            "2026-01-15T18:30:00.000Z",
        );
        expect(quietHoursEnd(t("2026-01-15T18:30:00Z"), "America/New_York", lunch)).to.equal(undefined);
    });

    it("Berlin spring-forward night (2026-03-29): the end at 07:00 CEST is 05:00 UTC, not 06:00", () => {
        // 23:00 CET on the 28th = 22:00 UTC; the night crosses 02:00 -> 03:00.
        expect(iso(quietHoursEnd(t("2026-03-28T22:00:00Z"), "Europe/Berlin", night))).to.equal(
            "2026-03-29T05:00:00.000Z",
        );
    });

    it("Berlin fall-back night (2026-10-25): the end at 07:00 CET is 06:00 UTC", () => {
        expect(iso(quietHoursEnd(t("2026-10-24T21:00:00Z"), "Europe/Berlin", night))).to.equal(
            "2026-10-25T06:00:00.000Z",
        );
    });

    it("New York transition nights (2026-03-08 spring forward, 2026-11-01 fall back)", () => {
        expect(iso(quietHoursEnd(t("2026-03-08T04:00:00Z"), "America/New_York", night))).to.equal(
            "2026-03-08T11:00:00.000Z",
        );
        expect(iso(quietHoursEnd(t("2026-11-01T04:00:00Z"), "America/New_York", night))).to.equal(
            "2026-11-01T12:00:00.000Z",
        );
    });

    it("an end inside the spring-forward gap moves forward by the gap; a repeated time takes its earlier instant", () => {
        // 02:30 does not exist in Berlin on 2026-03-29: read with the CET offset it is 01:30 UTC (03:30 CEST).
        expect(
            iso(instantOfWallClock({ year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 }, "Europe/Berlin")),
        ).to.equal("2026-03-29T01:30:00.000Z");
        // 02:30 happens twice on 2026-10-25: first in CEST (00:30 UTC).
        expect(
            iso(
                instantOfWallClock({ year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 }, "Europe/Berlin"),
            ),
        ).to.equal("2026-10-25T00:30:00.000Z");
        const gapEnd = { start: "01:00", end: "02:30" };
        const end = quietHoursEnd(t("2026-03-29T00:15:00Z"), "Europe/Berlin", gapEnd); // 01:15 CET
        expect(iso(end)).to.equal("2026-03-29T01:30:00.000Z");
    });

    it("lists a repeated wall time twice, a skipped one not at all, an ordinary one once", () => {
        const at = (month: number, day: number, hour: number, minute: number) => ({
            year: 2026,
            month,
            day,
            hour,
            minute,
            second: 0,
        });
        expect(instantsOfWallClock(at(10, 25, 2, 30), "Europe/Berlin").map(iso)).to.deep.equal([
            "2026-10-25T00:30:00.000Z",
            "2026-10-25T01:30:00.000Z",
        ]);
        expect(instantsOfWallClock(at(11, 1, 1, 30), "America/New_York").map(iso)).to.deep.equal([
            "2026-11-01T05:30:00.000Z",
            "2026-11-01T06:30:00.000Z",
        ]);
        expect(instantsOfWallClock(at(3, 29, 2, 30), "Europe/Berlin")).to.deep.equal([]);
        expect(instantsOfWallClock(at(1, 15, 7, 0), "Europe/Berlin").map(iso)).to.deep.equal([
            "2026-01-15T06:00:00.000Z",
        ]);
    });

    it("Berlin fall-back night (2026-10-25), end in the repeated hour: the next occurrence after now, in either pass", () => {
        // 02:00-03:00 happens twice: first in CEST (00:00-01:00 UTC), then in CET (01:00-02:00 UTC).
        const window = { start: "22:00", end: "02:30" };
        // 02:15 CEST (first pass): quiet until 02:30 CEST.
        expect(iso(quietHoursEnd(t("2026-10-25T00:15:00Z"), "Europe/Berlin", window))).to.equal(
            "2026-10-25T00:30:00.000Z",
        );
        // 02:15 CET (second pass): 02:30 CEST is past; quiet until 02:30 CET, not re-deferred a minute at a time.
        expect(iso(quietHoursEnd(t("2026-10-25T01:15:00Z"), "Europe/Berlin", window))).to.equal(
            "2026-10-25T01:30:00.000Z",
        );
        // 00:50 UTC is 02:50 CEST: past the end, not quiet (the second pass, 02:00 CET on, is quiet again).
        expect(quietHoursEnd(t("2026-10-25T00:50:00Z"), "Europe/Berlin", window)).to.equal(undefined);
        // A night window reaching past the overlap still ends once, at 07:00 CET.
        expect(iso(quietHoursEnd(t("2026-10-25T01:15:00Z"), "Europe/Berlin", night))).to.equal(
            "2026-10-25T06:00:00.000Z",
        );
    });

    it("New York fall-back night (2026-11-01), end in the repeated hour: first and second pass", () => {
        // 01:00-02:00 happens twice: first in EDT (05:00-06:00 UTC), then in EST (06:00-07:00 UTC).
        const window = { start: "22:00", end: "01:30" };
        expect(iso(quietHoursEnd(t("2026-11-01T05:10:00Z"), "America/New_York", window))).to.equal(
            "2026-11-01T05:30:00.000Z",
        );
        expect(iso(quietHoursEnd(t("2026-11-01T06:10:00Z"), "America/New_York", window))).to.equal(
            "2026-11-01T06:30:00.000Z",
        );
        // Quiet from the evening before: ends at the first 01:30.
        expect(iso(quietHoursEnd(t("2026-11-01T03:00:00Z"), "America/New_York", window))).to.equal(
            "2026-11-01T05:30:00.000Z",
        );
    });

    it("spring-forward nights still end after now when the end falls in the gap (Berlin and New York)", () => {
        // 02:30 does not exist: it ends at 03:30 daylight time, the gap's length later.
        expect(
            iso(quietHoursEnd(t("2026-03-28T23:30:00Z"), "Europe/Berlin", { start: "22:00", end: "02:30" })),
        ).to.equal("2026-03-29T01:30:00.000Z");
        expect(
            iso(quietHoursEnd(t("2026-03-08T06:45:00Z"), "America/New_York", { start: "01:00", end: "02:30" })),
        ).to.equal("2026-03-08T07:30:00.000Z");
    });

    it("ignores malformed windows and unknown time zones instead of blocking delivery", () => {
        expect(isValidQuietHours({ start: "25:00", end: "07:00" })).to.equal(false);
        expect(isValidQuietHours({ start: "07:00", end: "07:00" })).to.equal(false);
        expect(quietHoursEnd(t("2026-01-15T23:00:00Z"), "Mars/Olympus", night)).to.equal(undefined);
        expect(quietHoursEnd(t("2026-01-15T23:00:00Z"), "UTC", undefined)).to.equal(undefined);
    });
});
