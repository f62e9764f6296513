// @ts-check
// Scan: check that this parcel's label belongs to this pickup, by camera, by a
// hardware scanner typing into the field (keyboard wedge) or by hand.

import { recordArrival } from "../actions.js";
import { getLocal, updateLocal } from "../db.js";
import { backLink, h, replace, toast } from "../dom.js";
import { explainInvalid, formatLabelCode, isValidLabelCode, normaliseLabelCode } from "../labelcode.js";
import { allPickupViews, enqueue, pickupViewById } from "../outbox.js";
import { startScanner } from "../scanner.js";

export async function render(root, { pickupId }, { navigate, onMount }) {
  const pickup = await pickupViewById(pickupId);
  if (!pickup) return navigate("#/");
  const video = h("video", { class: "viewfinder", muted: true, playsinline: true, autoplay: true, "aria-label": "Camera view" });
  video.muted = true;
  const status = h("p", { class: "scan-status", id: "scan-status", role: "status" }, "Starting the camera…");
  const result = h("div", { id: "scan-result", role: "alert" });
  const input = h("input", { id: "code", name: "code", autocomplete: "off", autocapitalize: "characters", spellcheck: false,
    inputmode: "text", enterkeyhint: "done", placeholder: "e.g. K7QM4-TZX9P", "aria-describedby": "code-help" });
  let busy = false;
  // The camera reads the same label again every few frames. Saying it once is
  // enough: repeating it would wipe what the driver typed meanwhile (a typo's
  // explanation vanished under "wrong parcel" a moment after it appeared) and
  // make a screen reader announce the same alert over and over.
  /** @type {string | null} */
  let cameraSaw = null;

  /**
   * @param {string} text
   * @param {"camera" | "wedge" | "manual"} method
   */
  async function check(text, method) {
    if (busy) return;
    const code = normaliseLabelCode(text);
    if (method === "camera") {
      if (code === cameraSaw) return;
      cameraSaw = code;
    }
    if (!isValidLabelCode(code)) {
      if (method === "camera") return; // not one of our labels: keep looking
      replace(result, h("p", { class: "notice notice-error" }, explainInvalid(code)));
      return;
    }
    if (code !== pickup.label_code) {
      const others = await allPickupViews();
      const owner = others.find((p) => p.label_code === code);
      replace(result, h("p", { class: "notice notice-error", "data-wrong-label": code },
        owner
          ? `Wrong parcel: label ${formatLabelCode(code)} is for ${owner.customer?.name || owner.reference}, ${owner.address?.line1} — not for ${pickup.customer?.name}. Leave it here and check you are at the right address.`
          : `Wrong parcel: label ${formatLabelCode(code)} is not for ${pickup.customer?.name} and is on none of your stops. Do not take it; call dispatch if the customer insists.`));
      return;
    }
    busy = true;
    const local = await getLocal(pickupId);
    await recordArrival(pickup);
    if (!local.scanned_at) {
      await enqueue("scan_label", { pickup_id: pickupId, code }, { pickupId });
    }
    await updateLocal(pickupId, { scanned_at: new Date().toISOString(), scanned_code: code });
    toast(`Label ${formatLabelCode(code)} matches this pickup.`);
    navigate(`#/p/${pickupId}`);
  }

  const form = h("form", { class: "card", novalidate: true, onsubmit: (e) => { e.preventDefault(); check(input.value, input.dataset.wedge === "1" ? "wedge" : "manual"); } },
    h("label", { for: "code" }, "Label code"),
    h("p", { id: "code-help", class: "muted" }, "Type the code under the QR, or scan it with a hand scanner into this field."),
    input,
    h("div", { class: "button-row" }, h("button", { type: "submit", class: "primary big" }, "Check code")));

  // A hardware scanner types a whole code in a few milliseconds, then Enter.
  let lastKey = 0;
  let fast = 0;
  input.addEventListener("keydown", (e) => {
    const now = performance.now();
    fast = now - lastKey < 35 ? fast + 1 : 0;
    lastKey = now;
    input.dataset.wedge = fast >= 5 ? "1" : "0";
  });

  const viewfinderBox = h("div", { class: "viewfinder-box" }, video);
  replace(root,
    backLink(`#/p/${pickupId}`, pickup.customer?.name || "Pickup"),
    h("h1", {}, "Scan label"),
    h("p", {}, `Expecting label ${formatLabelCode(pickup.label_code)} for ${pickup.customer?.name}.`),
    viewfinderBox,
    status,
    result,
    form);

  const stop = startScanner(video, {
    onCode: (text) => check(text, "camera"),
    onStatus: (state, message) => {
      status.textContent = message; status.dataset.state = state;
      // The camera (re)started, e.g. back from the background: what it sees is news again.
      if (state === "scanning") cameraSaw = null;
      // No camera: the black box goes and the code field comes first, above where a keyboard opens.
      const noCamera = state === "no-camera";
      if (viewfinderBox.hidden === noCamera) return;
      const typing = document.activeElement === input; // moving a field drops its focus: give it back
      viewfinderBox.hidden = noCamera;
      if (noCamera) viewfinderBox.before(form, status, result);
      else viewfinderBox.after(status, result, form);
      if (typing) input.focus();
    },
  });
  onMount(() => input.focus());
  return stop;
}
