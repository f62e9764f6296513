// @ts-check
// Photos: taken with the camera, shrunk on the phone to the server's size and
// quality, stored as ArrayBuffers with their SHA-256, shown as thumbnails,
// deletable until synced. photo-upload.js uploads them and deletes them only after
// the server confirmed it has them.

import { getMeta, photosOfPickup, putPhoto, removePhoto } from "./db.js";
import { h } from "./dom.js";
import { emit } from "./events.js";
import { currentLocation, isSharingLocation, shareLocation } from "./location.js";
import { settings } from "./settings.js";

// Room kept free for the phone itself; below this we refuse to take photos.
const MIN_FREE_BYTES = 25 * 1024 * 1024;

export class PhoneFullError extends Error {}

export async function checkQuota() {
  if (!navigator.storage || !navigator.storage.estimate) return;
  const { quota, usage } = await navigator.storage.estimate();
  if (quota && quota - usage < MIN_FREE_BYTES) {
    throw new PhoneFullError(
      "This phone is full: there is no room to keep another photo. Sync now (photos leave the phone once sent) or free space in the phone's settings."
    );
  }
}

export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function canvasBytes(canvas, type, quality) {
  if (canvas.convertToBlob) return (await canvas.convertToBlob({ type, quality })).arrayBuffer();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, type, quality));
  return blob.arrayBuffer();
}

// Scale so the long edge is at most `maxEdge` and re-encode as JPEG.
export async function shrinkImage(file, { maxEdge, quality }) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, maxEdge / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(width, height) : h("canvas", { width, height });
  const context = canvas.getContext("2d");
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return { bytes: await canvasBytes(canvas, "image/jpeg", quality), width, height, type: "image/jpeg" };
}

// Evidence of its own: when (the phone's clock as the photo is taken) and, if the driver allowed
// location, where. Sent with the upload (X-Captured-At, X-Location), shown to dispatch beside it.
export async function storePhoto({ bytes, type, width, height }, { pickupId, purpose, itemId = null }) {
  const captured_at = new Date().toISOString();
  const location = currentLocation();
  const photo = {
    id: crypto.randomUUID(),
    pickup_id: pickupId,
    purpose,
    item_id: itemId,
    bytes,
    type,
    width,
    height,
    size: bytes.byteLength,
    sha256: await sha256Hex(bytes),
    state: "draft",
    created_at: Date.now(),
    captured_at,
    location,
  };
  await putPhoto(photo);
  emit("changed", { pickupId });
  return photo;
}

// A photo from the camera input: checked against the quota, shrunk, stored.
export async function addPhotoFromFile(file, target) {
  await checkQuota();
  const { longEdge, quality } = (await settings()).photo;
  const shrunk = await shrinkImage(file, { maxEdge: longEdge, quality });
  return storePhoto(shrunk, target);
}

export async function photosFor(pickupId) {
  return photosOfPickup(pickupId);
}

export async function deletePhoto(photoId) {
  const photo = await removePhoto(photoId);
  if (!photo) return false;
  emit("changed", { pickupId: photo.pickup_id });
  return true;
}

// Object URLs for thumbnails; the screen revokes them when it closes.
export function thumbnailUrl(photo, urls) {
  const url = URL.createObjectURL(new Blob([photo.bytes], { type: photo.type }));
  urls.push(url);
  return url;
}

/**
 * The one time the app asks for location, with why; null once answered (either way) or already shared.
 * Refusing changes nothing else: photos and actions simply carry no place.
 * @param {{onAnswer?: () => void}} [options]
 */
export async function locationQuestion({ onAnswer } = {}) {
  if ((await getMeta("location_asked", false)) || (await isSharingLocation())) return null;
  const box = h("section", { class: "card location-question", id: "location-question", "aria-labelledby": "location-question-title" },
    h("h2", { id: "location-question-title" }, "Add where each photo is taken?"),
    h("p", {}, "Dispatch then sees on each photo and action that it was taken at the customer's door, which settles disputes. "
      + "The app reads your location only while it is open; you can change this on the route screen."),
    h("div", { class: "button-row" },
      h("button", { type: "button", id: "location-allow", class: "primary", onclick: () => answer(true) }, "Allow location"),
      h("button", { type: "button", id: "location-refuse", onclick: () => answer(false) }, "Not now")));
  async function answer(allowed) {
    await shareLocation(allowed);
    box.remove();
    if (onAnswer) onAnswer();
  }
  return box;
}

let inputCounter = 0;

// A "take photo" control with thumbnails, delete and retake, for one purpose/item.
/**
 * @param {{pickupId: number, purpose: string, itemId?: number | null, label: string, urls: string[], onChange?: (photos: any[]) => void, required?: boolean}} options
 */
export function photoField({ pickupId, purpose, itemId = null, label, urls, onChange, required = false }) {
  inputCounter += 1;
  const inputId = `photo-${inputCounter}`;
  const list = h("ul", { class: "thumbs", "aria-label": `${label}: photos` });
  const message = h("p", { class: "field-error", role: "alert", hidden: true });
  const input = h("input", {
    id: inputId, type: "file", accept: "image/*", capture: "environment", class: "visually-hidden",
    "data-purpose": purpose, "data-item": itemId ?? "",
  });
  const field = h("div", { class: "photo-field" },
    h("label", { for: inputId, class: "button photo-button" }, label, required ? " (required)" : ""),
    input, message, list);

  async function refresh() {
    const photos = (await photosFor(pickupId)).filter((p) => p.purpose === purpose && (p.item_id ?? null) === itemId);
    list.replaceChildren(...photos.map((photo, index) => h("li", { class: "thumb" },
      h("img", { src: thumbnailUrl(photo, urls), alt: `${label}, photo ${index + 1}`, width: 88, height: 88 }),
      photo.state === "draft"
        ? h("button", { type: "button", class: "small", "aria-label": `Delete ${label.toLowerCase()}, photo ${index + 1}`, onclick: async () => { await deletePhoto(photo.id); refresh(); } }, "Delete")
        : h("span", { class: "muted small-text" }, photo.state === "failed" ? "Refused" : "Waiting to send"))));
    field.dataset.count = String(photos.length);
    if (onChange) onChange(photos);
  }

  input.addEventListener("change", async () => {
    message.hidden = true;
    for (const file of input.files) {
      try {
        await addPhotoFromFile(file, { pickupId, purpose, itemId });
      } catch (error) {
        message.textContent = error instanceof PhoneFullError ? error.message : `This photo could not be used: ${error.message}`;
        message.hidden = false;
      }
    }
    input.value = "";
    refresh();
  });
  refresh();
  return field;
}
