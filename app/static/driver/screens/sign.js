// @ts-check
// Signature: the customer signs on the screen and their name is printed below; stored as a photo,
// then the collection is queued. At a door with several pickups (#/s/12/sign) the person handing
// them over signs once, and every pickup of the door is queued with its own copy of the signature,
// together (all or none).

import { collectionDraftKey as draftKey, doorDrafts, doorOf, finishCollection, finishCollections } from "../actions.js";
import { getDraft, removePhoto } from "../db.js";
import { backLink, h, replace, toast } from "../dom.js";
import { pickupViewById } from "../outbox.js";
import { PhoneFullError, checkQuota, storePhoto } from "../photos.js";
import { settings } from "../settings.js";
import { signaturePad } from "../signature.js";
import { plural } from "../words.js";

/**
 * What is signed for: one pickup (#/p/12/sign) or the open pickups of a door (#/s/12/sign), each
 * with its saved draft; null when there is nothing to sign (go back to the items).
 * @param {number} pickupId
 * @param {boolean} door
 */
async function signedFor(pickupId, door) {
  if (door) {
    const { open } = await doorOf(pickupId);
    return open.length ? doorDrafts(open) : null;
  }
  const pickup = await pickupViewById(pickupId);
  const draft = await getDraft(draftKey(pickupId));
  return pickup && draft ? [{ pickup, draft }] : null;
}

export async function render(root, { pickupId, door = false }, { navigate }) {
  const itemsHash = door ? `#/s/${pickupId}` : `#/p/${pickupId}/collect`;
  const collections = await signedFor(pickupId, door);
  if (!collections) return navigate(itemsHash);
  const config = await settings();
  const customers = [...new Set(collections.map(({ pickup }) => pickup.customer?.name).filter(Boolean))];
  const canvas = h("canvas", { id: "signature", class: "signature", "aria-label": "Signature area: sign with a finger" });
  const firstDraft = collections[0].draft;
  const name = h("input", { id: "signed-by", type: "text", autocomplete: "off", value: firstDraft.signed_by || (customers.length === 1 ? customers[0] : "") });
  const error = h("div", { role: "alert" });
  const ask = door
    ? h("p", {}, `Ask the person handing over the parcels to sign once for all ${plural(collections.length, "pickup", "pickups")}: `
      + collections.map(({ pickup }) => pickup.customer?.name || pickup.reference).join(", ") + ". Each pickup keeps its own copy of the signature.")
    : h("p", {}, `Ask ${customers[0] || "the customer"} to sign for handing over the items.`);

  replace(root,
    backLink(itemsHash, "Items"),
    h("h1", {}, "Signature"),
    ask,
    h("div", { class: "signature-box" }, canvas),
    h("div", { class: "button-row" }, h("button", { type: "button", id: "clear-signature", onclick: () => pad.clear() }, "Clear")),
    h("label", { for: "signed-by" }, "Name in capitals"),
    name,
    error,
    h("div", { class: "button-row" },
      h("button", { type: "button", id: "finish", class: "primary big wide", onclick: () => finish() },
        door ? `Finish: collect everything here (${plural(collections.length, "pickup", "pickups")})` : "Finish collection"),
      config.signatureRequired ? null
        : h("button", { type: "button", id: "finish-unsigned", class: "big wide", onclick: () => finish({ unsigned: true }) }, "Finish without signature")));
  const pad = signaturePad(canvas);
  const done = () => pad.disconnect();

  async function finish({ unsigned = false } = {}) {
    replace(error);
    const signedBy = name.value.trim();
    /** @type {Map<number, string>} */
    const signatures = new Map();
    if (!unsigned) {
      if (pad.isEmpty()) return replace(error, h("p", { class: "notice notice-error" }, "The signature is empty. Ask the customer to sign in the box."));
      if (!signedBy) return replace(error, h("p", { class: "notice notice-error" }, "Write the name of the person who signed."));
      try {
        await checkQuota();
      } catch (err) {
        if (err instanceof PhoneFullError) return replace(error, h("p", { class: "notice notice-error" }, err.message));
      }
      const image = await pad.toBytes();
      for (const { pickup } of collections) signatures.set(pickup.id, (await storePhoto(image, { pickupId: pickup.id, purpose: "signature" })).id);
    }
    const withName = collections.map(({ pickup, draft }) => ({ pickup, draft: { ...draft, signed_by: signedBy } }));
    const result = door
      ? await finishCollections(withName, { signatures, signedBy: unsigned ? null : signedBy })
      : await finishCollection(withName[0].pickup, withName[0].draft, { signaturePhotoId: signatures.get(pickupId) || null, signedBy: unsigned ? null : signedBy });
    if (!result.ok) {
      // Nothing was queued: the copies of a signature that no collection carries go, so none is left to upload.
      for (const photoId of signatures.values()) await removePhoto(photoId);
      return replace(error, h("div", { class: "notice notice-error" }, h("ul", {}, result.problems.map((p) => h("li", {}, p)))));
    }
    toast(door ? `${plural(collections.length, "pickup", "pickups")} collected. They will be sent when there is signal.`
      : "Collection saved. It will be sent when there is signal.");
    navigate("#/");
  }
  return done;
}
