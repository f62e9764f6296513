// @ts-check
// Push: the outbox goes to the server in id order, in batches
// (docs/sync-protocol.md §2, §4–5); the answers leave the outbox for acked or notices.

import { ApiError, requestJson } from "./api.js";
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

/** @param {any} mutation */
function envelope({ id, name, args, base_version, device_time, location }) {
  return { id, name, args, base_version, device_time, location };
}

// An action too large to be sent even alone, replaced by what the server needs to answer it
// (rejected, payload_too_large) so the ids behind it are not held up forever.
/** @param {any} mutation */
function tooLargeStandIn(mutation) {
  const whole = envelope(mutation);
  const bytes = new TextEncoder().encode(JSON.stringify(whole)).length;
  return { ...whole, args: { pickup_id: mutation.args?.pickup_id ?? mutation.pickup_id }, too_large: { bytes } };
}

/** @param {any[]} mutations */
async function send(mutations) {
  return requestJson("POST", "/api/v1/sync/push", {
    json: {
      client_id: await clientId(),
      schema_version: SCHEMA_VERSION,
      sent_at: new Date().toISOString(),
      app_version: appVersion(),
      held: await heldSummary(),
      mutations,
    },
  });
}

export async function pushOutbox() {
  // A 413 (the server's payload_too_large, or a proxy's body limit) halves the batch for the rest
  // of this sync; the oldest half goes first, so every batch stays gap-free.
  let size = (await settings()).maxBatch;
  for (;;) {
    const batch = await takeBatchToSend(size);
    if (!batch.length) return;
    let answer;
    try {
      answer = await send(batch.map(envelope));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 413)) throw error;
      if (batch.length > 1) {
        size = Math.ceil(batch.length / 2);
        continue;
      }
      answer = await send([tooLargeStandIn(batch[0])]);
    }
    const progressed = await applyPushResults(batch, answer);
    emit("changed", {});
    if (!progressed) throw new Error("The server answered without results for this batch.");
  }
}
