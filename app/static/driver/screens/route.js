// @ts-check
// Route: the next stop to do first, with its window; the rest to do in route order; what is done
// folds into "Done today (n)" at the end. A window about to close, or already closed, says so.

import { logout } from "../api.js";
import { allNotices, dismissNotices, getMeta, wipeDriverData } from "../db.js";
import { h, replace, toast } from "../dom.js";
import { on } from "../events.js";
import { isSharingLocation, shareLocation } from "../location.js";
import { allPickupViews, unsyncedSummary } from "../outbox.js";
import { resumeSync, stopSync } from "../sync.js";
import { mapLinks } from "../widgets.js";
import { DONE_STATUSES, STATUS_WORDS, fmtDay, fmtTime, fmtWindow, plural } from "../words.js";

// How long before a window closes the stop starts to say so: enough to reorder or call ahead.
const CLOSING_SOON_MS = 30 * 60 * 1000;

/**
 * Where the stop's window stands now, in the driver's words, or null when nothing needs saying.
 * @param {{start?: string, end?: string} | null | undefined} window
 * @param {number} now
 * @returns {{kind: "closed" | "closing", text: string} | null}
 */
export function windowWarning(window, now) {
  const end = window?.end ? Date.parse(window.end) : NaN;
  if (Number.isNaN(end)) return null;
  if (end <= now) return { kind: "closed", text: `Window closed at ${fmtTime(end)}` };
  if (end - now <= CLOSING_SOON_MS) {
    const minutes = Math.max(1, Math.round((end - now) / 60000));
    return { kind: "closing", text: `Window closes in ${minutes} min` };
  }
  return null;
}

export function sortByRoute(pickups) {
  return pickups.sort((a, b) =>
    (a.route_position ?? 1e9) - (b.route_position ?? 1e9) || String(a.window?.start).localeCompare(String(b.window?.start)) || a.id - b.id);
}

function isDone(pickup) { return DONE_STATUSES.has(pickup.status) || Boolean(pickup.removed); }

function card(pickup, number, noticeCount, now, { next = false } = {}) {
  const done = isDone(pickup);
  const items = pickup.items.reduce((sum, item) => sum + item.quantity, 0);
  const warning = done ? null : windowWarning(pickup.window, now);
  return h("li", { class: `stop${done ? " done" : ""}${next ? " next" : ""}`, "data-pickup": pickup.id, "data-status": pickup.status },
    h("a", { class: "stop-main", href: `#/p/${pickup.id}` },
      h("span", { class: "stop-number", "aria-hidden": "true" }, String(number)),
      h("span", { class: "stop-text" },
        h("strong", { class: "stop-name" }, pickup.customer?.name || pickup.reference),
        h("span", {}, pickup.address?.line1, pickup.address?.line2 ? `, ${pickup.address.line2}` : ""),
        next
          ? h("span", { class: "stop-window" }, fmtWindow(pickup.window), h("span", { class: "muted" }, ` · ${plural(items, "item", "items")}`))
          : h("span", { class: "muted" }, `${fmtWindow(pickup.window)} · ${plural(items, "item", "items")}`),
        h("span", { class: "stop-badges" },
          pickup.removed && pickup.status !== "cancelled"
            ? h("span", { class: "status status-cancelled" }, "Off your route")
            : h("span", { class: `status status-${pickup.status}` }, STATUS_WORDS[pickup.status] || pickup.status),
          warning ? h("span", { class: `status window-${warning.kind}`, "data-window": warning.kind }, warning.text) : null,
          pickup.pending ? h("span", { class: "status status-waiting" }, "Not sent yet") : null,
          noticeCount ? h("span", { class: "status status-alert" }, "⚠ Needs attention") : null))),
    done ? null : h("div", { class: "stop-actions" }, mapLinks(pickup)));
}

