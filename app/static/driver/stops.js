// @ts-check
// The route as the driver drives it: pickups by day (the driver's hub's calendar, from the
// pull's settings) and, within a day, one stop per door: pickups at the same address on the
// same day are one stop (an office, a shop, a block of flats), in the order of its first pickup.
// Pure: no DOM, no storage.

import { DONE_STATUSES } from "./words.js";

/** Done for the route: collected, failed or cancelled, or taken off this driver's route. */
export const isDone = (/** @type {any} */ p) => DONE_STATUSES.has(p.status) || Boolean(p.removed);

/** @type {Map<string, Intl.DateTimeFormat>} */
const dayFormats = new Map();

/**
 * The calendar day of a moment in a timezone, as "YYYY-MM-DD" (sortable).
 * @param {string | number | Date} value
 * @param {string} timeZone
 */
export function dayKey(value, timeZone) {
  let format = dayFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    } catch {
      format = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" });
    }
    dayFormats.set(timeZone, format);
  }
  return format.format(value instanceof Date ? value : new Date(value));
}

/**
 * Where the van stops: the street address, without the flat or floor (line 2).
 * @param {any} pickup
 */
export function doorKey(pickup) {
  const a = pickup.address || {};
  const clean = (/** @type {any} */ text) => String(text || "").trim().toLowerCase().replace(/\s+/g, " ");
  return [clean(a.line1), clean(a.postcode).replace(/ /g, ""), clean(a.country)].join("|");
}

/**
 * @typedef {object} Stop
 * @property {string} key day and door
 * @property {string} day "YYYY-MM-DD"
 * @property {any[]} pickups in route order
 * @property {boolean} done every pickup of it is done
 */

/**
 * Pickups (already in route order) as stops, each day's in the order of their first pickup.
 * @param {any[]} pickups
 * @param {string} timeZone
 * @param {(pickup: any) => boolean} isDone
 * @returns {Stop[]}
 */
export function groupStops(pickups, timeZone, isDone) {
  /** @type {Map<string, Stop>} */
  const stops = new Map();
  for (const pickup of pickups) {
    const day = dayKey(pickup.window?.start || Date.now(), timeZone);
    const key = `${day}|${doorKey(pickup)}`;
    const stop = stops.get(key) || { key, day, pickups: [], done: true };
    stop.pickups.push(pickup);
    stop.done = stop.done && isDone(pickup);
    stops.set(key, stop);
  }
  return [...stops.values()];
}

/**
 * The stop a pickup is part of, with the pickups it shares the door with that day.
 * @param {any[]} pickups
 * @param {number} pickupId
 * @param {string} timeZone
 * @param {(pickup: any) => boolean} isDone
 */
export function stopOf(pickups, pickupId, timeZone, isDone) {
  return groupStops(pickups, timeZone, isDone).find((stop) => stop.pickups.some((p) => p.id === pickupId)) || null;
}
