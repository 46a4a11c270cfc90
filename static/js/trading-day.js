// The CBOT trading day runs 17:00–16:00 America/Chicago: a fill at or after 17:00 CT belongs to
// the next day. The ladder's "today" volume starts at that boundary.

const CHICAGO = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Chicago", hourCycle: "h23",
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
});

/** Epoch milliseconds of the start of the trading day that contains `now`. */
export function tradingDayStart(now = Date.now()) {
  const parts = Object.fromEntries(CHICAGO.formatToParts(now).map(({ type, value }) => [type, Number(value)]));
  const wallClock = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  const offset = wallClock - Math.floor(now / 1000) * 1000; // Chicago minus UTC, whole seconds
  const startDay = parts.hour >= 17 ? parts.day : parts.day - 1;
  return Date.UTC(parts.year, parts.month - 1, startDay, 17, 0, 0) - offset;
}

/** True when an ISO time falls in the trading day that starts at `dayStart`; unknown times count. */
export function inTradingDay(isoTime, dayStart) {
  const time = Date.parse(isoTime);
  return Number.isNaN(time) || time >= dayStart;
}
