// @ts-check
// One sync with the server (docs/sync-protocol.md): push the outbox, pull
// changes, upload photos, fetch label renderings — in that order, under one
// lock, one at a time. Each step is its own module; what starts a sync is
// triggers.js (windows only).
//
// The service worker imports this module too (sw.js): on a Background Sync
// event it runs the same sync with no window open, and the Web Lock keeps it
// from ever running beside a window's sync. So nothing reachable from here
// may touch the DOM (tests/driver/test_modules.py checks the import graph).

import { ApiError, OfflineError } from "./api.js";
import { getMeta, setMeta, withSyncLock } from "./db.js";
import { emit } from "./events.js";
import { prefetchLabels } from "./label-prefetch.js";
import { unsyncedSummary } from "./outbox.js";
import { uploadPhotos } from "./photo-upload.js";
import { pull } from "./pull.js";
import { pushOutbox } from "./push.js";

const state = { running: /** @type {Promise<void> | null} */ (null), again: false, online: navigator.onLine, needsLogin: false, error: /** @type {string | null} */ (null), stopped: false };

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

/** @param {boolean} online */
export function setOnline(online) {
  state.online = online;
}

export async function publishSyncStatus() {
  const summary = await unsyncedSummary();
  const lastSyncedAt = await getMeta("last_synced_at");
  emit("sync-status", { ...syncState(), summary, lastSyncedAt });
  return summary;
}

/**
 * Run one full sync (or join the one running; another round follows if asked).
 * @returns {Promise<void>}
 */
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
      await publishSyncStatus();
    }
  })();
  publishSyncStatus();
  return state.running;
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
      const retryIn = await uploadPhotos();
      if (retryIn !== null) setTimeout(() => syncNow(), retryIn + 50);
      await prefetchLabels();
    });
    const summary = await unsyncedSummary();
    if (summary.total === 0) await setMeta("last_synced_at", new Date().toISOString());
  } catch (error) {
    if (error instanceof OfflineError) {
      state.online = false;
    } else if (error instanceof ApiError && error.status === 401) {
      state.needsLogin = true;
    } else {
      state.error = error instanceof Error ? error.message : String(error);
      console.error("sync failed", error);
    }
  }
}
