// @ts-check
// The outbox: every driver action becomes a mutation written to IndexedDB in
// one transaction (with its id, the pickup version it was based on, the device
// time and, when allowed, the location) before anything is sent anywhere.
// Whether a mutation is being sent is its `sent` flag in the outbox (set by
// push.js in the transaction that picks the batch), nowhere else.
// Also: the pickups as the driver sees them, with their unsent actions applied.

import { addMutation, addMutations, getPickup, mutationsFor, pickupsWithMutations, removeNewestUnsent, unsentWork } from "./db.js";
import { emit } from "./events.js";
import { currentLocation } from "./location.js";

/**
 * Queue one action. `photoIds` move from draft to queued (they will upload).
 * @param {string} name
 * @param {Record<string, any>} args
 * @param {{pickupId?: number, photoIds?: string[]}} [options]
 */
export async function enqueue(name, args, { pickupId, photoIds = [] } = {}) {
  const mutation = await addMutation(
    { name, args, device_time: new Date().toISOString(), location: currentLocation(), pickup_id: pickupId ?? null },
    photoIds,
  );
  emit("changed", { pickupId });
  emit("queued", mutation);
  return mutation;
}

/**
 * Queue one action per pickup together (all or none): one mutation each, so every pickup is
 * still recorded as its own. Null when one of them already has `once` queued or is done.
 * @param {{name: string, args: Record<string, any>, pickupId: number, photoIds?: string[]}[]} actions
 * @param {{once?: string, doneStatuses?: Set<string>}} [options]
 */
export async function enqueueTogether(actions, options = {}) {
  const device_time = new Date().toISOString();
  const location = currentLocation();
  const written = await addMutations(
    actions.map(({ name, args, pickupId, photoIds = [] }) => ({ name, args, device_time, location, pickup_id: pickupId, photoIds })),
    options,
  );
  if (!written) return null;
  for (const mutation of written) {
    emit("changed", { pickupId: mutation.pickup_id });
    emit("queued", mutation);
  }
  return written;
}

/**
 * Undo the newest action while no push has carried it. Only the newest, so
 * mutation ids stay gap-free; its photos go back to being drafts.
 * @param {number} pickupId
 */
export async function undoLast(pickupId) {
  const mutation = await removeNewestUnsent(pickupId);
  if (!mutation) return { ok: false, reason: "Only the newest action that has not been sent can be undone." };
  emit("changed", { pickupId });
  return { ok: true, mutation };
}

export { mutationsFor };

/**
 * What the driver sees: the server's pickup with the effect of the actions the
 * server has not confirmed yet (or confirmed, but not yet shown in a pull).
 * @param {any} pickup
 * @param {any[]} pending
 * @param {any[]} acked
 */
export function pickupView(pickup, pending = [], acked = []) {
  const stillShowing = acked.filter((m) => m.base_version === null || m.base_version >= pickup.version);
  const mutations = [...stillShowing, ...pending].sort((a, b) => a.id - b.id);
  let view = { ...pickup, items: pickup.items.map((/** @type {any} */ item) => ({ ...item })), pending: pending.length };
  for (const mutation of mutations) view = applyLocally(view, mutation);
  return view;
}

/**
 * @param {any} view
 * @param {any} mutation
 */
function applyLocally(view, mutation) {
  const args = mutation.args || {};
  if (mutation.name === "collect_items") {
    const byId = new Map((args.items || []).map((/** @type {any} */ line) => [line.item_id, line]));
    let complete = true;
    const items = view.items.map((/** @type {any} */ item) => {
      const line = byId.get(item.id);
      const quantity = line ? line.quantity : 0;
      if (quantity < item.quantity) complete = false;
      return { ...item, collected_quantity: quantity, grade: line ? line.grade : null, condition_notes: line ? line.notes : null };
    });
    return { ...view, items, status: complete ? "collected" : "partially_collected" };
  }
  if (mutation.name === "fail_pickup") {
    return { ...view, status: "failed", failure_reason: args.reason, failure_notes: args.notes };
  }
  return view;
}

export async function allPickupViews() {
  const { pickups, pending, acked } = await pickupsWithMutations();
  return pickups.map((/** @type {any} */ pickup) =>
    pickupView(pickup, pending.filter((/** @type {any} */ m) => m.pickup_id === pickup.id), acked.filter((/** @type {any} */ m) => m.pickup_id === pickup.id))
  );
}

/** @param {number} pickupId */
export async function pickupViewById(pickupId) {
  const pickup = await getPickup(pickupId);
  if (!pickup) return null;
  const { pending, acked } = await mutationsFor(pickupId);
  return pickupView(pickup, pending, acked);
}

// What is waiting to go: the sync badge and the logout guard read this.
export async function unsyncedSummary() {
  const { mutations, photos } = await unsentWork();
  const waitingPhotos = photos.filter((/** @type {any} */ p) => p.state === "queued");
  const failedPhotos = photos.filter((/** @type {any} */ p) => p.state === "failed");
  const drafts = photos.filter((/** @type {any} */ p) => p.state === "draft");
  const times = [...mutations.map((/** @type {any} */ m) => m.created_at), ...waitingPhotos.map((/** @type {any} */ p) => p.created_at)];
  return {
    actions: mutations.length,
    photos: waitingPhotos.length,
    failedPhotos: failedPhotos.length,
    draftPhotos: drafts.length,
    oldest: times.length ? Math.min(...times) : null,
    total: mutations.length + waitingPhotos.length + failedPhotos.length,
  };
}
