// @ts-check
// Label prefetch: the renderings of every pickup still to do, fetched while
// online, so a label prints with no signal (screens/label.js).

import { request } from "./api.js";
import { getLabel, pickupsWithMutations, putLabel } from "./db.js";

const RETRY_MISSING_MS = 3600 * 1000;
const NO_LABEL_NEEDED = ["collected", "partially_collected", "cancelled", "received"];

export async function prefetchLabels() {
  const { pickups } = await pickupsWithMutations();
  for (const pickup of pickups) {
    if (pickup.removed || NO_LABEL_NEEDED.includes(pickup.status)) continue;
    const stored = await getLabel(pickup.id);
    if (stored && stored.code === pickup.label_code && (stored.svg || Date.now() - stored.tried_at < RETRY_MISSING_MS)) continue;
    // The driver's own copy of the label files: never the customer's link, whose token is theirs alone.
    const base = `/api/v1/pickups/${pickup.id}`;
    const [svg, zpl] = await Promise.all([fetchText(`${base}/label.svg`), fetchText(`${base}/label.zpl`)]);
    await putLabel({ pickup_id: pickup.id, code: pickup.label_code, svg, zpl, tried_at: Date.now() });
  }
}

/** @param {string} path */
async function fetchText(path) {
  const response = await request("GET", path);
  return response.ok ? response.text() : null;
}
