// @ts-check
// The driver app: start-up, screens by URL hash, the sync badge, app updates.

import { refreshSession } from "./api.js";
import { getMeta, setMeta, wipeDriverData } from "./db.js";
import { initLocation } from "./location.js";
import { unsyncedSummary } from "./outbox.js";
import { h, replace } from "./dom.js";
import { on } from "./events.js";
import { publishSyncStatus, syncNow } from "./sync.js";
import { startSyncTriggers } from "./triggers.js";
import { fmtAge, fmtTime, plural } from "./words.js";
import * as routeScreen from "./screens/route.js";
import * as pickupScreen from "./screens/pickup.js";
import * as loginScreen from "./screens/login.js";

const screenRoot = document.getElementById("screen");
let cleanup = null;

// #/ route · #/p/12 pickup · #/p/12/scan|collect|sign|fail|label|photos · #/s/12 the stop (door) of pickup 12 ·
// #/s/12/sign one signature for that door · #/login
const LAZY = {
  scan: () => import("./screens/scan.js"),
  collect: () => import("./screens/collect.js"),
  sign: () => import("./screens/sign.js"),
  fail: () => import("./screens/fail.js"),
  label: () => import("./screens/label.js"),
  photos: () => import("./screens/photos.js"),
};

async function screenFor(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts[0] === "login") return [loginScreen, {}];
  if (parts[0] === "s" && parts[1]) {
    if (parts[2] === "sign") return [await LAZY.sign(), { pickupId: Number(parts[1]), door: true }];
    return [await import("./screens/stop.js"), { pickupId: Number(parts[1]) }];
  }
  if (parts[0] === "p" && parts[1]) {
    const pickupId = Number(parts[1]);
    if (!parts[2]) return [pickupScreen, { pickupId }];
    if (LAZY[parts[2]]) return [await LAZY[parts[2]](), { pickupId }];
  }
  return [routeScreen, {}];
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

let renderCount = 0;

// Each screen renders into a fresh container that replaces the old one only if
// no newer navigation started meanwhile, so two quick taps never mix screens.
async function render() {
  const ticket = ++renderCount;
  if (cleanup) {
    try { cleanup(); } catch (error) { console.error(error); }
    cleanup = null;
  }
  const user = await getMeta("user");
  const wantsLogin = location.hash.startsWith("#/login");
  if (!user && !wantsLogin) {
    navigate("#/login");
    return;
  }
  const [screen, params] = await screenFor(location.hash);
  const container = h("div", { class: "screen-body" });
  const mounted = [];
  const context = { navigate, user, root: container, onMount: (fn) => mounted.push(fn) };
  let ownCleanup = null;
  try {
    ownCleanup = (await screen.render(container, params, context)) || null;
  } catch (error) {
    console.error(error);
    replace(container, h("p", { class: "notice notice-error", role: "alert" }, `This screen failed to open: ${error.message}`),
      h("a", { class: "button", href: "#/" }, "Back to the route"));
  }
  if (ticket !== renderCount) {
    if (ownCleanup) ownCleanup();
    return;
  }
  cleanup = ownCleanup;
  screenRoot.replaceChildren(container);
  document.title = `${container.querySelector("h1")?.textContent || "Route"} · Backhaul Driver`;
  window.scrollTo(0, 0);
  screenRoot.scrollTop = 0; // the screen scrolls, not the window (app.css)
  if (mounted.length) mounted.forEach((fn) => fn());
  else screenRoot.focus({ preventScroll: true });
}

// The badge is always on screen: what is waiting, since when, and Sync now.
function renderBadge(status) {
  const text = document.getElementById("sync-text");
  const box = document.getElementById("sync");
  const { summary, lastSyncedAt } = status;
  const parts = [];
  if (summary.actions) parts.push(plural(summary.actions, "action", "actions"));
  if (summary.photos) parts.push(plural(summary.photos, "photo", "photos"));
  let line;
  if (!parts.length && !summary.failedPhotos) {
    line = lastSyncedAt ? `All synced · ${fmtTime(lastSyncedAt)}` : status.running ? "Syncing…" : "Not synced yet";
  } else {
    line = parts.length ? `${parts.join(", ")} waiting` : "";
    if (summary.oldest) line += ` · oldest ${fmtAge(Date.now() - summary.oldest)}`;
    if (summary.failedPhotos) line += `${line ? " · " : ""}${plural(summary.failedPhotos, "photo", "photos")} refused`;
  }
  if (!navigator.onLine || !status.online) line = `Offline · ${line}`;
  else if (status.needsLogin) line = `Log in to sync · ${line}`;
  else if (status.running && parts.length) line = `Sending · ${line}`;
  text.textContent = line;
  // "synced" only after a completed sync with nothing left: tests and people can trust it.
  box.dataset.state = parts.length || summary.failedPhotos ? "waiting" : lastSyncedAt ? "synced" : "pending";
  box.dataset.actions = String(summary.actions);
  box.dataset.photos = String(summary.photos);
  checkForUpdate(summary);
}

// ---- App updates: a new version waits; it is offered only with nothing unsynced.
let registration = null;
let reloading = false;

function checkForUpdate(summary) {
  const banner = document.getElementById("update");
  const ready = Boolean(registration && registration.waiting && navigator.serviceWorker.controller);
  banner.hidden = !(ready && summary.total === 0);
}

async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  registration = await navigator.serviceWorker.register("/driver/sw.js", {
    scope: "/driver/",
    // A module worker: it imports sync.js to sync on Background Sync events with no tab open.
    type: "module",
    updateViaCache: "none",
  });
  const recheck = async () => checkForUpdate(await unsyncedSummary());
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", recheck);
  });
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading) location.reload();
  });
  document.getElementById("update-now").addEventListener("click", async () => {
    const summary = await unsyncedSummary();
    if (summary.total > 0 || !registration.waiting) return checkForUpdate(summary);
    reloading = true;
    registration.waiting.postMessage({ type: "SKIP_WAITING" });
  });
  setInterval(() => registration.update().catch(() => {}), 30 * 60 * 1000);
  recheck();
}

async function start() {
  on("sync-status", renderBadge);
  on("auth-required", async () => {
    if (!location.hash.startsWith("#/login") && (await unsyncedSummary()).total === 0 && !(await getMeta("user"))) navigate("#/login");
  });
  document.getElementById("sync-now").addEventListener("click", () => syncNow());
  window.addEventListener("hashchange", render);
  registerServiceWorker().catch((error) => console.error("service worker", error));
  if (navigator.storage && navigator.storage.persist) {
    // Ask the browser not to evict our data under storage pressure (headless says no: fine).
    navigator.storage.persist().then((granted) => setMeta("persisted", granted)).catch(() => {});
  }
  if (navigator.onLine) {
    try {
      const session = await refreshSession();
      const stored = await getMeta("user");
      if (session && stored && stored.id !== session.user.id) {
        // Someone else logged in on this phone: their route, unless the previous
        // driver's work is still waiting to be sent.
        if ((await unsyncedSummary()).total === 0) {
          await wipeDriverData();
          await setMeta("user", session.user);
        } else {
          await setMeta("blocked_user", session.user.name);
        }
      } else if (session) {
        await setMeta("user", session.user);
      }
    } catch {
      // No signal yet: we start from what the phone knows.
    }
  }
  await initLocation();
  startSyncTriggers();
  await render();
  publishSyncStatus();
  if (await getMeta("user")) syncNow();
}

start();
