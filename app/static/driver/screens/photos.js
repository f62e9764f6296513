// @ts-check
// Photos of one pickup: take more, see what waits to be sent, delete drafts.

import { backLink, h, replace } from "../dom.js";
import { on } from "../events.js";
import { pickupViewById } from "../outbox.js";
import { locationQuestion, photoField, photosFor } from "../photos.js";
import { plural } from "../words.js";

export async function render(root, { pickupId }, { navigate }) {
  const pickup = await pickupViewById(pickupId);
  if (!pickup) return navigate("#/");
  const urls = [];
  const summary = h("p", { id: "photo-summary", class: "muted" });

  async function count() {
    const photos = await photosFor(pickupId);
    const waiting = photos.filter((p) => p.state === "queued").length;
    const drafts = photos.filter((p) => p.state === "draft").length;
    const failed = photos.filter((p) => p.state === "failed");
    summary.textContent = photos.length
      ? `${plural(waiting, "photo", "photos")} waiting to be sent, ${plural(drafts, "photo", "photos")} not yet attached to an action.`
        + (failed.length ? ` ${plural(failed.length, "photo was", "photos were")} refused: ${failed[0].error}` : "")
      : "No photos on the phone for this pickup. Sent photos are kept by the server, not the phone.";
  }

  const askLocation = await locationQuestion();
  replace(root,
    backLink(`#/p/${pickupId}`, pickup.customer?.name || "Pickup"),
    h("h1", {}, "Photos"),
    askLocation,
    summary,
    h("section", { class: "card" }, h("h2", {}, "Items"),
      pickup.items.map((item) => h("div", { class: "photo-item" }, h("h3", {}, item.description),
        photoField({ pickupId, purpose: "item", itemId: item.id, label: "Take photo", urls })))),
    h("p", { class: "muted" }, "Photos taken here are sent with the collection."));
  await count();
  const off = on("changed", count);
  return () => { off(); urls.forEach((url) => URL.revokeObjectURL(url)); };
}
