// @ts-check
// The receiving page's "Scan with camera": the driver app's scanner and label-code
// reader, imported rather than copied, so the hub reads exactly the QR content a
// driver's phone reads. The code field stays first and works without any of this
// (a keyboard-wedge scanner types into it); the camera only fills it and submits.

import { formatLabelCode, isValidLabelCode, normaliseLabelCode } from "../../driver/labelcode.js";
import { startScanner } from "../../driver/scanner.js";

const form = /** @type {HTMLFormElement | null} */ (document.querySelector("form.scan-form"));
const input = /** @type {HTMLInputElement | null} */ (document.getElementById("code"));
const open = /** @type {HTMLButtonElement | null} */ (document.getElementById("camera-open"));
const panel = /** @type {HTMLElement | null} */ (document.getElementById("camera-panel"));
const video = /** @type {HTMLVideoElement | null} */ (document.getElementById("camera-view"));
const close = /** @type {HTMLButtonElement | null} */ (document.getElementById("camera-close"));
const status = /** @type {HTMLElement | null} */ (document.getElementById("camera-status"));

// Without getUserMedia (an old browser, or a page not served over HTTPS) the button would
// only lead to an apology: it stays hidden and the page is the typed form it always was.
if (form && input && open && panel && video && close && status && navigator.mediaDevices?.getUserMedia) {
  /** @type {(() => void) | null} */
  let stop = null;
  /** @type {string | null} */
  let saw = null; // the camera sees the same foreign QR many times a second: say so once

  const say = (/** @type {string} */ state, /** @type {string} */ message) => {
    status.textContent = message;
    status.dataset.state = state;
    status.hidden = !message;
  };

  const stopCamera = () => {
    if (stop) stop();
    stop = null;
    video.srcObject = null;
    panel.hidden = true;
    open.hidden = false;
    open.setAttribute("aria-expanded", "false");
  };

  const onCode = (/** @type {string} */ text) => {
    const code = normaliseLabelCode(text);
    if (!isValidLabelCode(code)) {
      if (code !== saw) say("foreign", "That QR code is not a Backhaul label. Point the camera at the label's QR.");
      saw = code;
      return;
    }
    // Released before the page goes: the next page (or a slow answer) must not keep the light on.
    stopCamera();
    input.value = formatLabelCode(code);
    say("found", `Label ${formatLabelCode(code)} read; finding its pickup…`);
    form.requestSubmit();
  };

  const onStatus = (/** @type {string} */ state, /** @type {string} */ message) => {
    if (state === "no-camera") {
      // Refused or missing: nothing to look at, so the panel goes and the field is ready to type into.
      stopCamera();
      say(state, message);
      input.focus();
      return;
    }
    if (state === "scanning") saw = null;
    say(state, message);
  };

  open.hidden = false;
  open.addEventListener("click", () => {
    if (stop) return;
    saw = null;
    panel.hidden = false;
    open.hidden = true;
    open.setAttribute("aria-expanded", "true");
    close.focus();
    stop = startScanner(video, { onCode, onStatus, device: "device" });
  });
  close.addEventListener("click", () => {
    stopCamera();
    say("closed", "");
    open.focus();
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && stop) close.click();
  });
  // Typed or wedge-scanned while the camera was open: the camera is done either way.
  form.addEventListener("submit", stopCamera);
  // Leaving (or going into the back/forward cache) gives the camera back; the scanner itself
  // already lets go of it whenever the page is hidden.
  window.addEventListener("pagehide", stopCamera);
}
