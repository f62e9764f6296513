// @ts-check
// The phone's own store (IndexedDB through `idb`). Everything the driver does
// lands here first; the sync modules move it to the server later. This module
// owns every store: the others call the named functions below and never open
// a transaction themselves, so each rule about the stores lives in one place.
//
// pickups  server's pickups as last pulled (keyPath id)
// outbox   mutations not yet acknowledged, ids counting up from 1 (keyPath id);
//          `sent: true` once a push carried it: the one answer to "is it being sent"
// acked    acknowledged mutations whose effect the last pull has not shown yet
// photos   photo bytes as ArrayBuffers (Safari fails on Blobs), until the server has them
// notices  rejections and other news shown on a pickup
// labels   label renderings fetched while online, for printing offline
// drafts   a collection or failure being filled in
// local    facts only this phone needs (label scanned, arrived)
// meta     client_id, next_mutation_id, cursor, user, settings, last_synced_at, share_location, location_asked

import { openDB } from "../vendor/idb/index.js";

const DB_NAME = "backhaul-driver";
const DB_VERSION = 1;
const STORES = ["pickups", "outbox", "acked", "photos", "notices", "labels", "drafts", "local", "meta"];

/** @type {Promise<any> | null} */
let opened = null;

/** @returns {Promise<any>} the open database (tests read stores through it) */
export function db() {
  if (!opened) {
    opened = openDB(DB_NAME, DB_VERSION, {
      /** @param {any} database */
      upgrade(database) {
        database.createObjectStore("meta");
        database.createObjectStore("pickups", { keyPath: "id" });
        database.createObjectStore("outbox", { keyPath: "id" }).createIndex("pickup_id", "pickup_id");
        database.createObjectStore("acked", { keyPath: "id" }).createIndex("pickup_id", "pickup_id");
        const photos = database.createObjectStore("photos", { keyPath: "id" });
        photos.createIndex("pickup_id", "pickup_id");
        photos.createIndex("state", "state");
        database.createObjectStore("notices", { keyPath: "nid", autoIncrement: true }).createIndex("pickup_id", "pickup_id");
        database.createObjectStore("labels", { keyPath: "pickup_id" });
        database.createObjectStore("drafts", { keyPath: "key" });
        database.createObjectStore("local", { keyPath: "pickup_id" });
      },
      blocking() {
        // A newer app version wants to upgrade the store: let it.
        opened?.then((database) => database.close());
        opened = null;
      },
    });
  }
  return opened;
}

// ---- meta ------------------------------------------------------------------

/**
 * @param {string} key
 * @param {any} [fallback]
 */
export async function getMeta(key, fallback = undefined) {
  const value = await (await db()).get("meta", key);
  return value === undefined ? fallback : value;
}

/**
 * @param {string} key
 * @param {any} value
 */
export async function setMeta(key, value) {
  return (await db()).put("meta", value, key);
}

export async function clientId() {
  let id = await getMeta("client_id");
  if (!id) {
    id = crypto.randomUUID();
    await setMeta("client_id", id);
  }
  return id;
}

/** The settings of the last pull, as the server sent them (settings.js reads them). */
export async function readSettings() {
  return getMeta("settings");
}

// ---- local facts and drafts ----------------------------------------------------

/** @param {number} pickupId */
export async function getLocal(pickupId) {
  return (await (await db()).get("local", pickupId)) || { pickup_id: pickupId };
}

/**
 * @param {number} pickupId
 * @param {Record<string, any>} changes
 */
export async function updateLocal(pickupId, changes) {
  const tx = (await db()).transaction("local", "readwrite");
  const current = (await tx.store.get(pickupId)) || { pickup_id: pickupId };
  await tx.store.put({ ...current, ...changes });
  await tx.done;
}

/** @param {string} key */
export async function getDraft(key) {
  return (await db()).get("drafts", key);
}

/** @param {{key: string} & Record<string, any>} draft */
export async function putDraft(draft) {
  return (await db()).put("drafts", draft);
}

/** @param {string} key */
export async function deleteDraft(key) {
  return (await db()).delete("drafts", key);
}

// ---- pickups -----------------------------------------------------------------

/** @param {number} pickupId */
export async function getPickup(pickupId) {
  return (await db()).get("pickups", pickupId);
}

/** Every pickup with the outbox and the acknowledged mutations, read together. */
export async function pickupsWithMutations() {
  const tx = (await db()).transaction(["pickups", "outbox", "acked"]);
  const [pickups, pending, acked] = await Promise.all([
    tx.objectStore("pickups").getAll(), tx.objectStore("outbox").getAll(), tx.objectStore("acked").getAll(),
  ]);
  await tx.done;
  return { pickups, pending, acked };
}

// ---- outbox --------------------------------------------------------------------

