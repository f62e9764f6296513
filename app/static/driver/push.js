// @ts-check
// Push: the outbox goes to the server in id order, in batches
// (docs/sync-protocol.md §4–5); the answers leave the outbox for acked or notices.

import { requestJson } from "./api.js";
import { applyPushResults, clientId, heldSummary, takeBatchToSend } from "./db.js";
import { emit } from "./events.js";
import { settings } from "./settings.js";

// The protocol version this app speaks.
const SCHEMA_VERSION = 1;

// The shell's version (a window), or the one the service worker was built with.
function appVersion() {
  const scope = /** @type {any} */ (globalThis);
  return scope.document?.querySelector('meta[name="backhaul-version"]')?.content || scope.BACKHAUL_VERSION || null;
}

export async function pushOutbox() {
  for (;;) {
    const batch = await takeBatchToSend((await settings()).maxBatch);
    if (!batch.length) return;
    const answer = await requestJson("POST", "/api/v1/sync/push", {
      json: {
        client_id: await clientId(),
        schema_version: SCHEMA_VERSION,
        sent_at: new Date().toISOString(),
        app_version: appVersion(),
        held: await heldSummary(),
        mutations: batch.map(({ id, name, args, base_version, device_time, location }) => ({
          id, name, args, base_version, device_time, location,
        })),
      },
    });
    const progressed = await applyPushResults(batch, answer);
    emit("changed", {});
    if (!progressed) throw new Error("The server answered without results for this batch.");
  }
}
