// The outbox: every driver action becomes a mutation written to IndexedDB in
// one transaction (with its id, the pickup version it was based on, the device
// time and, when allowed, the location) before anything is sent anywhere.

import { db } from "./db.js";
import { currentLocation } from "./location.js";
import { emit } from "./ui.js";

// Queue one action. `photoIds` move from draft to queued (they will upload).
export async function enqueue(name, args, { pickupId, photoIds = [] } = {}) {
  const database = await db();
  const tx = database.transaction(["meta", "outbox", "pickups", "photos"], "readwrite");
  const meta = tx.objectStore("meta");
  const id = (await meta.get("next_mutation_id")) || 1;
  const pickup = pickupId ? await tx.objectStore("pickups").get(pickupId) : null;
  const mutation = {
    id,
    name,
    args,
    base_version: pickup ? pickup.version : null,
    device_time: new Date().toISOString(),
    location: currentLocation(),
    pickup_id: pickupId ?? null,
    created_at: Date.now(),
  };
  await meta.put(id + 1, "next_mutation_id");
  await tx.objectStore("outbox").add(mutation);
  const photos = tx.objectStore("photos");
  for (const photoId of photoIds) {
    const photo = await photos.get(photoId);
    if (photo) await photos.put({ ...photo, state: "queued", mutation_id: id });
  }
  await tx.done;
  emit("changed", { pickupId });
  emit("queued", mutation);
  return mutation;
}

// Undo the newest action while it has not been sent. Only the newest, so
// mutation ids stay gap-free; its photos go back to being drafts.
export async function undoLast(pickupId, { isSending }) {
  if (isSending()) return { ok: false, reason: "Sending right now. Try again in a moment." };
  const database = await db();
  const tx = database.transaction(["meta", "outbox", "photos"], "readwrite");
  const meta = tx.objectStore("meta");
  const next = (await meta.get("next_mutation_id")) || 1;
  const newest = await tx.objectStore("outbox").get(next - 1);
  if (!newest || newest.pickup_id !== pickupId || newest.sent) {
    tx.abort();
    return { ok: false, reason: "Only the newest action that has not been sent can be undone." };
  }
  await tx.objectStore("outbox").delete(newest.id);
  await meta.put(newest.id, "next_mutation_id");
  const photos = tx.objectStore("photos");
  for (const photo of await photos.index("pickup_id").getAll(pickupId)) {
    if (photo.mutation_id === newest.id) await photos.put({ ...photo, state: "draft", mutation_id: null });
  }
  await tx.done;
  emit("changed", { pickupId });
  return { ok: true, mutation: newest };
}

export async function pendingMutations() {
  return (await db()).getAll("outbox");
}

export async function mutationsFor(pickupId) {
  const database = await db();
  const pending = await database.getAllFromIndex("outbox", "pickup_id", pickupId);
  const acked = await database.getAllFromIndex("acked", "pickup_id", pickupId);
  return { pending, acked };
}

// What the driver sees: the server's pickup with the effect of the actions the
// server has not confirmed yet (or confirmed, but not yet shown in a pull).
export function pickupView(pickup, pending = [], acked = []) {
  const stillShowing = acked.filter((m) => m.base_version === null || m.base_version >= pickup.version);
  const mutations = [...stillShowing, ...pending].sort((a, b) => a.id - b.id);
  let view = { ...pickup, items: pickup.items.map((item) => ({ ...item })), pending: pending.length };
  for (const mutation of mutations) view = applyLocally(view, mutation);
  return view;
}

function applyLocally(view, mutation) {
  const args = mutation.args || {};
  if (mutation.name === "collect_items") {
    const byId = new Map((args.items || []).map((line) => [line.item_id, line]));
    let complete = true;
    const items = view.items.map((item) => {
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
  const database = await db();
  const [pickups, pending, acked] = await Promise.all([
    database.getAll("pickups"), database.getAll("outbox"), database.getAll("acked"),
  ]);
  return pickups.map((pickup) =>
    pickupView(pickup, pending.filter((m) => m.pickup_id === pickup.id), acked.filter((m) => m.pickup_id === pickup.id))
  );
}

export async function pickupViewById(pickupId) {
  const database = await db();
  const pickup = await database.get("pickups", pickupId);
  if (!pickup) return null;
  const { pending, acked } = await mutationsFor(pickupId);
  return pickupView(pickup, pending, acked);
}

// What is waiting to go: the sync badge and the logout guard read this.
export async function unsyncedSummary() {
  const database = await db();
  const [mutations, photos] = await Promise.all([database.getAll("outbox"), database.getAll("photos")]);
  const waitingPhotos = photos.filter((p) => p.state === "queued");
  const failedPhotos = photos.filter((p) => p.state === "failed");
  const drafts = photos.filter((p) => p.state === "draft");
  const times = [...mutations.map((m) => m.created_at), ...waitingPhotos.map((p) => p.created_at)];
  return {
    actions: mutations.length,
    photos: waitingPhotos.length,
    failedPhotos: failedPhotos.length,
    draftPhotos: drafts.length,
    oldest: times.length ? Math.min(...times) : null,
    total: mutations.length + waitingPhotos.length + failedPhotos.length,
  };
}
