// @ts-check
// One door: every pickup at this address today, with the combined list of items. "Collect
// everything here" asks once for a grade for all items (one tap, never a default: the hub
// restocks by it); any item can be changed before finishing; finishing records each pickup as its
// own collection (one mutation each, queued together), signed once at the door (each pickup keeps
// its own copy) or without a signature. Each pickup still opens on its own to scan its label, take
// photos, sign or fail it.

import { checkCollections, collectionDraftKey as draftKey, doorDrafts, doorOf, finishCollections, photosNeeded, recordArrival } from "../actions.js";
import { getLocal, putDraft } from "../db.js";
import { backLink, h, replace, toast } from "../dom.js";
import { settings } from "../settings.js";
import { isDone } from "../stops.js";
import { STATUS_WORDS, fmtWindow, plural } from "../words.js";

export async function render(root, { pickupId }, { navigate }) {
  const config = await settings();
  const { stop, open } = await doorOf(pickupId);
  if (!stop) return navigate("#/");
  if (stop.pickups.length === 1) return navigate(`#/p/${pickupId}`);
  const first = stop.pickups[0];
  const address = first.address || {};
  const problemsBox = h("div", { id: "problems", role: "alert" });
  /** @type {Map<number, any>} */
  const drafts = new Map((await doorDrafts(open)).map(({ pickup, draft }) => [pickup.id, draft]));
  /** @type {Map<number, any>} */
  const locals = new Map();
  for (const pickup of open) locals.set(pickup.id, await getLocal(pickup.id));
  const unscanned = open.filter((p) => p.scan_required && !locals.get(p.id)?.scanned_at);
  /** @type {Map<number, (grade: string, byAll?: boolean) => void>} */
  const setters = new Map();
  const lineOf = (pickup, item) => {
    const draft = drafts.get(pickup.id);
    return draft.items[item.id] || (draft.items[item.id] = { quantity: item.quantity, grade: null, notes: "" });
  };
  const saveAll = () => Promise.all([...drafts.values()].map((draft) => putDraft(draft)));

  function showProblems(problems) {
    replace(problemsBox, problems.length ? h("div", { class: "notice notice-error" }, h("ul", {}, problems.map((p) => h("li", {}, p)))) : null);
    if (problems.length) problemsBox.scrollIntoView({ block: "center" });
  }

  function itemRow(pickup, item) {
    const line = lineOf(pickup, item);
    const hintWords = h("span", {});
    const hintLink = h("a", { href: `#/p/${pickup.id}/collect` }, "");
    const hint = h("p", { class: "muted photo-hint" }, hintWords, hintLink, ".");
    const showHint = (/** @type {string | null} */ grade) => {
      const needed = photosNeeded(grade, config);
      hint.hidden = !needed;
      hintWords.textContent = needed === 1 ? "This grade needs a photo: " : `This grade needs ${needed} photos: `;
      hintLink.textContent = needed === 1 ? "open this pickup to take it" : "open this pickup to take them";
    };
    showHint(line.grade);
    const radios = config.grades.map(({ code }) => h("input", { type: "radio", name: `grade-${item.id}`, value: code, checked: line.grade === code,
      onchange: () => setGrade(code) }));
    // byAll: set by the one tap for everything; a later one-tap may change it, a grade tapped here it leaves alone.
    const setGrade = (grade, byAll = false) => {
      line.grade = grade; line.graded_by_all = byAll;
      radios.forEach((r) => { r.checked = r.value === grade; });
      showHint(grade);
      saveAll();
    };
    setters.set(item.id, setGrade);
    return h("li", { class: "door-item", "data-item": item.id },
      h("p", {}, h("span", { class: "item-qty" }, `${item.quantity}×`), " ", h("strong", {}, item.description),
        h("span", { class: "muted" }, ` · ${item.sku}`)),
      h("fieldset", { class: "grades" }, h("legend", {}, `Condition of ${item.description}`),
        config.grades.map(({ code, label }, i) => h("label", { class: "grade" }, radios[i], h("span", {}, h("strong", {}, code), ` ${label}`)))),
      hint);
  }

  function pickupCard(pickup) {
    const done = isDone(pickup);
    const scanned = locals.get(pickup.id)?.scanned_at;
    return h("section", { class: `card door-pickup${done ? " done" : ""}`, "data-pickup": pickup.id },
      h("h2", {}, pickup.customer?.name || pickup.reference),
      h("p", { class: "muted" }, [pickup.reference, pickup.address?.line2, fmtWindow(pickup.window)].filter(Boolean).join(" · ")),
      h("p", {}, h("span", { class: `status status-${pickup.status}` }, STATUS_WORDS[pickup.status] || pickup.status),
        !done && pickup.scan_required && !scanned ? h("span", { class: "warn" }, " · scan required before collecting") : null,
        scanned ? h("span", { class: "ok" }, " ✓ label scanned") : null),
      done ? null : h("ul", { class: "door-items" }, pickup.items.map((item) => itemRow(pickup, item))),
      h("div", { class: "button-row" },
        h("a", { class: "button", href: `#/p/${pickup.id}` }, done ? "Open this pickup" : "Open this pickup (scan, photos, sign, fail)")));
  }

  const items = open.flatMap((pickup) => pickup.items.map((item) => ({ pickup, item })));
  const allStatus = h("p", { id: "collect-all-status", role: "status" });
  // Signing is the usual end (the proof dispatch and the customer see); finishing unsigned is for
  // a door where nobody can sign, as on a single pickup.
  const signButton = h("button", { type: "button", id: "collect-all-sign", class: "primary big wide", onclick: toSignature },
    `Continue to signature (${plural(open.length, "pickup", "pickups")})`);
  const finishButton = h("button", { type: "button", id: "collect-all-finish", class: "big wide", hidden: config.signatureRequired, onclick: finishAll },
    "Finish without signature");
  const finishRow = h("div", { class: "button-row", id: "collect-all-actions", hidden: true }, signButton, finishButton);
  const gradeAllButtons = config.grades.map(({ code, label }) => h("button", {
    type: "button", class: "grade grade-all-choice", "data-grade": code, "aria-pressed": "false", onclick: () => gradeAll(code) },
  h("span", {}, h("strong", {}, code), ` ${label}`)));
  const panel = h("section", { id: "collect-all-panel", class: "card", hidden: true, "aria-labelledby": "collect-all-title" },
    h("h2", { id: "collect-all-title" }, "What condition is everything in?"),
    h("p", { class: "muted" }, "One tap grades every item you have not graded yet. You can still change any item below before finishing."),
    h("div", { class: "grades" }, gradeAllButtons),
    allStatus,
    finishRow);

  const graded = ({ pickup, item }) => {
    const line = lineOf(pickup, item);
    return Boolean(line.grade) && !line.graded_by_all;
  };

  // "Everything here": every item at its expected count, saved.
  function takeEverything() {
    for (const { pickup, item } of items) lineOf(pickup, item).quantity = item.quantity;
    return saveAll();
  }

  function collectAll() {
    takeEverything();
    panel.hidden = false;
    const allGraded = items.every(graded);
    finishRow.hidden = !allGraded;
    allStatus.textContent = allGraded ? "Every item has the grade you gave it." : "";
    panel.scrollIntoView({ block: "start" });
    (allGraded ? signButton : gradeAllButtons[0])?.focus({ preventScroll: true });
  }

  function gradeAll(code) {
    const ungraded = items.filter((entry) => !graded(entry));
    for (const { item } of ungraded) setters.get(item.id)?.(code, true);
    gradeAllButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.grade === code)));
    const kept = items.length - ungraded.length;
    allStatus.textContent = `${plural(ungraded.length, "item", "items")} set to grade ${code}`
      + (kept ? `; ${kept} ${kept === 1 ? "keeps" : "keep"} the grade you gave.` : ".");
    finishRow.hidden = false;
  }

  const collections = () => open.map((pickup) => ({ pickup, draft: drafts.get(pickup.id) }));

  async function toSignature() {
    await takeEverything();
    const { problems } = await checkCollections(collections());
    if (problems.length) return showProblems(problems);
    navigate(`#/s/${pickupId}/sign`);
  }

  async function finishAll() {
    finishButton.disabled = true;
    try {
      await takeEverything();
      const result = await finishCollections(collections());
      if (!result.ok) return showProblems(result.problems);
      toast(`${plural(open.length, "pickup", "pickups")} collected. They will be sent when there is signal.`);
      navigate("#/");
    } finally {
      finishButton.disabled = false;
    }
  }

  for (const pickup of open) await recordArrival(pickup);

  replace(root,
    backLink("#/", "Route"),
    h("h1", {}, address.line1 || "This stop"),
    h("p", { class: "muted" }, `${address.postcode || ""} ${address.city || ""} · ${plural(stop.pickups.length, "pickup", "pickups")} at this door · `
      + plural(stop.pickups.reduce((n, p) => n + p.items.reduce((m, item) => m + item.quantity, 0), 0), "item", "items")),
    !open.length ? h("p", { class: "notice", id: "door-done" }, "Everything here is done.")
      : unscanned.length
        ? h("div", { class: "notice notice-error", role: "alert" }, "Dispatch asks you to scan these labels first: ",
          unscanned.map((p, i) => [i ? ", " : "", h("a", { href: `#/p/${p.id}/scan` }, p.customer?.name || p.reference)]))
        : h("button", { type: "button", id: "collect-all", class: "primary big wide", onclick: collectAll },
          `Collect everything here (${plural(items.reduce((n, { item }) => n + item.quantity, 0), "item", "items")})`),
    panel,
    problemsBox,
    stop.pickups.map(pickupCard));
}
