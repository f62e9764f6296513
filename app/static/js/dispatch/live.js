// Live pages: ask the server for its change token every few seconds (a few bytes, any app instance
// answers the same); when it moved, fetch this same URL again — so the filters in it are kept — and
// swap only the regions marked data-live-region. A region the dispatcher is working in (focus inside,
// a half-filled field) is left alone until they are done; ticked boxes stay ticked.
const status = document.querySelector("[data-live-token]");

function busy(region) {
  const focused = document.activeElement;
  if (focused && region.contains(focused) && focused.matches("input:not([type=checkbox]), textarea, select")) return true;
  for (const field of region.querySelectorAll("input:not([type=checkbox]):not([type=hidden]), textarea, select")) {
    if (field.type === "radio") continue;
    if (field.tagName === "SELECT" ? [...field.options].some((o) => o.selected !== o.defaultSelected) : field.value !== field.defaultValue) return true;
  }
  return false;
}

async function refresh() {
  const response = await fetch(location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (!response.ok) return false;
  const next = new DOMParser().parseFromString(await response.text(), "text/html");
  let skipped = false;
  for (const region of document.querySelectorAll("[data-live-region][id]")) {
    const fresh = next.getElementById(region.id);
    if (!fresh) continue;
    if (busy(region)) { skipped = true; continue; }
    const ticked = new Set([...region.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.name + "=" + box.value));
    region.replaceWith(fresh);
    for (const box of fresh.querySelectorAll("input[type=checkbox]")) {
      if (ticked.has(box.name + "=" + box.value)) box.checked = true;
    }
  }
  document.dispatchEvent(new CustomEvent("live:updated"));
  return !skipped;
}

if (status) {
  let token = status.dataset.liveToken;
  const every = Number(status.dataset.livePoll) || 4000;
  async function poll() {
    try {
      if (!document.hidden) {
        const response = await fetch(status.dataset.liveUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
        if (response.ok) {
          const body = await response.json();
          if (body.token !== token && (await refresh())) {
            token = body.token;
            const at = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
            status.textContent = `Updated ${at}`;
          }
          status.classList.remove("live-offline");
        }
      }
    } catch {
      status.textContent = "Not connected: showing what was last loaded.";
      status.classList.add("live-offline");
    }
    setTimeout(poll, every);
  }
  setTimeout(poll, every);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) status.dataset.wake = Date.now(); });
}
