// @ts-check
// A signature pad on a canvas: pointer events, white background, PNG bytes out.

export function signaturePad(canvas) {
  const context = canvas.getContext("2d");
  let drawing = false;
  let empty = true;
  let last = null;

  function resize() {
    const ratio = Math.max(1, window.devicePixelRatio || 1);
    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    clear();
  }

  function clear() {
    context.save();
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.restore();
    context.strokeStyle = "#000";
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.lineJoin = "round";
    empty = true;
    canvas.dispatchEvent(new Event("signaturechange"));
  }

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  }

  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    last = point(event);
    canvas.setPointerCapture(event.pointerId);
    context.beginPath();
    context.arc(last.x, last.y, 1.2, 0, Math.PI * 2);
    context.fill();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const next = point(event);
    context.beginPath();
    context.moveTo(last.x, last.y);
    context.lineTo(next.x, next.y);
    context.stroke();
    last = next;
    if (empty) {
      empty = false;
      canvas.dispatchEvent(new Event("signaturechange"));
    }
  });
  const end = () => { drawing = false; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  // Sized once it is on screen (and again if the phone turns, while still empty).
  const observer = new ResizeObserver(() => { if (empty && canvas.getBoundingClientRect().width) resize(); });
  observer.observe(canvas);
  resize();
  return {
    disconnect: () => observer.disconnect(),
    clear,
    isEmpty: () => empty,
    async toBytes() {
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
      return { bytes: await blob.arrayBuffer(), type: "image/png", width: canvas.width, height: canvas.height };
    },
  };
}
