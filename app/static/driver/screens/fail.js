// @ts-check
// Fail: one of the server's failure reasons, notes and optional photos; the customer's link shows it.

import { recordArrival } from "../actions.js";
import { deleteDraft, getDraft, putDraft } from "../db.js";
import { backLink, h, replace, toast } from "../dom.js";
import { enqueue, pickupViewById } from "../outbox.js";
import { locationQuestion, photoField, photosFor } from "../photos.js";
import { settings } from "../settings.js";
import { DONE_STATUSES } from "../words.js";

export async function render(root, { pickupId }, { navigate }) {
  const pickup = await pickupViewById(pickupId);
  if (!pickup) return navigate("#/");
  if (DONE_STATUSES.has(pickup.status)) {
    replace(root, backLink(`#/p/${pickupId}`, "Pickup"), h("h1", {}, "Could not collect"),
      h("p", { class: "notice" }, "This pickup is already done. Undo the last action on the pickup screen to change it."));
    return;
  }
  const key = `fail:${pickupId}`;
  const draft = (await getDraft(key)) || { key, reason: null, notes: "" };
  const { failureReasons } = await settings();
  /** @type {string[]} */
  const urls = [];
  const error = h("div", { role: "alert" });
  await recordArrival(pickup);

  const notes = h("textarea", { id: "fail-notes", rows: 3, oninput: (e) => { draft.notes = e.target.value; putDraft(draft); } });
  notes.value = draft.notes || "";

  async function submit(event) {
    event.preventDefault();
    replace(error);
    if (!draft.reason) return replace(error, h("p", { class: "notice notice-error" }, "Choose why the pickup failed."));
    if (draft.reason === "other" && !draft.notes.trim()) return replace(error, h("p", { class: "notice notice-error" }, "Explain in the notes what happened."));
    const photoIds = (await photosFor(pickupId)).filter((p) => p.state === "draft" && p.purpose === "fail").map((p) => p.id);
    await enqueue("fail_pickup", { pickup_id: pickupId, reason: draft.reason, notes: draft.notes.trim(), photo_ids: photoIds }, { pickupId, photoIds });
    await deleteDraft(key);
    toast("Recorded as not collected. It will be sent when there is signal.");
    navigate("#/");
  }

  const askLocation = await locationQuestion();
  replace(root,
    backLink(`#/p/${pickupId}`, pickup.customer?.name || "Pickup"),
    h("h1", {}, "Could not collect"),
    askLocation,
    h("form", { novalidate: true, onsubmit: submit },
      h("fieldset", { class: "reasons" }, h("legend", {}, "What happened?"),
        failureReasons.map(({ code, label: words }) => h("label", { class: "reason" },
          h("input", { type: "radio", name: "reason", value: code, checked: draft.reason === code,
            onchange: () => { draft.reason = code; putDraft(draft); } }),
          h("span", {}, words)))),
      h("label", { for: "fail-notes" }, "Notes"),
      notes,
      photoField({ pickupId, purpose: "fail", label: "Take photo (optional)", urls }),
      error,
      h("div", { class: "button-row" }, h("button", { type: "submit", id: "fail-submit", class: "danger big wide" }, "Record as not collected"))));
  return () => urls.forEach((url) => URL.revokeObjectURL(url));
}
