// @ts-check
// Pull: the pickups that changed since our cursor, and the settings
// (docs/sync-protocol.md §7). One answer holds every change: the protocol
// has no paging, so one request per sync.

import { requestJson } from "./api.js";
import { applyPull, clientId, getMeta, heldSummary } from "./db.js";
import { emit } from "./events.js";

export async function pull() {
  const cursor = await getMeta("cursor");
  const query = new URLSearchParams({ client_id: await clientId() });
  if (cursor !== undefined && cursor !== null) query.set("cursor", String(cursor));
  const held = await heldSummary();
  query.set("held_actions", String(held.actions));
  query.set("held_photos", String(held.photos));
  if (held.oldest_age_seconds !== null) query.set("held_oldest_age_seconds", String(held.oldest_age_seconds));
  const answer = await requestJson("GET", `/api/v1/sync/pull?${query}`);
  await applyPull({ cursor: answer.cursor, reset: answer.reset, changes: answer.changes, settings: answer.settings });
  emit("changed", {});
}
