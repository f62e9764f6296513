// @ts-check
// Camera scanning of the QR label. Uses the browser's BarcodeDetector where it
// reads QR codes, else the barcode-detector ponyfill (zxing-wasm) with its
// WebAssembly from our own origin, precached for offline. Loaded only when the
// scan screen opens. The camera is released whenever the page is hidden and
// taken again when it is visible (iOS home-screen apps lose it otherwise).

let detectorPromise = null;

async function makeDetector() {
  const native = /** @type {any} */ (window).BarcodeDetector;
  if (native) {
    try {
      const formats = await native.getSupportedFormats();
      if (formats.includes("qr_code")) return { detector: new native({ formats: ["qr_code"] }), kind: "native" };
    } catch {
      // Present but unusable: fall through to the ponyfill.
    }
  }
  const { BarcodeDetector, prepareZXingModule } = await import("../vendor/barcode-detector/ponyfill.js");
  const wasmUrl = new URL("../vendor/zxing-wasm/zxing_reader.wasm", import.meta.url).href;
  prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasmUrl : prefix + path) },
    fireImmediately: true,
  });
  return { detector: new BarcodeDetector({ formats: ["qr_code"] }), kind: "zxing" };
}

export function detector() {
  if (!detectorPromise) detectorPromise = makeDetector().catch((error) => { detectorPromise = null; throw error; });
  return detectorPromise;
}

// Start scanning into `video`; calls onCode(text) for each decoded QR.
// Returns stop(). Handles hide/show by itself. `device` names the machine in the
// sentences onStatus gets: the driver's phone, or the hub's computer or tablet.
export function startScanner(video, { onCode, onStatus, device = "phone" }) {
  let stream = null;
  let timer = null;
  let stopped = false;

  async function acquire() {
    if (stopped || stream) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      onStatus("no-camera", "This browser cannot use the camera. Type the code instead.");
      return;
    }
    try {
      onStatus("starting", "Starting the camera…");
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      if (stopped || document.visibilityState !== "visible") return release();
      video.srcObject = stream;
      await video.play();
      onStatus("scanning", "Point the camera at the QR code on the label.");
      const { detector: reader } = await detector();
      loop(reader);
    } catch (error) {
      release();
      const denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      onStatus("no-camera", denied
        ? "The camera is blocked for this app. Allow it in the browser settings, or type the code."
        : cameraTrouble(error, device));
    }
  }

  function loop(reader) {
    if (stopped || !stream) return;
    timer = setTimeout(async () => {
      try {
        if (video.readyState >= 2) {
          const codes = await reader.detect(video);
          if (codes.length && !stopped) onCode(codes[0].rawValue);
        }
      } catch (error) {
        console.warn("detect failed", error);
      }
      loop(reader);
    }, 150);
  }

  function release() {
    clearTimeout(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
  }

  function onVisibility() {
    if (document.visibilityState === "visible") acquire();
    else release();
  }

  document.addEventListener("visibilitychange", onVisibility);
  acquire();
  return () => {
    stopped = true;
    document.removeEventListener("visibilitychange", onVisibility);
    release();
  };
}

/**
 * Why the camera did not start, in a sentence a driver can act on (the browser's own
 * message, e.g. "Requested device not found", says nothing to a driver).
 * @param {any} error
 * @param {string} [device]
 */
export function cameraTrouble(error, device = "phone") {
  const name = error?.name || "";
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return `This ${device} has no camera the app can use. Type the code from the label, or use a hand scanner.`;
  }
  if (name === "NotReadableError" || name === "TrackStartError") {
    return "Another app is using the camera. Close it and come back, or type the code from the label.";
  }
  return "The camera did not start. Type the code from the label, or use a hand scanner.";
}
