// @ts-check
// What the server tells the phone to obey (docs/sync-protocol.md §8,
// app/sync/settings.py): sent with every pull, stored by pull.js, read only
// here. Every key read below is one the pull carries
// (tests/driver/test_vocabulary.py checks it), and grades and failure reasons
// come with the server's own labels.

import { readSettings } from "./db.js";

/**
 * Until the first pull lands: the server's defaults, word for word (the test
 * compares this block with what the server sends).
 */
// settings-fallback:start
const FALLBACK = {
  "schema_version": 1,
  "poll_seconds": 60,
  "max_batch": 1000,
  "clock_skew_flag_seconds": 300,
  "photo": {"long_edge": 1600, "jpeg_quality": 0.8, "max_bytes": 15728640, "types": ["image/jpeg", "image/png", "image/webp"]},
  "photos_per_grade": {"A": 0, "B": 0, "C": 1, "D": 1},
  "photo_required_grades": ["C", "D"],
  "signature_required": false,
  "grades": [
    {"code": "A", "label": "As new, sealed or unused"},
    {"code": "B", "label": "Good, light wear"},
    {"code": "C", "label": "Visible damage or faults"},
    {"code": "D", "label": "Broken or incomplete"}
  ],
  "failure_reasons": [
    {"code": "not_home", "label": "Nobody home"},
    {"code": "refused", "label": "Customer refused"},
    {"code": "item_not_ready", "label": "Item not ready"},
    {"code": "wrong_item", "label": "Wrong item"},
    {"code": "address_problem", "label": "Address problem"},
    {"code": "unsafe", "label": "Unsafe to collect"},
    {"code": "other", "label": "Other (say what happened)"}
  ],
  "days_ahead": 2
};
// settings-fallback:end

// The phone never sends more than this in one push, whatever the server allows.
const PHONE_MAX_BATCH = 200;

/** @typedef {{code: string, label: string}} Term */

/**
 * @typedef {object} Settings
 * @property {number} schemaVersion
 * @property {number} pollSeconds
 * @property {number} maxBatch
 * @property {{longEdge: number, quality: number, maxBytes: number}} photo
 * @property {Record<string, number>} photosPerGrade how many photos an item of each grade needs
 * @property {boolean} signatureRequired whether a collection may finish without the customer's signature
 * @property {Term[]} grades
 * @property {Term[]} failureReasons
 * @property {number} daysAhead
 * @property {string} timezone the driver's hub's: where "today" ends
 */

/** @returns {Promise<Settings>} */
export async function settings() {
  const stored = (await readSettings()) || {};
  const server = { ...FALLBACK, ...stored };
  const photo = { ...FALLBACK.photo, ...(server.photo || {}) };
  let quality = photo.jpeg_quality;
  if (quality > 1) quality /= 100;
  return {
    schemaVersion: server.schema_version,
    pollSeconds: server.poll_seconds,
    maxBatch: Math.min(server.max_batch, PHONE_MAX_BATCH),
    photo: { longEdge: photo.long_edge, quality, maxBytes: photo.max_bytes },
    photosPerGrade: photosPerGrade(stored, server),
    signatureRequired: Boolean(server.signature_required),
    grades: server.grades,
    failureReasons: server.failure_reasons,
    daysAhead: server.days_ahead,
    // Until a pull names the hub's zone, the phone's own is the best guess.
    timezone: server.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
}

/**
 * Photos per grade; settings stored by a pull from before the count had only the grades that
 * need one (an app updated before its next pull reads those until then).
 * @param {any} stored what the last pull kept
 * @param {any} server the same over the fallback
 * @returns {Record<string, number>}
 */
function photosPerGrade(stored, server) {
  if (stored.photos_per_grade || !stored.photo_required_grades) return server.photos_per_grade;
  return Object.fromEntries(server.grades.map((/** @type {Term} */ grade) => [grade.code, server.photo_required_grades.includes(grade.code) ? 1 : 0]));
}

/**
 * The server's label for a code ("A" → "As new, sealed or unused"), or the code.
 * @param {Term[]} terms
 * @param {string | null | undefined} code
 */
export function labelFor(terms, code) {
  return terms.find((term) => term.code === code)?.label || code || "";
}
