// Collect: each item's quantity and grade (A–D), photos where the grade or the
// settings require them, or "collect everything as expected" in one action.

import { deleteDraft, getDraft, getLocal, putDraft, updateLocal } from "../db.js";
import { enqueue, pickupViewById } from "../outbox.js";
import { photoField, photosFor } from "../photos.js";
import { settings } from "../sync.js";
import { DONE_STATUSES, GRADES, backLink, h, replace, toast } from "../ui.js";

export async function recordArrival(pickup) {
  const local = await getLocal(pickup.id);
  if (local.arrived_at) return;
  await updateLocal(pickup.id, { arrived_at: new Date().toISOString() });
  await enqueue("arrive", { pickup_id: pickup.id }, { pickupId: pickup.id });
}

export function draftKey(pickupId) {
  return `collect:${pickupId}`;
}

function photoNeeded(grade, config) {
  return config.photo_required || (grade && config.photo_required_grades.includes(grade));
}

// The collect_items mutation from a draft; checks what must be there first.
export async function buildCollection(pickup, draft, config) {
  const photos = (await photosFor(pickup.id)).filter((p) => p.state === "draft" && p.purpose === "item");
  const problems = [];
  const items = pickup.items.map((item) => {
    const line = draft.items[item.id] || {};
    const quantity = line.quantity ?? item.quantity;
    const grade = quantity > 0 ? line.grade || null : null;
    const photoIds = photos.filter((p) => p.item_id === item.id).map((p) => p.id);
    if (quantity > 0 && !grade) problems.push(`Choose a grade for ${item.description}.`);
    if (quantity > 0 && photoNeeded(grade, config) && !photoIds.length) problems.push(`Take a photo of ${item.description} (grade ${grade} needs one).`);
    return { item_id: item.id, quantity, grade, notes: (line.notes || "").trim(), photo_ids: photoIds };
  });
  if (items.every((line) => line.quantity === 0)) problems.push("Nothing is marked as collected. If you could not collect anything, use “Could not collect”.");
  return { items, problems, photoIds: photos.map((p) => p.id) };
}

export async function finishCollection(pickup, draft, { signaturePhotoId = null, signedBy = null } = {}) {
  const config = await settings();
  const { items, problems, photoIds } = await buildCollection(pickup, draft, config);
  if (problems.length) return { ok: false, problems };
  const args = { pickup_id: pickup.id, items, signature_photo_id: signaturePhotoId };
  if (signedBy) args.handed_over_by = signedBy;
  await enqueue("collect_items", args, { pickupId: pickup.id, photoIds: signaturePhotoId ? [...photoIds, signaturePhotoId] : photoIds });
  await deleteDraft(draftKey(pickup.id));
  return { ok: true };
}

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
    const photoHint = h("p", { class: "muted", hidden: !photoNeeded(line.grade, config) }, "A photo is required for this grade.");
    const setQty = (n) => { line.quantity = Math.max(0, Math.min(item.quantity, n | 0)); qty.value = String(line.quantity); save(); };
    qty.addEventListener("change", () => setQty(Number(qty.value)));
    const grades = h("fieldset", { class: "grades" }, h("legend", {}, "Condition"),
      GRADES.map(([grade, word, detail]) => h("label", { class: "grade" },
        h("input", { type: "radio", name: `grade-${item.id}`, value: grade, checked: line.grade === grade,
          onchange: () => { line.grade = grade; photoHint.hidden = !photoNeeded(grade, config); save(); } }),
        h("span", {}, h("strong", {}, grade), ` ${word}`, h("small", {}, detail)))));
    return h("section", { class: "card item-card", "data-item": item.id },
      h("h2", {}, item.description),
      h("p", { class: "muted" }, `${item.sku} · expected ${item.quantity}${item.reason ? ` · ${item.reason}` : ""}`),
      h("div", { class: "qty" },
        h("label", { for: `qty-${item.id}` }, "Quantity collected"),
        h("div", { class: "stepper" },
          h("button", { type: "button", "aria-label": `One less ${item.description}`, onclick: () => setQty(line.quantity - 1) }, "−"),
          qty,
          h("button", { type: "button", "aria-label": `One more ${item.description}`, onclick: () => setQty(line.quantity + 1) }, "+"))),
      grades,
      photoHint,
      h("label", { for: `notes-${item.id}` }, "Notes (optional)"),
      h("input", { id: `notes-${item.id}`, type: "text", value: line.notes || "", oninput: (e) => { line.notes = e.target.value; save(); } }),
      photoField({ pickupId, purpose: "item", itemId: item.id, label: "Take photo", urls }));
  }

  async function collectAll() {
    for (const item of pickup.items) {
      const line = draft.items[item.id] || (draft.items[item.id] = {});
      line.quantity = item.quantity;
      line.grade = line.grade || "A";
    }
    await save();
    if (config.signature_required) return navigate(`#/p/${pickupId}/sign`);
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

  replace(root,
    backLink(`#/p/${pickupId}`, pickup.customer?.name || "Pickup"),
    h("h1", {}, "Collect items"),
    blockedByScan
      ? h("div", { class: "notice notice-error", role: "alert" }, "Dispatch asks you to scan this parcel's label first. ",
        h("a", { href: `#/p/${pickupId}/scan` }, "Scan the label"))
      : h("button", { type: "button", id: "collect-all", class: "primary big wide", onclick: collectAll },
        "Collect everything as expected"),
    problemsBox,
    pickup.items.map(itemCard),
    h("div", { class: "button-row sticky-actions" },
      h("button", { type: "button", id: "to-signature", class: "primary big wide", disabled: blockedByScan, onclick: toSignature }, "Continue to signature")));
  await save();
  return () => urls.forEach((url) => URL.revokeObjectURL(url));
}
