// @ts-check
// Photo upload: one photo at a time, by its UUID, with its SHA-256
// (docs/sync-protocol.md §6). The bytes leave the phone only once the server
// confirmed it has them; a refused photo is kept and shown, not retried.

import { OfflineError, request } from "./api.js";
import { photosDueForUpload, removePhoto, updatePhoto } from "./db.js";
import { emit } from "./events.js";

const BACKOFF_MAX_MS = 5 * 60 * 1000;

/**
 * Upload what is due. Returns in how many ms to try again (a photo backed
 * off), or null when nothing is left waiting for a retry.
 * @returns {Promise<number | null>}
 */
export async function uploadPhotos() {
  for (;;) {
    const [photo] = await photosDueForUpload();
    if (!photo) return null;
    let response;
    try {
      response = await request("PUT", `/api/v1/photos/${photo.id}`, { body: photo.bytes, headers: uploadHeaders(photo) });
    } catch (error) {
      if (error instanceof OfflineError) await backOff(photo);
      throw error;
    }
    if (response.status === 200 || response.status === 201) {
      await removePhoto(photo.id, { uploaded: true });
      emit("changed", { pickupId: photo.pickup_id });
    } else if ([409, 413, 415, 422].includes(response.status)) {
      let message = `The server refused this photo (${response.status}).`;
      try { message = (await response.json()).error.message || message; } catch { /* keep ours */ }
      await updatePhoto(photo.id, { state: "failed", error: message });
      emit("changed", { pickupId: photo.pickup_id });
    } else {
      return backOff(photo);
    }
  }
}

/**
 * The photo's hash and, when the phone knows them, when and where it was taken (docs/sync-protocol.md §6).
 * @param {any} photo
 * @returns {Record<string, string>}
 */
export function uploadHeaders(photo) {
  /** @type {Record<string, string>} */
  const headers = { "Content-Type": photo.type, "X-Content-SHA256": photo.sha256 };
  if (photo.captured_at) headers["X-Captured-At"] = photo.captured_at;
  const where = photo.location;
  if (where && Number.isFinite(where.lat) && Number.isFinite(where.lon)) {
    headers["X-Location"] = `geo:${where.lat.toFixed(6)},${where.lon.toFixed(6)}`
      + (Number.isFinite(where.accuracy_m) ? `;u=${Math.round(where.accuracy_m * 10) / 10}` : "");
  }
  return headers;
}

/** @param {any} photo */
async function backOff(photo) {
  const attempts = (photo.attempts || 0) + 1;
  const delay = Math.min(2000 * 2 ** attempts, BACKOFF_MAX_MS);
  await updatePhoto(photo.id, { attempts, next_try: Date.now() + delay });
  return delay;
}
