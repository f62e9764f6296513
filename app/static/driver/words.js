// @ts-check
// The app's own wording: pickup statuses, action names, times and counts.
// Grades and failure reasons are not here: their labels come from the
// server's pull (settings.js), so the phone and the console say the same.

/** @type {Record<string, string>} */
export const STATUS_WORDS = {
  unassigned: "Not assigned",
  assigned: "To do",
  collected: "Collected",
  partially_collected: "Partly collected",
  failed: "Failed",
  cancelled: "Cancelled",
  received: "At the hub",
};

export const DONE_STATUSES = new Set(["collected", "partially_collected", "failed", "cancelled", "received"]);

/** The mutations (docs/sync-protocol.md §5) in the driver's words. */
/** @type {Record<string, string>} */
export const ACTION_WORDS = {
  arrive: "Arrival",
  scan_label: "Label scanned",
  collect_items: "Collection",
  fail_pickup: "Failed pickup",
};

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });

/** @param {string | number | Date | null | undefined} value */
export function fmtTime(value) {
  if (!value) return "";
  return timeFormat.format(value instanceof Date ? value : new Date(value));
}

/** @param {string | number | Date} value */
export function fmtDay(value) {
  return dayFormat.format(value instanceof Date ? value : new Date(value));
}

/** @param {{start: string, end: string} | null | undefined} window */
export function fmtWindow(window) {
  if (!window) return "";
  return `${fmtTime(window.start)}–${fmtTime(window.end)}`;
}

/** @param {number} ms */
export function fmtAge(ms) {
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return "<1 min";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

/**
 * @param {number} n
 * @param {string} one
 * @param {string} many
 */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** The route's day headings: today, tomorrow, then the date. */
export const DAY_WORDS = { today: "Today", tomorrow: "Tomorrow", earlier: "From" };

const dateFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" });

/**
 * A "YYYY-MM-DD" day in the driver's words: "Today", "Tomorrow", or "Friday 4 December".
 * @param {string} day
 * @param {string} today
 */
export function dayHeading(day, today) {
  if (day === today) return DAY_WORDS.today;
  const noonUtc = (/** @type {string} */ d) => Date.parse(`${d}T12:00:00Z`);
  if (Math.round((noonUtc(day) - noonUtc(today)) / 86400000) === 1) return `${DAY_WORDS.tomorrow} · ${fmtDate(day)}`;
  return fmtDate(day);
}

/** @param {string} day "YYYY-MM-DD" */
export function fmtDate(day) {
  return dateFormat.format(new Date(`${day}T12:00:00Z`));
}
