// The phone's own store (IndexedDB through `idb`). Everything the driver does
// lands here first; sync.js moves it to the server later.
//
// pickups  server's pickups as last pulled (keyPath id)
// outbox   mutations not yet acknowledged, ids counting up from 1 (keyPath id)
// acked    acknowledged mutations whose effect the last pull has not shown yet
// photos   photo bytes as ArrayBuffers (Safari fails on Blobs), until the server has them
// notices  rejections and other news shown on a pickup
// labels   label renderings fetched while online, for printing offline
// drafts   a collection or failure being filled in
// local    facts only this phone needs (label scanned, arrived)
// meta     client_id, next_mutation_id, cursor, user, settings, last_synced_at

import { openDB } from "../vendor/idb/index.js";

const DB_NAME = "backhaul-driver";
const DB_VERSION = 1;

let opened = null;

export function db() {
  if (!opened) {
    opened = openDB(DB_NAME, DB_VERSION, {
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
        opened.then((database) => database.close());
        opened = null;
      },
    });
  }
  return opened;
}

export async function getMeta(key, fallback = undefined) {
  const value = await (await db()).get("meta", key);
  return value === undefined ? fallback : value;
}

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

export async function getLocal(pickupId) {
  return (await (await db()).get("local", pickupId)) || { pickup_id: pickupId };
}

export async function updateLocal(pickupId, changes) {
  const database = await db();
  const tx = database.transaction("local", "readwrite");
  const current = (await tx.store.get(pickupId)) || { pickup_id: pickupId };
  await tx.store.put({ ...current, ...changes });
  await tx.done;
}

export async function getDraft(key) {
  return (await db()).get("drafts", key);
}

export async function putDraft(draft) {
  return (await db()).put("drafts", draft);
}

export async function deleteDraft(key) {
  return (await db()).delete("drafts", key);
}

// One sync at a time across every tab and the service worker (which syncs on
// Background Sync events with no tab open), and no wipe in the middle of one.
export async function withSyncLock(work) {
  if (navigator.locks) return navigator.locks.request("backhaul-sync", work);
  return work();
}

// Forget everything of the previous driver (only ever called with nothing unsynced).
export async function wipeDriverData() {
  await withSyncLock(async () => {
    const database = await db();
    const stores = ["pickups", "outbox", "acked", "photos", "notices", "labels", "drafts", "local", "meta"];
    const tx = database.transaction(stores, "readwrite");
    await Promise.all(stores.map((name) => tx.objectStore(name).clear()));
    await tx.done;
  });
}
