// Sync with the server (docs/sync-protocol.md): push the outbox, pull changes,
// upload photos one at a time, fetch label renderings for offline printing.
//
// Triggers: app start, `online`, the app becoming visible, shortly after each
// action, a timer while open, and Background Sync where the browser has it.
// None is required: any one of them eventually moves everything.
//
// The service worker imports this module too (sw.js): on a Background Sync
// event it runs the same sync with no window open (tab closed, screen off), and
// a Web Lock keeps it from ever running beside a window's sync. So nothing in
// here may touch the DOM outside startSyncTriggers().

import { ApiError, OfflineError, forgetToken, refreshSession, request, requestJson } from "./api.js";
import { clientId, db, getMeta, setMeta, withSyncLock } from "./db.js";
import { unsyncedSummary } from "./outbox.js";
import { emit, on } from "./ui.js";

const SCHEMA_VERSION = 1;
const BATCH = 50;
const TIMER_MS = 60 * 1000;
const PHOTO_BACKOFF_MAX_MS = 5 * 60 * 1000;

export const DEFAULT_SETTINGS = {
  photo_max_edge: 1600,
  photo_quality: 0.8,
  photo_required_grades: ["C", "D"],
  signature_required: false,
};

const state = { running: null, again: false, sending: false, online: navigator.onLine, needsLogin: false, error: null, stopped: false };

// Logging out: no sync may start, and the one running must end before the store is wiped.
export async function stopSync() {
  state.stopped = true;
  while (state.running) await state.running;
}

export function resumeSync() {
  state.stopped = false;
}

export function syncState() {
  return { ...state, running: Boolean(state.running) };
}

export function isSending() {
  return state.sending;
}

// Settings from the last pull (app/sync/settings.py), with defaults for what is missing.
export async function settings() {
  const stored = (await getMeta("settings")) || {};
  const photo = stored.photo || {};
  let quality = photo.jpeg_quality ?? DEFAULT_SETTINGS.photo_quality;
  if (quality > 1) quality /= 100;
  return {
    ...DEFAULT_SETTINGS,
    photo_max_edge: photo.long_edge ?? DEFAULT_SETTINGS.photo_max_edge,
    photo_quality: quality,
    photo_max_bytes: photo.max_bytes ?? 15 * 1024 * 1024,
    photo_required_grades: stored.photo_required_grades ?? DEFAULT_SETTINGS.photo_required_grades,
    signature_required: Boolean(stored.signature_required),
    photo_required: Boolean(stored.photo_required),
    poll_seconds: stored.poll_seconds ?? TIMER_MS / 1000,
    max_batch: Math.min(stored.max_batch ?? BATCH, 200),
  };
}

async function publish() {
  const summary = await unsyncedSummary();
  const lastSyncedAt = await getMeta("last_synced_at");
  emit("sync-status", { ...syncState(), summary, lastSyncedAt });
  return summary;
}

// Run one full sync (or join the one running; another round follows if asked).
export function syncNow() {
  if (state.running) {
    state.again = true;
    return state.running;
  }
  state.running = (async () => {
    try {
      do {
        state.again = false;
        await runOnce();
      } while (state.again);
    } finally {
      state.running = null;
      await publish();
    }
  })();
  publish();
  return state.running;
}

// The shell's version (a window), or the one the service worker was built with.
function appVersion() {
  return globalThis.document?.querySelector('meta[name="backhaul-version"]')?.content || globalThis.BACKHAUL_VERSION || null;
}

async function runOnce() {
  if (state.stopped) return;
  if (!navigator.onLine) {
    state.online = false;
    return;
  }
  try {
    await withSyncLock(async () => {
      await pushOutbox();
      await pull();
      state.online = true;
      state.error = null;
      state.needsLogin = false;
      await uploadPhotos();
      await fetchLabels();
    });
    const summary = await unsyncedSummary();
    if (summary.total === 0) await setMeta("last_synced_at", new Date().toISOString());
  } catch (error) {
    if (error instanceof OfflineError) {
      state.online = false;
    } else if (error instanceof ApiError && error.status === 401) {
      state.needsLogin = true;
    } else {
      state.error = error.message;
      console.error("sync failed", error);
    }
  }
}

async function pushOutbox() {
  const database = await db();
  for (;;) {
    const batch = (await database.getAll("outbox")).sort((a, b) => a.id - b.id).slice(0, (await settings()).max_batch);
    if (!batch.length) return;
    // Marked first: once sent, an action can no longer be undone, even if the answer is lost.
    const mark = database.transaction("outbox", "readwrite");
    for (const m of batch) if (!m.sent) await mark.store.put({ ...m, sent: true });
    await mark.done;
    state.sending = true;
    let answer;
    try {
      answer = await requestJson("POST", "/api/v1/sync/push", {
        json: {
          client_id: await clientId(),
          schema_version: SCHEMA_VERSION,
          sent_at: new Date().toISOString(),
          app_version: appVersion(),
          mutations: batch.map(({ id, name, args, base_version, device_time, location }) => ({
            id, name, args, base_version, device_time, location,
          })),
        },
      });
    } finally {
      state.sending = false;
    }
    await applyResults(batch, answer);
  }
}

async function applyResults(batch, answer) {
  const results = new Map((answer.results || []).map((r) => [r.id, r]));
  const database = await db();
  const tx = database.transaction(["outbox", "acked", "notices", "photos", "meta"], "readwrite");
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
  if (!progressed) throw new Error("The server answered without results for this batch.");
  emit("changed", {});
}

