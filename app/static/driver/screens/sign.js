// @ts-check
// Signature: the customer signs on the screen and their name is printed below;
// stored as a photo, then the whole collection is queued as one action.

import { collectionDraftKey as draftKey, finishCollection } from "../actions.js";
import { getDraft } from "../db.js";
import { backLink, h, replace, toast } from "../dom.js";
import { pickupViewById } from "../outbox.js";
import { PhoneFullError, checkQuota, storePhoto } from "../photos.js";
import { signaturePad } from "../signature.js";

export async function render(root, { pickupId }, { navigate }) {
  const pickup = await pickupViewById(pickupId);
  const draft = await getDraft(draftKey(pickupId));
  if (!pickup || !draft) return navigate(`#/p/${pickupId}/collect`);
  const canvas = h("canvas", { id: "signature", class: "signature", "aria-label": "Signature area: sign with a finger" });
  const name = h("input", { id: "signed-by", type: "text", autocomplete: "off", value: draft.signed_by || pickup.customer?.name || "" });
  const error = h("div", { role: "alert" });

  replace(root,
    backLink(`#/p/${pickupId}/collect`, "Items"),
    h("h1", {}, "Signature"),
    h("p", {}, `Ask ${pickup.customer?.name || "the customer"} to sign for handing over the items.`),
    h("div", { class: "signature-box" }, canvas),
    h("div", { class: "button-row" }, h("button", { type: "button", id: "clear-signature", onclick: () => pad.clear() }, "Clear")),
    h("label", { for: "signed-by" }, "Name in capitals"),
    name,
    error,
    h("div", { class: "button-row" },
      h("button", { type: "button", id: "finish", class: "primary big wide", onclick: finish }, "Finish collection"),
      h("button", { type: "button", id: "finish-unsigned", class: "big wide", onclick: () => finish({ unsigned: true }) }, "Finish without signature")));
  const pad = signaturePad(canvas);
  const done = () => pad.disconnect();

  async function finish({ unsigned = false } = {}) {
    replace(error);
    let signaturePhotoId = null;
    const signedBy = name.value.trim();
    if (!unsigned) {
      if (pad.isEmpty()) return replace(error, h("p", { class: "notice notice-error" }, "The signature is empty. Ask the customer to sign in the box."));
      if (!signedBy) return replace(error, h("p", { class: "notice notice-error" }, "Write the name of the person who signed."));
      try {
        await checkQuota();
      } catch (err) {
        if (err instanceof PhoneFullError) return replace(error, h("p", { class: "notice notice-error" }, err.message));
      }
      const photo = await storePhoto(await pad.toBytes(), { pickupId, purpose: "signature" });
      signaturePhotoId = photo.id;
    }
    const result = await finishCollection(pickup, { ...draft, signed_by: signedBy }, { signaturePhotoId, signedBy: unsigned ? null : signedBy });
    if (!result.ok) return replace(error, h("div", { class: "notice notice-error" }, h("ul", {}, result.problems.map((p) => h("li", {}, p)))));
    toast("Collection saved. It will be sent when there is signal.");
    navigate("#/");
  }
  return done;
}