/**
 * Write one mutation with the next id, based on the pickup's current version;
 * `photoIds` move from draft to queued (they will upload). One transaction.
 * @param {{name: string, args: Record<string, any>, device_time: string, location: any, pickup_id: number | null}} fields
 * @param {string[]} photoIds
 */
export async function addMutation(fields, photoIds = []) {
  const tx = (await db()).transaction(["meta", "outbox", "pickups", "photos"], "readwrite");
  const meta = tx.objectStore("meta");
  const id = (await meta.get("next_mutation_id")) || 1;
  const pickup = fields.pickup_id ? await tx.objectStore("pickups").get(fields.pickup_id) : null;
  const mutation = { id, ...fields, base_version: pickup ? pickup.version : null, created_at: Date.now() };
  await meta.put(id + 1, "next_mutation_id");
  await tx.objectStore("outbox").add(mutation);
  const photos = tx.objectStore("photos");
  for (const photoId of photoIds) {
    const photo = await photos.get(photoId);
    if (photo) await photos.put({ ...photo, state: "queued", mutation_id: id });
  }
  await tx.done;
  return mutation;
}

/**
 * Write several mutations with consecutive ids in one transaction: all of them or none, so a
 * reload or a crash never leaves half of a "collect everything here". When `once` names a
 * mutation and any of these pickups already has one queued or acknowledged, or is done, nothing
 * is written and null is returned (a second tap records nothing twice).
 * @param {{name: string, args: Record<string, any>, device_time: string, location: any, pickup_id: number | null, photoIds?: string[]}[]} list
 * @param {{once?: string, doneStatuses?: Set<string>}} [options]
 */
export async function addMutations(list, { once, doneStatuses } = {}) {
  const tx = (await db()).transaction(["meta", "outbox", "acked", "pickups", "photos"], "readwrite");
  const meta = tx.objectStore("meta");
  let id = (await meta.get("next_mutation_id")) || 1;
  const written = [];
  for (const { photoIds = [], ...fields } of list) {
    const pickup = fields.pickup_id ? await tx.objectStore("pickups").get(fields.pickup_id) : null;
    if (once && fields.pickup_id) {
      const earlier = [
        ...(await tx.objectStore("outbox").index("pickup_id").getAll(fields.pickup_id)),
        ...(await tx.objectStore("acked").index("pickup_id").getAll(fields.pickup_id)),
      ];
      if (earlier.some((m) => m.name === once) || (pickup && doneStatuses?.has(pickup.status))) {
        tx.abort();
        await tx.done.catch(() => {});
        return null;
      }
    }
    const mutation = { id, ...fields, base_version: pickup ? pickup.version : null, created_at: Date.now() };
    await tx.objectStore("outbox").add(mutation);
    const photos = tx.objectStore("photos");
    for (const photoId of photoIds) {
      const photo = await photos.get(photoId);
      if (photo) await photos.put({ ...photo, state: "queued", mutation_id: id });
    }
    written.push(mutation);
    id += 1;
  }
  await meta.put(id, "next_mutation_id");
  await tx.done;
  return written;
}

/**
 * Remove the newest mutation if it is this pickup's and no push carried it yet;
 * its photos go back to being drafts. Returns it, or null.
 * @param {number} pickupId
 */
export async function removeNewestUnsent(pickupId) {
  const tx = (await db()).transaction(["meta", "outbox", "photos"], "readwrite");
  const meta = tx.objectStore("meta");
  const next = (await meta.get("next_mutation_id")) || 1;
  const newest = await tx.objectStore("outbox").get(next - 1);
  if (!newest || newest.pickup_id !== pickupId || newest.sent) {
    tx.abort();
    await tx.done.catch(() => {});
    return null;
  }
  await tx.objectStore("outbox").delete(newest.id);
  await meta.put(newest.id, "next_mutation_id");
  const photos = tx.objectStore("photos");
  for (const photo of await photos.index("pickup_id").getAll(pickupId)) {
    if (photo.mutation_id === newest.id) await photos.put({ ...photo, state: "draft", mutation_id: null });
  }
  await tx.done;
  return newest;
}

/**
 * The oldest `limit` mutations, marked as sent in the same transaction that
 * reads them: from here on they can no longer be undone, even if the answer is
 * lost, and an undo that came first is never resurrected.
 * @param {number} limit
 */
export async function takeBatchToSend(limit) {
  const tx = (await db()).transaction("outbox", "readwrite");
  const batch = (await tx.store.getAll()).sort((/** @type {any} */ a, /** @type {any} */ b) => a.id - b.id).slice(0, limit);
  for (const mutation of batch) if (!mutation.sent) await tx.store.put({ ...mutation, sent: true });
  await tx.done;
  return batch.map((/** @type {any} */ mutation) => ({ ...mutation, sent: true }));
}

