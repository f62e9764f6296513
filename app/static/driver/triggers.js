// @ts-check
// What starts a sync in a window: app start (app.js), `online`, the app
// becoming visible, shortly after each action, a timer while open, and
// Background Sync where the browser has it. None is required: any one of them
// eventually moves everything. Windows only (the service worker has its own
// trigger, the `sync` event).

import { forgetToken } from "./api.js";
import { emit, on } from "./events.js";
import { settings } from "./settings.js";
import { publishSyncStatus, setOnline, syncNow } from "./sync.js";

const FIRST_TICK_MS = 60 * 1000;

/** @type {ReturnType<typeof setTimeout> | undefined} */
let debounce;

export function scheduleSync(delay = 1000) {
  clearTimeout(debounce);
  debounce = setTimeout(() => syncNow(), delay);
}

export function startSyncTriggers() {
  window.addEventListener("online", () => { setOnline(true); forgetToken(); syncNow(); });
  window.addEventListener("offline", () => { setOnline(false); forgetToken(); publishSyncStatus(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") syncNow(); });
  const tick = async () => {
    if (document.visibilityState === "visible") syncNow();
    setTimeout(tick, (await settings()).pollSeconds * 1000);
  };
  setTimeout(tick, FIRST_TICK_MS);
  on("queued", async () => {
    publishSyncStatus();
    scheduleSync();
    try {
      const registration = await navigator.serviceWorker?.ready;
      await /** @type {any} */ (registration)?.sync?.register("backhaul-sync");
    } catch {
      // Background Sync is a bonus (Chromium only); the other triggers suffice.
    }
  });
  on("changed", () => publishSyncStatus());
  // The service worker synced in the background: show what it changed.
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data && event.data.type === "SYNCED") emit("changed", {});
  });
}
