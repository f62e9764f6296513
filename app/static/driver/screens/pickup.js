// @ts-check
// Pickup: customer, access notes, items, the label code, what is waiting to be
// sent (with undo), and any rejection in plain words.

import { dismissNotices, getLocal, noticesOf } from "../db.js";
import { backLink, h, replace, toast } from "../dom.js";
import { on } from "../events.js";
import { formatLabelCode } from "../labelcode.js";
import { allPickupViews, mutationsFor, pickupViewById, undoLast } from "../outbox.js";
import { labelFor, settings } from "../settings.js";
import { stopOf } from "../stops.js";
import { mapLinks } from "../widgets.js";
import { ACTION_WORDS, DONE_STATUSES, STATUS_WORDS, fmtTime, fmtWindow } from "../words.js";

// One box per reason: "Arrival and collection not accepted: Dispatch cancelled…".
function groupNotices(notices) {
  const groups = new Map();
  for (const notice of notices) {
    const group = groups.get(notice.message) || { names: [], notice, ids: [] };
    if (!group.names.includes(notice.name)) group.names.push(notice.name);
    group.ids.push(notice.nid);
    groups.set(notice.message, group);
  }
  return [...groups.values()];
}

function listWords(names) {
  const words = names.map((name, i) => {
    const word = ACTION_WORDS[name] || "Action";
    return i ? word.toLowerCase() : word;
  });
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} and ${words.at(-1)}` : words[0];
}

export async function render(root, { pickupId }) {
  async function draw() {
    const pickup = await pickupViewById(pickupId);
    if (!pickup) {
      replace(root, backLink("#/", "Route"), h("h1", {}, "Pickup not found"),
        h("p", {}, "This pickup is not on your route (any more). Dispatch may have moved it."));
      return;
    }
    const notices = await noticesOf(pickupId);
    const { grades, failureReasons, timezone } = await settings();
    const door = stopOf(await allPickupViews(), pickupId, timezone, (p) => DONE_STATUSES.has(p.status) || Boolean(p.removed));
    const { pending } = await mutationsFor(pickupId);
    const local = await getLocal(pickupId);
    const done = DONE_STATUSES.has(pickup.status) || Boolean(pickup.removed);
    const newest = pending.sort((a, b) => b.id - a.id)[0];
    const c = pickup.customer || {};
    const a = pickup.address || {};

    replace(root,
      backLink("#/", "Route"),
      h("h1", {}, c.name || pickup.reference),
      h("p", { class: "pickup-meta" },
        h("span", { class: `status status-${pickup.status}` }, STATUS_WORDS[pickup.status] || pickup.status),
        ` ${pickup.reference} · ${fmtWindow(pickup.window)}`),
      groupNotices(notices).map(({ names, notice, ids }) => h("div", { class: "notice notice-error", role: "alert", "data-notice": notice.code },
        h("strong", {}, `${listWords(names)} not accepted: `),
        notice.message,
        h("button", { type: "button", class: "small", onclick: async () => { await dismissNotices(ids); draw(); } }, "OK"))),
      door && door.pickups.length > 1 ? h("p", { class: "notice", "data-door": door.pickups.length },
        `One of ${door.pickups.length} pickups at this door. `, h("a", { href: `#/s/${pickupId}` }, "See them all and collect everything here")) : null,
      pickup.status === "failed" && pickup.failure_reason
        ? h("p", { class: "notice" }, `Recorded as failed: ${labelFor(failureReasons, pickup.failure_reason)}${pickup.failure_notes ? ` — ${pickup.failure_notes}` : ""}`) : null,
      pickup.status === "cancelled" ? h("p", { class: "notice notice-error" }, `Cancelled by dispatch${pickup.cancel_reason || pickup.removed?.message ? `: ${pickup.cancel_reason || pickup.removed.message}` : ""}. Do not collect.`) : null,
      pickup.removed && pickup.status !== "cancelled" ? h("p", { class: "notice notice-error" }, "Dispatch took this pickup off your route. What you recorded stays on the phone until it is sent.") : null,
      h("section", { class: "card" },
        h("h2", {}, "Address"),
        h("p", { class: "address" }, a.line1, a.line2 ? h("br") : null, a.line2 || null, h("br"), `${a.postcode || ""} ${a.city || ""}`),
        pickup.access_notes ? h("p", { class: "access" }, h("strong", {}, "Access: "), pickup.access_notes) : null,
        pickup.notes ? h("p", {}, h("strong", {}, "Notes: "), pickup.notes) : null,
        h("div", { class: "button-row" }, mapLinks(pickup))),
      h("section", { class: "card" },
        h("h2", {}, "Items to collect"),
        h("ul", { class: "items" }, pickup.items.map((item) => h("li", {},
          h("span", { class: "item-qty" }, `${item.quantity}×`),
          h("span", {}, h("strong", {}, item.description), h("br"), h("span", { class: "muted" }, `${item.sku}${item.reason ? ` · ${item.reason}` : ""}`),
            item.collected_quantity !== null && item.collected_quantity !== undefined
              ? h("span", { class: "collected" }, h("br"), `Collected ${item.collected_quantity}${item.grade ? ` · grade ${item.grade} (${labelFor(grades, item.grade)})` : ""}`) : null)))),
        h("p", {}, "Label code ", h("strong", { class: "code", "data-label-code": pickup.label_code }, formatLabelCode(pickup.label_code)),
          local.scanned_at ? h("span", { class: "ok" }, ` ✓ scanned ${fmtTime(local.scanned_at)}`) : pickup.scan_required ? h("span", { class: "warn" }, " · scan required before collecting") : null)),
      pending.length ? h("section", { class: "card waiting", "aria-label": "Not sent yet" },
        h("h2", {}, "Not sent yet"),
        h("ul", {}, pending.sort((x, y) => x.id - y.id).map((m) => h("li", {}, `${ACTION_WORDS[m.name] || m.name} · ${fmtTime(m.device_time)}`))),
        newest && !newest.sent ? h("button", { type: "button", id: "undo", onclick: async () => {
          const result = await undoLast(pickupId);
          toast(result.ok ? `Undone: ${ACTION_WORDS[result.mutation.name] || result.mutation.name}.` : result.reason, result.ok ? "info" : "error");
          draw();
        } }, `Undo ${(ACTION_WORDS[newest.name] || newest.name).toLowerCase()}`) : null) : null,
      done ? null : h("nav", { class: "actions-grid", "aria-label": "Actions" },
        h("a", { class: "button primary big", href: `#/p/${pickupId}/collect` }, "Collect items"),
        h("a", { class: "button big", href: `#/p/${pickupId}/scan` }, "Scan label"),
        h("a", { class: "button big", href: `#/p/${pickupId}/photos` }, "Photos"),
        h("a", { class: "button big", href: `#/p/${pickupId}/label` }, "Print label"),
        h("a", { class: "button danger big", href: `#/p/${pickupId}/fail` }, "Could not collect")),
      done && pickup.status !== "cancelled" && !pickup.removed ? h("nav", { class: "actions-grid", "aria-label": "Actions" },
        h("a", { class: "button big", href: `#/p/${pickupId}/photos` }, "Photos"),
        h("a", { class: "button big", href: `#/p/${pickupId}/label` }, "Print label")) : null);
  }
  await draw();
  return on("changed", (detail) => { if (!detail || !detail.pickupId || detail.pickupId === pickupId) draw(); });
}
