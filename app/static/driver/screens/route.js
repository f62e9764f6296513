// @ts-check
// Route: today's pickups in route order; done ones greyed; navigate and call.

import { logout } from "../api.js";
import { allNotices, dismissNotices, getMeta, wipeDriverData } from "../db.js";
import { h, replace, toast } from "../dom.js";
import { on } from "../events.js";
import { isSharingLocation, shareLocation } from "../location.js";
import { allPickupViews, unsyncedSummary } from "../outbox.js";
import { resumeSync, stopSync } from "../sync.js";
import { mapLinks } from "../widgets.js";
import { DONE_STATUSES, STATUS_WORDS, fmtDay, fmtWindow, plural } from "../words.js";

export function sortByRoute(pickups) {
  return pickups.sort((a, b) =>
    (a.route_position ?? 1e9) - (b.route_position ?? 1e9) || String(a.window?.start).localeCompare(String(b.window?.start)) || a.id - b.id);
}

function card(pickup, index, noticeCount) {
  const done = DONE_STATUSES.has(pickup.status) || Boolean(pickup.removed);
  const items = pickup.items.reduce((sum, item) => sum + item.quantity, 0);
  return h("li", { class: `stop${done ? " done" : ""}`, "data-pickup": pickup.id, "data-status": pickup.status },
    h("a", { class: "stop-main", href: `#/p/${pickup.id}` },
      h("span", { class: "stop-number", "aria-hidden": "true" }, String(index + 1)),
      h("span", { class: "stop-text" },
        h("strong", { class: "stop-name" }, pickup.customer?.name || pickup.reference),
        h("span", {}, pickup.address?.line1, pickup.address?.line2 ? `, ${pickup.address.line2}` : ""),
        h("span", { class: "muted" }, `${fmtWindow(pickup.window)} · ${plural(items, "item", "items")}`),
        h("span", { class: "stop-badges" },
          pickup.removed && pickup.status !== "cancelled"
            ? h("span", { class: "status status-cancelled" }, "Off your route")
            : h("span", { class: `status status-${pickup.status}` }, STATUS_WORDS[pickup.status] || pickup.status),
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
        ? h("ol", { class: "stops" }, pickups.map((p, i) => card(p, i, notices.filter((n) => n.pickup_id === p.id).length)))
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

  await draw();
  return on("changed", draw);
}
