// @ts-check
// The driver's actions that more than one screen offers: arriving at a stop
// and finishing a collection (with or without a signature). Screens call
// these; they never import each other.

import { deleteDraft, getDraft, getLocal, photosOfPickup, updateLocal } from "./db.js";
import { allPickupViews, enqueue, enqueueTogether } from "./outbox.js";
import { settings } from "./settings.js";
import { isDone, stopOf } from "./stops.js";
import { DONE_STATUSES, plural } from "./words.js";

/**
 * The door (stop) a pickup belongs to today, and those of its pickups still to do.
 * @param {number} pickupId
 */
export async function doorOf(pickupId) {
  const config = await settings();
  const stop = stopOf(await allPickupViews(), pickupId, config.timezone, isDone);
  return { stop, open: stop ? stop.pickups.filter((p) => !isDone(p)) : [] };
}

/**
 * The collections at a door as they were left: each open pickup with its saved draft (a new
 * draft where none was saved yet).
 * @param {any[]} open
 */
export async function doorDrafts(open) {
  return Promise.all(open.map(async (pickup) => ({
    pickup,
    draft: (await getDraft(collectionDraftKey(pickup.id))) || { key: collectionDraftKey(pickup.id), items: {} },
  })));
}

/**
 * The first action at a stop records the arrival (once).
 * @param {{id: number}} pickup
 */
export async function recordArrival(pickup) {
  const local = await getLocal(pickup.id);
  if (local.arrived_at) return;
  await updateLocal(pickup.id, { arrived_at: new Date().toISOString() });
  await enqueue("arrive", { pickup_id: pickup.id }, { pickupId: pickup.id });
}

/** @param {number} pickupId */
export function collectionDraftKey(pickupId) {
  return `collect:${pickupId}`;
}

/**
 * How many photos an item with this grade needs (the admins' photos_per_grade); 0 without a grade.
 * @param {string | null | undefined} grade
 * @param {import("./settings.js").Settings} config
 */
export function photosNeeded(grade, config) {
  return grade ? config.photosPerGrade[grade] || 0 : 0;
}

/**
 * What the item card says under the grades: "" when the grade needs no photo.
 * @param {string | null | undefined} grade
 * @param {import("./settings.js").Settings} config
 */
export function photosHint(grade, config) {
  const needed = photosNeeded(grade, config);
  if (!needed) return "";
  return needed === 1 ? "A photo is required for this grade." : `${needed} photos are required for this grade.`;
}

/**
 * Why a collection cannot finish without a signature, or null when it can.
 * @param {import("./settings.js").Settings} config
 * @param {boolean} signed
 */
function unsignedProblem(config, signed) {
  return config.signatureRequired && !signed ? "The customer must sign for this collection: continue to the signature." : null;
}

/**
 * The collect_items mutation from a draft; checks what must be there first.
 * @param {any} pickup
 * @param {any} draft
 * @param {import("./settings.js").Settings} config
 */
export async function buildCollection(pickup, draft, config) {
  const photos = (await photosOfPickup(pickup.id)).filter((/** @type {any} */ p) => p.state === "draft" && p.purpose === "item");
  /** @type {string[]} */
  const problems = [];
  const items = pickup.items.map((/** @type {any} */ item) => {
    const line = draft.items[item.id] || {};
    const quantity = line.quantity ?? item.quantity;
    const grade = quantity > 0 ? line.grade || null : null;
    const photoIds = photos.filter((/** @type {any} */ p) => p.item_id === item.id).map((/** @type {any} */ p) => p.id);
    if (quantity > 0 && !grade) problems.push(`Choose a grade for ${item.description}.`);
    const needed = quantity > 0 ? photosNeeded(grade, config) : 0;
    if (needed > photoIds.length) {
      problems.push(needed === 1
        ? `Take a photo of ${item.description} (grade ${grade} needs one).`
        : `Take ${plural(needed - photoIds.length, "more photo", "more photos")} of ${item.description} (grade ${grade} needs ${needed}, it has ${photoIds.length}).`);
    }
    return { item_id: item.id, quantity, grade, notes: (line.notes || "").trim(), photo_ids: photoIds };
  });
  if (items.every((/** @type {any} */ line) => line.quantity === 0)) problems.push("Nothing is marked as collected. If you could not collect anything, use “Could not collect”.");
  return { items, problems, photoIds: photos.map((/** @type {any} */ p) => p.id) };
}

/**
 * Queue the collection (and its photos); the draft goes.
 * @param {any} pickup
 * @param {any} draft
 * @param {{signaturePhotoId?: string | null, signedBy?: string | null}} [signature]
 */
export async function finishCollection(pickup, draft, { signaturePhotoId = null, signedBy = null } = {}) {
  const config = await settings();
  const { items, problems, photoIds } = await buildCollection(pickup, draft, config);
  const unsigned = unsignedProblem(config, Boolean(signaturePhotoId));
  if (unsigned) problems.push(unsigned);
  if (problems.length) return { ok: false, problems };
  /** @type {Record<string, any>} */
  const args = { pickup_id: pickup.id, items, signature_photo_id: signaturePhotoId };
  if (signedBy) args.handed_over_by = signedBy;
  await enqueue("collect_items", args, { pickupId: pickup.id, photoIds: signaturePhotoId ? [...photoIds, signaturePhotoId] : photoIds });
  await deleteDraft(collectionDraftKey(pickup.id));
  return { ok: true, problems: [] };
}

/**
 * What stops the collections at a door from being finished, each problem named by its pickup.
 * @param {{pickup: any, draft: any}[]} collections
 */
export async function checkCollections(collections) {
  const config = await settings();
  /** @type {string[]} */
  const problems = [];
  const built = [];
  for (const { pickup, draft } of collections) {
    const one = await buildCollection(pickup, draft, config);
    problems.push(...one.problems.map((problem) => (collections.length > 1 ? `${pickup.customer?.name || pickup.reference}: ${problem}` : problem)));
    built.push({ pickup, ...one });
  }
  return { problems, built };
}

/**
 * "Collect everything here": one collect_items per pickup of the stop, queued together (all or
 * none, never twice), each with its own items and grades and, when the door signed, its own copy
 * of the signature (a photo belongs to one pickup: the hub, the customer page and a certificate
 * each show a pickup's own proof); their drafts go.
 * @param {{pickup: any, draft: any}[]} collections
 * @param {{signatures?: Map<number, string>, signedBy?: string | null}} [signature]
 */
export async function finishCollections(collections, { signatures = new Map(), signedBy = null } = {}) {
  const { problems, built } = await checkCollections(collections);
  const unsigned = unsignedProblem(await settings(), collections.every(({ pickup }) => signatures.has(pickup.id)));
  if (unsigned) problems.push(unsigned);
  if (problems.length) return { ok: false, problems };
  const actions = built.map(({ pickup, items, photoIds }) => {
    const signaturePhotoId = signatures.get(pickup.id) || null;
    /** @type {Record<string, any>} */
    const args = { pickup_id: pickup.id, items, signature_photo_id: signaturePhotoId };
    if (signaturePhotoId && signedBy) args.handed_over_by = signedBy;
    return { name: "collect_items", args, pickupId: pickup.id, photoIds: signaturePhotoId ? [...photoIds, signaturePhotoId] : photoIds };
  });
  const written = await enqueueTogether(actions, { once: "collect_items", doneStatuses: DONE_STATUSES });
  if (!written) return { ok: false, problems: ["These pickups are already recorded as collected."] };
  for (const { pickup } of collections) await deleteDraft(collectionDraftKey(pickup.id));
  return { ok: true, problems: [] };
}
