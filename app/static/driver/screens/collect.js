// @ts-check
// Collect: each item's quantity and grade (the server's grades and labels),
// as many photos as the admins ask for the grade, or "collect everything as expected": one tap for a
// grade the driver chooses for every item not yet graded (never a default grade: the hub restocks by it),
// then any item can still be changed before finishing.

import { buildCollection, collectionDraftKey as draftKey, finishCollection, photosHint, recordArrival } from "../actions.js";
import { getDraft, getLocal, putDraft } from "../db.js";
import { backLink, h, replace, toast } from "../dom.js";
import { pickupViewById } from "../outbox.js";
import { locationQuestion, photoField } from "../photos.js";
import { settings } from "../settings.js";
import { DONE_STATUSES } from "../words.js";

export async function render(root, { pickupId }, { navigate }) {
  const pickup = await pickupViewById(pickupId);
  if (!pickup) return navigate("#/");
  const urls = [];
  const config = await settings();
  const local = await getLocal(pickupId);
  const draft = (await getDraft(draftKey(pickupId))) || { key: draftKey(pickupId), items: {} };
  const problemsBox = h("div", { id: "problems", role: "alert" });
  const save = () => putDraft(draft);
  const blockedByScan = pickup.scan_required && !local.scanned_at;
  /** @type {Map<any, {setQty: (n: number) => void, setGrade: (g: string, byAll?: boolean) => void}>} */
  const cards = new Map();

  if (DONE_STATUSES.has(pickup.status)) {
    replace(root, backLink(`#/p/${pickupId}`, "Pickup"), h("h1", {}, "Collect items"),
      h("p", { class: "notice" }, "This pickup is already done. Undo the last action on the pickup screen to change it."));
    return;
  }
  await recordArrival(pickup);

  function showProblems(problems) {
    replace(problemsBox, problems.length ? h("div", { class: "notice notice-error" }, h("ul", {}, problems.map((p) => h("li", {}, p)))) : null);
    if (problems.length) problemsBox.scrollIntoView({ block: "center" });
  }

  function itemCard(item) {
    const line = draft.items[item.id] || (draft.items[item.id] = { quantity: item.quantity, grade: null, notes: "" });
    // Never more than expected: extra goods are for dispatch to decide, not the van.
    const qty = h("input", { id: `qty-${item.id}`, type: "number", inputmode: "numeric", min: 0, max: item.quantity, value: String(line.quantity), class: "qty-input" });
    const photoHint = h("p", { class: "muted photo-hint", hidden: !photosHint(line.grade, config) }, photosHint(line.grade, config));
    const setQty = (n) => { line.quantity = Math.max(0, Math.min(item.quantity, n | 0)); qty.value = String(line.quantity); save(); };
    qty.addEventListener("change", () => setQty(Number(qty.value)));
    const radios = config.grades.map(({ code: grade }) => h("input", { type: "radio", name: `grade-${item.id}`, value: grade, checked: line.grade === grade,
      onchange: () => setGrade(grade) }));
    // byAll: set by the one-tap grade for everything; a later one-tap may change it, a grade tapped here it leaves alone.
    const setGrade = (grade, byAll = false) => {
      line.grade = grade; line.graded_by_all = byAll;
      radios.forEach((r) => { r.checked = r.value === grade; });
      photoHint.textContent = photosHint(grade, config); photoHint.hidden = !photoHint.textContent; save();
    };
    cards.set(item.id, { setQty, setGrade });
    const grades = h("fieldset", { class: "grades" }, h("legend", {}, "Condition"),
      config.grades.map(({ code: grade, label }, i) => h("label", { class: "grade" }, radios[i], h("span", {}, h("strong", {}, grade), ` ${label}`))));
    return h("section", { class: "card item-card", "data-item": item.id },
      h("h2", {}, item.description),
      h("p", { class: "muted" }, `${item.sku} · expected ${item.quantity}${item.reason ? ` · ${item.reason}` : ""}`),
      h("div", { class: "qty" },
        h("label", { for: `qty-${item.id}` }, "Quantity collected"),
        h("div", { class: "stepper" },
          h("button", { type: "button", "aria-label": `−, one less ${item.description}`, onclick: () => setQty(line.quantity - 1) }, "−"),
          qty,
          h("button", { type: "button", "aria-label": `+, one more ${item.description}`, onclick: () => setQty(line.quantity + 1) }, "+"))),
      grades,
      photoHint,
      h("label", { for: `notes-${item.id}` }, "Notes (optional)"),
      h("input", { id: `notes-${item.id}`, type: "text", value: line.notes || "", oninput: (e) => { line.notes = e.target.value; save(); } }),
      photoField({ pickupId, purpose: "item", itemId: item.id, label: "Take photo", urls }));
  }

  const allStatus = h("p", { id: "collect-all-status", role: "status" });
  // As at a door: signing is the usual end, finishing unsigned is for when nobody can sign.
  const signAllButton = h("button", { type: "button", id: "collect-all-sign", class: "primary big wide", disabled: blockedByScan, onclick: toSignature },
    "Continue to signature");
  // Where the admins ask for a signature every time, there is no finishing without one.
  const finishAllButton = h("button", { type: "button", id: "collect-all-finish", class: "big wide", hidden: config.signatureRequired, onclick: finishAll },
    "Finish without signature");
  const finishAllRow = h("div", { class: "button-row", id: "collect-all-actions", hidden: true }, signAllButton, finishAllButton);
  const gradeAllButtons = config.grades.map(({ code, label }) => h("button", {
    type: "button", class: "grade grade-all-choice", "data-grade": code, "aria-pressed": "false", onclick: () => gradeAll(code) },
  h("span", {}, h("strong", {}, code), ` ${label}`)));
  const allPanel = h("section", { id: "collect-all-panel", class: "card", hidden: true, "aria-labelledby": "collect-all-title" },
    h("h2", { id: "collect-all-title" }, "What condition is everything in?"),
    h("p", { class: "muted" }, "One tap grades every item you have not graded yet. You can still change any item below before finishing."),
    h("div", { class: "grades" }, gradeAllButtons),
    allStatus,
    finishAllRow);

  function ungraded() { return pickup.items.filter((item) => !draft.items[item.id]?.grade || draft.items[item.id].graded_by_all); }

  function collectAll() {
    for (const item of pickup.items) cards.get(item.id)?.setQty(item.quantity);
    allPanel.hidden = false;
    const allGraded = pickup.items.every((item) => draft.items[item.id]?.grade && !draft.items[item.id].graded_by_all);
    finishAllRow.hidden = !allGraded;
    allStatus.textContent = allGraded ? "Every item has the grade you gave it." : "";
    allPanel.scrollIntoView({ block: "start" });
    (allGraded ? signAllButton : gradeAllButtons[0])?.focus({ preventScroll: true });
  }

  function gradeAll(code) {
    const open = ungraded();
    for (const item of open) cards.get(item.id)?.setGrade(code, true);
    gradeAllButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.grade === code)));
    const kept = pickup.items.length - open.length;
    allStatus.textContent = `${open.length} ${open.length === 1 ? "item" : "items"} set to grade ${code}`
      + (kept ? `; ${kept} ${kept === 1 ? "keeps" : "keep"} the grade you gave.` : ".");
    finishAllRow.hidden = false;
  }

  async function finishAll() {
    await save();
    const result = await finishCollection(pickup, draft);
    if (!result.ok) return showProblems(result.problems);
    toast("Everything collected. It will be sent when there is signal.");
    navigate("#/");
  }

  async function toSignature() {
    await save();
    const { problems } = await buildCollection(pickup, draft, config);
    if (problems.length) return showProblems(problems);
    navigate(`#/p/${pickupId}/sign`);
  }

  const askLocation = await locationQuestion();
  replace(root,
    backLink(`#/p/${pickupId}`, pickup.customer?.name || "Pickup"),
    h("h1", {}, "Collect items"),
    askLocation,
    blockedByScan
      ? h("div", { class: "notice notice-error", role: "alert" }, "Dispatch asks you to scan this parcel's label first. ",
        h("a", { href: `#/p/${pickupId}/scan` }, "Scan the label"))
      : h("button", { type: "button", id: "collect-all", class: "primary big wide", onclick: collectAll },
        "Collect everything as expected"),
    allPanel,
    problemsBox,
    pickup.items.map(itemCard),
    h("div", { class: "button-row sticky-actions" },
      h("button", { type: "button", id: "to-signature", class: "primary big wide", disabled: blockedByScan, onclick: toSignature }, "Continue to signature")));
  await save();
  return () => urls.forEach((url) => URL.revokeObjectURL(url));
}