/** @param {number} pickupId */
export async function mutationsFor(pickupId) {
  const tx = (await db()).transaction(["outbox", "acked"]);
  const pending = await tx.objectStore("outbox").index("pickup_id").getAll(pickupId);
  const acked = await tx.objectStore("acked").index("pickup_id").getAll(pickupId);
  await tx.done;
  return { pending, acked };
}

/**
 * A push's answer: processed mutations leave the outbox, rejected ones become
 * notices, accepted ones stay overlaid (acked) until a pull shows them.
 * Returns whether the answer covered any of the batch.
 * @param {any[]} batch
 * @param {{results?: any[], last_mutation_id?: number}} answer
 */
export async function applyPushResults(batch, answer) {
  const results = new Map((answer.results || []).map((r) => [r.id, r]));
  const tx = (await db()).transaction(["outbox", "acked", "notices", "meta"], "readwrite");
  const lastId = answer.last_mutation_id ?? 0;
  let progressed = false;
  for (const mutation of batch) {
    const result = results.get(mutation.id);
    if (!result && mutation.id > lastId) continue;
    progressed = true;
    await tx.objectStore("outbox").delete(mutation.id);
    const rejected = result && (result.status === "rejected" || (result.status === "duplicate" && result.original_status === "rejected"));
    if (rejected) {
      await tx.objectStore("notices").add({
        pickup_id: mutation.pickup_id,
        mutation_id: mutation.id,
        name: mutation.name,
        code: result.code || "rejected",
        message: result.message || "The server did not accept this action.",
        at: new Date().toISOString(),
      });
    } else {
      await tx.objectStore("acked").put({ ...mutation, acked_at: Date.now() });
    }
  }
  // The server's counter is the floor for ours: never reuse an id it has seen.
  const meta = tx.objectStore("meta");
  const next = (await meta.get("next_mutation_id")) || 1;
  if (lastId >= next) await meta.put(lastId + 1, "next_mutation_id");
  await tx.done;
  return progressed;
}

// ---- pull ------------------------------------------------------------------------

/**
 * One pull's answer (docs/sync-protocol.md §7), applied in one transaction with
 * its cursor and settings, so a cut connection never leaves half a pull.
 * @param {{cursor: number, reset: boolean, changes: any[], settings: any}} answer
 */
export async function applyPull(answer) {
  const tx = (await db()).transaction(["pickups", "acked", "outbox", "photos", "notices", "meta"], "readwrite");
  const pickups = tx.objectStore("pickups");
  // A pickup that left the route stays visible while this phone still holds work for it,
  // so the driver sees why (e.g. "cancelled by dispatch") next to what they recorded.
  /** @param {number} pickupId */
  const holdsWork = async (pickupId) =>
    (await tx.objectStore("outbox").index("pickup_id").count(pickupId))
    + (await tx.objectStore("photos").index("pickup_id").count(pickupId))
    + (await tx.objectStore("notices").index("pickup_id").count(pickupId)) > 0;
  /**
   * @param {number} pickupId
   * @param {any} data
   */
  const removed = async (pickupId, data) => {
    const existing = await pickups.get(pickupId);
    if (existing && (await holdsWork(pickupId))) {
      await pickups.put({ ...existing, removed: data || { reason: "removed" }, status: data && data.reason === "cancelled" ? "cancelled" : existing.status });
    } else {
      await pickups.delete(pickupId);
    }
  };
  const seen = new Set();
  // Puts are issued without waiting for each other: one transaction runs its requests in the order
  // they were made, and a first pull of 200 stops spent most of its time in 200 round trips.
  const writes = [];
  for (const change of answer.changes || []) {
    if (change.entity !== "pickup") continue;
    seen.add(change.id);
    if (change.op === "delete") await removed(change.id, change.data);
    else writes.push(pickups.put({ ...change.data, id: change.id, version: change.version ?? change.data.version }));
  }
  await Promise.all(writes);
  if (answer.reset) {
    for (const pickupId of await pickups.getAllKeys()) if (!seen.has(pickupId)) await removed(pickupId, { reason: "removed" });
  }
  // Off-route pickups go once nothing of theirs is left to send or to read.
  for (const pickup of await pickups.getAll()) {
    if (pickup.removed && !seen.has(pickup.id) && !(await holdsWork(pickup.id))) await pickups.delete(pickup.id);
  }
  // Confirmed actions stop being overlaid once the pulled pickup shows them.
  const acked = tx.objectStore("acked");
  for (const mutation of await acked.getAll()) {
    const pickup = mutation.pickup_id ? await pickups.get(mutation.pickup_id) : null;
    if (!pickup || pickup.removed || mutation.base_version === null || pickup.version > mutation.base_version) await acked.delete(mutation.id);
  }
  const meta = tx.objectStore("meta");
  await meta.put(answer.cursor, "cursor");
  if (answer.settings) await meta.put(answer.settings, "settings");
  await tx.done;
}

