// @ts-check
// Route: today first — the next stop to do on its own, with its window; the rest to do in route
// order; what is done folds into "Done today (n)" — then each later day the phone carries, under
// its date. Pickups at one door on one day are one stop (stops.js). A window about to close, or
// already closed, says so.

import { logout } from "../api.js";
import { allNotices, dismissNotices, getMeta, wipeDriverData } from "../db.js";
import { h, replace, toast } from "../dom.js";
import { on } from "../events.js";
import { isSharingLocation, shareLocation } from "../location.js";
import { allPickupViews, unsyncedSummary } from "../outbox.js";
import { resumeSync, stopSync } from "../sync.js";
import { settings } from "../settings.js";
import { dayKey, groupStops, isDone } from "../stops.js";
import { mapLinks } from "../widgets.js";
import { DAY_WORDS, STATUS_WORDS, dayHeading, fmtDate, fmtDay, fmtTime, fmtWindow, plural } from "../words.js";

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


/**
 * One stop: a single pickup, or every pickup at one door that day (opened as one, #/s/<id>).
 * @param {import("../stops.js").Stop} stop
 * @param {number} number
 * @param {number} noticeCount
 * @param {number} now
 * @param {{next?: boolean, today?: string, later?: boolean}} [options]
 */
function card(stop, number, noticeCount, now, { next = false, today = "", later = false } = {}) {
  const { pickups } = stop;
  const pickup = pickups.find((p) => !isDone(p)) || pickups[0];
  const many = pickups.length > 1;
  const done = stop.done;
  const items = pickups.reduce((sum, p) => sum + p.items.reduce((n, item) => n + item.quantity, 0), 0);
  const warning = done || later ? null : windowWarning(pickup.window, now);
  const open = pickups.filter((p) => !isDone(p)).length;
  const pending = pickups.some((p) => p.pending);
  const name = many ? `${pickup.address?.line1 || pickup.reference} · ${pickups.length} pickups` : pickup.customer?.name || pickup.reference;
  const line = many ? pickups.map((p) => p.customer?.name || p.reference).join(", ")
    : [pickup.address?.line1, pickup.address?.line2].filter(Boolean).join(", ");
  const when = `${fmtWindow(pickup.window)} · ${plural(items, "item", "items")}`;
  return h("li", { class: `stop${done ? " done" : ""}${next ? " next" : ""}${many ? " door" : ""}`, "data-pickup": pickup.id,
    "data-pickups": pickups.map((p) => p.id).join(","), "data-status": done ? pickup.status : "assigned" },
  h("a", { class: "stop-main", href: many ? `#/s/${pickup.id}` : `#/p/${pickup.id}` },
    h("span", { class: "stop-number", "aria-hidden": "true" }, String(number)),
    h("span", { class: "stop-text" },
      h("strong", { class: "stop-name" }, name),
      h("span", {}, line),
      next ? h("span", { class: "stop-window" }, fmtWindow(pickup.window), h("span", { class: "muted" }, ` · ${plural(items, "item", "items")}`))
        : h("span", { class: "muted" }, when),
      h("span", { class: "stop-badges" },
        pickup.removed && pickup.status !== "cancelled"
          ? h("span", { class: "status status-cancelled" }, "Off your route")
          : many && !done && open < pickups.length ? h("span", { class: "status status-assigned" }, `${open} of ${pickups.length} to do`)
            : h("span", { class: `status status-${pickup.status}` }, STATUS_WORDS[pickup.status] || pickup.status),
        today && stop.day < today ? h("span", { class: "status status-alert", "data-day": stop.day }, `${DAY_WORDS.earlier} ${fmtDate(stop.day)}`) : null,
        warning ? h("span", { class: `status window-${warning.kind}`, "data-window": warning.kind }, warning.text) : null,
        pending ? h("span", { class: "status status-waiting" }, "Not sent yet") : null,
        noticeCount ? h("span", { class: "status status-alert" }, "⚠ Needs attention") : null))),
  // Navigating is for today's stops: a later day's card only opens (to call ahead, to read it).
  done || later ? null : h("div", { class: "stop-actions" }, mapLinks(pickup)));
}

