// @ts-check
// The signature on a canvas, drawn by signature_pad (npm, pinned): strokes are curves whose width
// follows the finger's speed, so a signature looks like one rather than a chain of straight segments.
// Only the signature screen imports this module (screens/sign.js, itself loaded on demand), so the
// library never weighs on the first load; the service worker precaches it for signing offline.
// White background, PNG bytes out: the upload contract of a signature photo is unchanged.

import SignaturePad from "../vendor/signature_pad/signature_pad.min.js";

/** @param {HTMLCanvasElement} canvas */
export function signaturePad(canvas) {
  const pad = new SignaturePad(canvas, { backgroundColor: "rgb(255, 255, 255)", penColor: "#000", minWidth: 1, maxWidth: 3.2 });
  const changed = () => canvas.dispatchEvent(new Event("signaturechange"));
  pad.addEventListener("endStroke", changed);

  // Sized to the box on screen at the device's pixel ratio; when the phone turns, what was drawn is redrawn.
  function resize() {
    const rect = canvas.getBoundingClientRect();
    if (!rect.width) return;
    const ratio = Math.max(1, window.devicePixelRatio || 1);
    const width = Math.round(rect.width * ratio);
    const height = Math.round(rect.height * ratio);
    if (canvas.width === width && canvas.height === height) return;
    const strokes = pad.toData();
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d")?.scale(ratio, ratio);
    pad.clear();
    if (strokes.length) pad.fromData(strokes);
  }
  const observer = new ResizeObserver(resize);
  observer.observe(canvas);
  resize();
  return {
    disconnect: () => { observer.disconnect(); pad.off(); },
    clear: () => { pad.clear(); changed(); },
    isEmpty: () => pad.isEmpty(),
    async toBytes() {
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
      return { bytes: await blob.arrayBuffer(), type: "image/png", width: canvas.width, height: canvas.height };
    },
  };
}