// ---- photos --------------------------------------------------------------------

/** @param {Record<string, any>} photo */
export async function putPhoto(photo) {
  return (await db()).put("photos", photo);
}

/** @param {number} pickupId */
export async function photosOfPickup(pickupId) {
  return (await db()).getAllFromIndex("photos", "pickup_id", pickupId);
}

export async function allPhotos() {
  return (await db()).getAll("photos");
}

/** Photos waiting to upload whose back-off has passed, oldest first. */
export async function photosDueForUpload() {
  const now = Date.now();
  return (await (await db()).getAllFromIndex("photos", "state", "queued"))
    .filter((/** @type {any} */ p) => !p.next_try || p.next_try <= now)
    .sort((/** @type {any} */ a, /** @type {any} */ b) => a.created_at - b.created_at);
}

/**
 * Change a stored photo (its state, attempts, error); nothing if it is gone.
 * @param {string} photoId
 * @param {Record<string, any>} changes
 */
export async function updatePhoto(photoId, changes) {
  const tx = (await db()).transaction("photos", "readwrite");
  const photo = await tx.store.get(photoId);
  if (photo) await tx.store.put({ ...photo, ...changes });
  await tx.done;
}

/**
 * Forget a photo: the server has it (`uploaded`) or the driver deleted a draft.
 * A queued photo belongs to a mutation and is kept unless it was uploaded.
 * Returns the removed photo, or null.
 * @param {string} photoId
 * @param {{uploaded?: boolean}} [options]
 */
export async function removePhoto(photoId, { uploaded = false } = {}) {
  const tx = (await db()).transaction("photos", "readwrite");
  const photo = await tx.store.get(photoId);
  if (!photo || (photo.state === "queued" && !uploaded)) {
    await tx.done;
    return null;
  }
  await tx.store.delete(photoId);
  await tx.done;
  return photo;
}

// ---- notices and labels -------------------------------------------------------------

export async function allNotices() {
  return (await db()).getAll("notices");
}

/** @param {number} pickupId */
export async function noticesOf(pickupId) {
  return (await db()).getAllFromIndex("notices", "pickup_id", pickupId);
}

/** @param {number[]} nids */
export async function dismissNotices(nids) {
  const tx = (await db()).transaction("notices", "readwrite");
  for (const nid of nids) await tx.store.delete(nid);
  await tx.done;
}

/** @param {number} pickupId */
export async function getLabel(pickupId) {
  return (await db()).get("labels", pickupId);
}

/** @param {{pickup_id: number, code: string, svg: string | null, zpl: string | null, tried_at: number}} label */
export async function putLabel(label) {
  return (await db()).put("labels", label);
}

// ---- the whole store ------------------------------------------------------------------

/** Everything waiting to go, read together: the badge and the logout guard count it. */
export async function unsentWork() {
  const tx = (await db()).transaction(["outbox", "photos"]);
  const [mutations, photos] = await Promise.all([tx.objectStore("outbox").getAll(), tx.objectStore("photos").getAll()]);
  await tx.done;
  return { mutations, photos };
}

/**
 * What this phone still holds unsynced, as push and pull report it to the server
 * (docs/sync-protocol.md "held"): the dispatcher cannot see an outbox that never arrives.
 * @returns {Promise<{actions: number, photos: number, oldest_age_seconds: number | null}>}
 */
export async function heldSummary() {
  const { mutations, photos } = await unsentWork();
  const held = photos.filter((/** @type {any} */ p) => p.state === "queued" || p.state === "failed");
  const times = [...mutations, ...held].map((/** @type {any} */ row) => row.created_at).filter((t) => typeof t === "number");
  const oldest = times.length ? Math.min(...times) : null;
  return {
    actions: mutations.length,
    photos: held.length,
    oldest_age_seconds: oldest === null ? null : Math.max(0, Math.floor((Date.now() - oldest) / 1000)),
  };
}

/**
 * One sync at a time across every tab and the service worker (which syncs on
 * Background Sync events with no tab open), and no wipe in the middle of one.
 * @template T
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function withSyncLock(work) {
  if (navigator.locks) return navigator.locks.request("backhaul-sync", work);
  return work();
}

// Forget everything of the previous driver (only ever called with nothing unsynced).
export async function wipeDriverData() {
  await withSyncLock(async () => {
    const tx = (await db()).transaction(STORES, "readwrite");
    await Promise.all(STORES.map((name) => tx.objectStore(name).clear()));
    await tx.done;
  });
}