async function pull() {
  const database = await db();
  for (let round = 0; round < 50; round += 1) {
    const cursor = await getMeta("cursor");
    const query = new URLSearchParams({ client_id: await clientId() });
    if (cursor !== undefined && cursor !== null) query.set("cursor", cursor);
    const answer = await requestJson("GET", `/api/v1/sync/pull?${query}`);
    const tx = database.transaction(["pickups", "acked", "outbox", "photos", "notices", "meta"], "readwrite");
    const pickups = tx.objectStore("pickups");
    // A pickup that left the route stays visible while this phone still holds work for it,
    // so the driver sees why (e.g. "cancelled by dispatch") next to what they recorded.
    const holdsWork = async (pickupId) =>
      (await tx.objectStore("outbox").index("pickup_id").count(pickupId))
      + (await tx.objectStore("photos").index("pickup_id").count(pickupId))
      + (await tx.objectStore("notices").index("pickup_id").count(pickupId)) > 0;
    const removed = async (pickupId, data) => {
      const existing = await pickups.get(pickupId);
      if (existing && (await holdsWork(pickupId))) {
        await pickups.put({ ...existing, removed: data || { reason: "removed" }, status: data && data.reason === "cancelled" ? "cancelled" : existing.status });
      } else {
        await pickups.delete(pickupId);
      }
    };
    const seen = new Set();
    for (const change of answer.changes || []) {
      if (change.entity !== "pickup") continue;
      seen.add(change.id);
      if (change.op === "delete") await removed(change.id, change.data);
      else await pickups.put({ ...change.data, id: change.id, version: change.version ?? change.data.version });
    }
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
    emit("changed", {});
    if (!answer.more) return;
  }
}

async function uploadPhotos() {
  const database = await db();
  for (;;) {
    const now = Date.now();
    const queued = (await database.getAllFromIndex("photos", "state", "queued"))
      .filter((p) => !p.next_try || p.next_try <= now)
      .sort((a, b) => a.created_at - b.created_at);
    if (!queued.length) return;
    const photo = queued[0];
    let response;
    try {
      response = await request("PUT", `/api/v1/photos/${photo.id}`, {
        body: photo.bytes,
        headers: { "Content-Type": photo.type, "X-Content-SHA256": photo.sha256 },
      });
    } catch (error) {
      if (error instanceof OfflineError) await backOff(photo);
      throw error;
    }
    if (response.status === 200 || response.status === 201) {
      // Only now, with the server's word, do the bytes leave the phone.
      await database.delete("photos", photo.id);
      emit("changed", { pickupId: photo.pickup_id });
    } else if ([409, 413, 415, 422].includes(response.status)) {
      let message = `The server refused this photo (${response.status}).`;
      try { message = (await response.json()).error.message || message; } catch { /* keep ours */ }
      await database.put("photos", { ...photo, state: "failed", error: message });
      emit("changed", { pickupId: photo.pickup_id });
    } else {
      await backOff(photo);
      return;
    }
  }
}

async function backOff(photo) {
  const attempts = (photo.attempts || 0) + 1;
  const delay = Math.min(2000 * 2 ** attempts, PHOTO_BACKOFF_MAX_MS);
  await (await db()).put("photos", { ...photo, attempts, next_try: Date.now() + delay });
  setTimeout(() => syncNow(), delay + 50);
}

// Label renderings for pickups still to do, so a label prints with no signal.
async function fetchLabels() {
  const database = await db();
  const pickups = await database.getAll("pickups");
  for (const pickup of pickups) {
    if (pickup.removed || ["collected", "partially_collected", "cancelled", "received"].includes(pickup.status)) continue;
    const stored = await database.get("labels", pickup.id);
    if (stored && stored.code === pickup.label_code && (stored.svg || Date.now() - stored.tried_at < 3600 * 1000)) continue;
    // The driver's own copy of the label files: never the customer's link, whose token is theirs alone.
    const base = `/api/v1/pickups/${pickup.id}`;
    const [svg, zpl] = await Promise.all([fetchText(`${base}/label.svg`), fetchText(`${base}/label.zpl`)]);
    await database.put("labels", { pickup_id: pickup.id, code: pickup.label_code, svg, zpl, tried_at: Date.now() });
  }
}

async function fetchText(path) {
  const response = await request("GET", path);
  return response.ok ? response.text() : null;
}

let debounce = null;
export function scheduleSync(delay = 1000) {
  clearTimeout(debounce);
  debounce = setTimeout(() => syncNow(), delay);
}

export function startSyncTriggers() {
  window.addEventListener("online", () => { state.online = true; forgetToken(); syncNow(); });
  window.addEventListener("offline", () => { state.online = false; forgetToken(); publish(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") syncNow(); });
  const tick = async () => {
    if (document.visibilityState === "visible") syncNow();
    setTimeout(tick, (await settings()).poll_seconds * 1000);
  };
  setTimeout(tick, TIMER_MS);
  on("queued", async () => {
    publish();
    scheduleSync();
    try {
      const registration = await navigator.serviceWorker?.ready;
      await registration?.sync?.register("backhaul-sync");
    } catch {
      // Background Sync is a bonus (Chromium only); the other triggers suffice.
    }
  });
  on("changed", () => publish());
  // The service worker synced in the background: show what it changed.
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data && event.data.type === "SYNCED") emit("changed", {});
  });
}

export { publish as publishSyncStatus, refreshSession };
