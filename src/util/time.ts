/** A clock passed in as a dependency so tests can move time. */
export interface Clock {
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/** Month index (0-11) of an English three-letter abbreviation, or -1. */
export function monthIndex(abbrev: string): number {
  return (MONTHS as readonly string[]).indexOf(abbrev);
}

/** "YYYY-MM-DD" of a UTC calendar date. */
export function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, "0")}-${String(month + 1).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** True when year/month/day name a real calendar day. */
export function isValidDay(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || month < 0 || month > 11 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 1 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month]!);
}
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** "Dec 12, 2024" for an ISO date. */
export function longDate(iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  return `${MONTHS[(m ?? 1) - 1]} ${d}, ${y}`;
}

/**
 * The most recent year in which month/day falls on or before `notAfter` (ISO date),
 * for dates the page prints without a year.
 */
export function resolveYear(month: number, day: number, notAfter: string): number | undefined {
  const [y, m, d] = notAfter.split("-").map(Number) as [number, number, number];
  let year = month + 1 < m || (month + 1 === m && day <= d) ? y : y - 1;
  // Feb 29 needs a leap year; look back at most eight years.
  for (let i = 0; i < 8; i++, year--) if (isValidDay(year, month, day)) return year;
  return undefined;
}

/**
 * The year of a page date printed without one: the date closest to the capture
 * time that is not more than two days after it (a page is never captured before
 * its day starts somewhere on Earth). A page dated "Dec 13" captured at
 * 2024-12-12T23:00Z is 2024-12-13; "Jan 1" captured on Dec 31 is in the next year.
 */
export function closestYear(month: number, day: number, at: Date): number | undefined {
  const latest = at.getTime() + 2 * 86400_000;
  for (let year = at.getUTCFullYear() + 1, i = 0; i < 10; i++, year--) {
    if (isValidDay(year, month, day) && Date.UTC(year, month, day) <= latest) return year;
  }
  return undefined;
}

/** A moment as an operator reads it: "Dec 4, 2026, 22:15 UTC" (ISO strings are for --json). */
export function displayTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return iso;
  return `${longDate(d.toISOString().slice(0, 10))}, ${d.toISOString().slice(11, 16)} UTC`;
}

/** "Dec 12" of an ISO date (a list day: a calendar date, no time zone). */
export function shortDay(iso: string): string {
  const [, m, d] = iso.split("-").map(Number);
  return `${MONTHS[(m ?? 1) - 1]} ${d}`;
}

/** The list days from..through: "Dec 12", "Dec 12-15", "Nov 30 – Dec 2", or with the years when they differ: "Dec 30, 2024 – Jan 2, 2025". */
export function dayRange(from: string, through: string): string {
  if (from === through) return shortDay(from);
  if (from.slice(0, 7) === through.slice(0, 7)) return `${shortDay(from)}-${Number(through.slice(8, 10))}`;
  if (from.slice(0, 4) !== through.slice(0, 4)) return `${shortDay(from)}, ${from.slice(0, 4)} – ${shortDay(through)}, ${through.slice(0, 4)}`;
  return `${shortDay(from)} – ${shortDay(through)}`;
}