export async function render(root, params, { navigate, user }) {
  async function draw() {
    const pickups = sortByRoute(await allPickupViews());
    const notices = await allNotices();
    const open = pickups.filter((p) => !DONE_STATUSES.has(p.status));
    const blocked = await getMeta("blocked_user");
    const sharing = await isSharingLocation();
    const first = pickups[0];
    replace(root,
      h("h1", {}, "Today's route"),
      h("p", { class: "muted" }, `${user.name} · ${fmtDay(first?.window?.start || new Date())} · ${open.length} of ${pickups.length} to do`),
      blocked ? h("p", { class: "notice notice-error", role: "alert" },
        `${blocked} is logged in, but this phone still holds ${user.name}'s unsent work. Log in as ${user.name} to send it.`) : null,
      notices.filter((n) => !pickups.some((p) => p.id === n.pickup_id)).map((notice) =>
        h("div", { class: "notice notice-error", role: "alert", "data-notice": notice.code }, notice.message,
          h("button", { type: "button", class: "small", onclick: async () => { await dismissNotices([notice.nid]); draw(); } }, "OK"))),
      pickups.length
        ? stopLists(pickups, notices)
        : h("p", { class: "notice" }, (await getMeta("cursor")) === undefined
          ? "Your route has not been loaded yet. It loads as soon as the phone has signal."
          : "No pickups on your route. Pull down later or tap Sync now."),
      h("section", { class: "settings", "aria-label": "Settings" },
        h("label", { class: "check" },
          h("input", { type: "checkbox", id: "share-location", checked: sharing,
            onchange: (e) => shareLocation(e.target.checked) }),
          "Attach my location to each action (proof of visit)"),
        h("button", { type: "button", id: "logout", onclick: tryLogout }, "Log out")),
      h("p", { class: "muted small-text" }, `App version ${/** @type {HTMLMetaElement | null} */ (document.querySelector('meta[name="backhaul-version"]'))?.content || "?"}`));
  }

  /** The next stop on its own at the top, the rest to do, then what is done, folded. */
  function stopLists(pickups, notices) {
    const now = Date.now();
    const numbers = new Map(pickups.map((p, i) => [p.id, i + 1]));
    const noticesOf = (p) => notices.filter((n) => n.pickup_id === p.id).length;
    // A done stop with a notice (a refusal to read) stays in sight until the driver has seen it.
    const open = pickups.filter((p) => !isDone(p) || noticesOf(p));
    const done = pickups.filter((p) => isDone(p) && !noticesOf(p));
    const next = open.find((p) => !isDone(p));
    const rest = open.filter((p) => p !== next);
    const cardOf = (p, options = {}) => card(p, numbers.get(p.id), noticesOf(p), now, options);
    return [
      next ? h("section", { class: "next-stop", "aria-labelledby": "next-stop-title" },
        h("h2", { id: "next-stop-title" }, "Next stop"),
        h("ol", { class: "stops" }, cardOf(next, { next: true }))) : h("p", { class: "notice", id: "all-done" }, "Every stop is done for today."),
      rest.length ? h("section", { "aria-labelledby": "later-title" },
        h("h2", { id: "later-title" }, `Then (${rest.length})`),
        h("ol", { class: "stops" }, rest.map((p) => cardOf(p)))) : null,
      done.length ? h("details", { class: "done-today", id: "done-today", open: doneOpen, ontoggle: (e) => { doneOpen = e.target.open; } },
        h("summary", {}, `Done today (${done.length})`),
        h("ol", { class: "stops" }, done.map((p) => cardOf(p)))) : null,
    ];
  }

  async function tryLogout() {
    const summary = await unsyncedSummary();
    if (summary.total > 0 || summary.draftPhotos > 0) {
      const what = [];
      if (summary.actions) what.push(plural(summary.actions, "action", "actions"));
      if (summary.photos + summary.failedPhotos) what.push(plural(summary.photos + summary.failedPhotos, "photo", "photos"));
      if (summary.draftPhotos) what.push(plural(summary.draftPhotos, "unfinished photo", "unfinished photos"));
      toast(`You cannot log out yet: ${what.join(", ")} would be lost. Get signal and let the app sync first.`, "error");
      return;
    }
    if (!navigator.onLine) {
      toast("Connect to the internet to log out.", "error");
      return;
    }
    await stopSync();
    // Checked again: a sync that was running may have left something behind.
    if ((await unsyncedSummary()).total > 0) {
      resumeSync();
      toast("Something new is waiting to be sent. Let the app sync, then log out.", "error");
      return;
    }
    try {
      await logout();
    } catch (error) {
      resumeSync();
      toast(`Logging out failed: ${error.message}`, "error");
      return;
    }
    await wipeDriverData();
    navigate("#/login");
  }

  // The folded group stays as the driver left it while the screen redraws.
  let doneOpen = false;
  await draw();
  const stopListening = on("changed", draw);
  // Windows close as time passes, not only when something changes.
  const clock = setInterval(draw, 60000);
  return () => { clearInterval(clock); stopListening(); };
}
