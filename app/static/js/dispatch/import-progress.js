// A big import runs in the background (app/dispatch/imports/jobs.py): poll its status
// and move the bar; when it ends, reload so the server shows the outcome in its own words.
const box = document.querySelector("[data-import-status-url]");
const POLL_MS = 1500;

async function poll() {
  try {
    const response = await fetch(box.dataset.importStatusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.ok) {
      const job = await response.json();
      const bar = box.querySelector("[data-import-progress]");
      bar.max = job.pickups_total || 1;
      bar.value = job.pickups_done || 0;
      box.querySelector("[data-import-count]").textContent = `${job.pickups_done} of ${job.pickups_total} pickups created`;
      if (job.status !== "queued" && job.status !== "running") {
        window.location.reload();
        return;
      }
    }
  } catch {
    // Offline for a moment: try again at the next tick.
  }
  window.setTimeout(poll, POLL_MS);
}

if (box) window.setTimeout(poll, POLL_MS);
