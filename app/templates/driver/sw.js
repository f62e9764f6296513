/* Backhaul driver app service worker (rendered by app/driver/views.py).
 *
 * Precaches one versioned copy of the app shell and serves it cache-first, so
 * the app starts with no signal. Never touches /api/: live data and uploads go
 * to the network or fail, and the app's own outbox keeps the work. A new
 * version installs beside the old one and waits: the page decides when to
 * switch (only while nothing is unsynced), so an open route is never broken.
 */
import { syncNow, syncState } from {{ url_for('static', filename='driver/sync.js') | tojson }};
import { unsyncedSummary } from {{ url_for('static', filename='driver/outbox.js') | tojson }};

const VERSION = {{ version | tojson }};
self.BACKHAUL_VERSION = VERSION; // push.js sends it as the pushing app's version
const CACHE = "backhaul-driver-" + VERSION;
const PRECACHE = {{ precache | tojson }};
const SHELL_URL = {{ url_for('driver.shell') | tojson }};
const STATIC_PREFIX = {{ url_for('static', filename='', v=None) | tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // "reload" skips the HTTP cache, so a new version never mixes in old files.
      cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })))
    )
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith("backhaul-driver-") && name !== CACHE).map((name) => caches.delete(name))
      );
      await self.clients.claim();
    })()
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    if (!url.pathname.startsWith(SHELL_URL)) return;
    event.respondWith(
      caches.open(CACHE).then((cache) => cache.match(SHELL_URL)).then((hit) => hit || fetch(request))
    );
    return;
  }
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      // Static files are precached under their content-hashed URLs (?v=…). A file named without
      // the hash (the decoder's .wasm found from import.meta.url; a module in a browser without
      // import maps) is the same file of this version: the cache holds one copy of each.
      const hit = (await cache.match(request)) || (url.pathname.startsWith(STATIC_PREFIX) ? await cache.match(request, { ignoreSearch: true }) : undefined);
      return hit || fetch(request);
    })
  );
});

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "SKIP_WAITING") self.skipWaiting();
  if (message.type === "VERSION" && event.ports[0]) event.ports[0].postMessage(VERSION);
});

// Background Sync (Chromium): the browser wakes this worker when the signal is
// back, even with every tab closed or the screen off, and the worker runs the
// app's own sync (sync.js, under the same lock as the tabs). Open tabs are told
// to redraw. Work left over (still no signal) rejects, so the browser retries.
// Browsers without Background Sync (Safari) rely on the app's own triggers.
self.addEventListener("sync", (event) => {
  if (event.tag !== "backhaul-sync") return;
  event.waitUntil(
    (async () => {
      await syncNow();
      const windows = await self.clients.matchAll({ type: "window" });
      windows.forEach((client) => client.postMessage({ type: "SYNCED" }));
      const { total } = await unsyncedSummary();
      if (total > 0 && !syncState().online) throw new Error("still offline: retry later");
    })()
  );
});