export async function render(root, params, { navigate, user }) {
  async function draw() {
    const pickups = sortByRoute(await allPickupViews());
    const notices = await allNotices();
    const { timezone } = await settings();
    const today = dayKey(Date.now(), timezone);
    // The day's count is in stops, as the driver drives it (three parcels at one door are one stop).
    const todays = groupStops(pickups, timezone, isDone).filter((s) => s.day <= today);
    const open = todays.filter((s) => !s.done);
    const blocked = await getMeta("blocked_user");
    const sharing = await isSharingLocation();
    replace(root,
      h("h1", {}, "Today's route"),
      h("p", { class: "muted" }, `${user.name} · ${fmtDay(new Date())} · ${open.length} of ${plural(todays.length, "stop", "stops")} to do`),
      blocked ? h("p", { class: "notice notice-error", role: "alert" },
        `${blocked} is logged in, but this phone still holds ${user.name}'s unsent work. Log in as ${user.name} to send it.`) : null,
      notices.filter((n) => !pickups.some((p) => p.id === n.pickup_id)).map((notice) =>
        h("div", { class: "notice notice-error", role: "alert", "data-notice": notice.code }, notice.message,
          h("button", { type: "button", class: "small", onclick: async () => { await dismissNotices([notice.nid]); draw(); } }, "OK"))),
      pickups.length
        ? stopLists(pickups, notices, timezone, today)
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

  /**
   * Today: the next stop on its own at the top, the rest to do (with what is still open from
   * earlier days), then what is done, folded. Then each later day under its date.
   */
  function stopLists(pickups, notices, timezone, today) {
    const now = Date.now();
    const noticesOf = (stop) => notices.filter((n) => stop.pickups.some((p) => p.id === n.pickup_id)).length;
    const stops = groupStops(pickups, timezone, isDone);
    const todays = stops.filter((s) => s.day === today);
    const earlier = stops.filter((s) => s.day < today);
    const later = stops.filter((s) => s.day > today);
    // A done stop with a notice (a refusal to read) stays in sight until the driver has seen it.
    const open = [...todays, ...earlier].filter((s) => !s.done || noticesOf(s));
    const done = [...todays, ...earlier].filter((s) => s.done && !noticesOf(s));
    const numbers = new Map([...todays, ...earlier].map((s, i) => [s.key, i + 1]));
    const next = open.find((s) => !s.done);
    const rest = open.filter((s) => s !== next);
    const cardOf = (s, options = {}) => card(s, numbers.get(s.key), noticesOf(s), now, { today, ...options });
    const days = [...new Set(later.map((s) => s.day))];
    return [
      next ? h("section", { class: "next-stop", "aria-labelledby": "next-stop-title" },
        h("h2", { id: "next-stop-title" }, "Next stop"),
        h("ol", { class: "stops" }, cardOf(next, { next: true }))) : h("p", { class: "notice", id: "all-done" }, "Every stop is done for today."),
      rest.length ? h("section", { "aria-labelledby": "later-title" },
        h("h2", { id: "later-title" }, `Then (${rest.length})`),
        h("ol", { class: "stops" }, rest.map((s) => cardOf(s)))) : null,
      done.length ? h("details", { class: "done-today", id: "done-today", open: doneOpen, ontoggle: (e) => { doneOpen = e.target.open; } },
        h("summary", {}, `Done today (${done.length})`),
        h("ol", { class: "stops" }, done.map((s) => cardOf(s)))) : null,
      days.map((day) => {
        const ofDay = later.filter((s) => s.day === day);
        return h("section", { class: "route-day", "data-day": day, "aria-labelledby": `day-${day}` },
          h("h2", { id: `day-${day}` }, `${dayHeading(day, today)} (${plural(ofDay.length, "stop", "stops")})`),
          h("ol", { class: "stops" }, ofDay.map((s, i) => card(s, i + 1, noticesOf(s), now, { later: true }))));
      }),
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
