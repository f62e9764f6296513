// @ts-check
// Pieces of screen more than one screen shows (route, pickup).

import { h } from "./dom.js";

/**
 * Navigate, Maps and Call for a pickup's address and customer.
 * @param {any} pickup
 */
export function mapLinks(pickup) {
  const a = pickup.address || {};
  const text = [a.line1, a.postcode, a.city].filter(Boolean).join(", ");
  const links = [];
  if (a.lat !== null && a.lat !== undefined) {
    links.push(h("a", { class: "button", href: `geo:${a.lat},${a.lon}?q=${a.lat},${a.lon}(${encodeURIComponent(a.line1 || "")})` }, "Navigate"));
  } else {
    links.push(h("a", { class: "button", href: `geo:0,0?q=${encodeURIComponent(text)}` }, "Navigate"));
  }
  const query = a.lat !== null && a.lat !== undefined ? `${a.lat},${a.lon}` : text;
  links.push(h("a", { class: "button", href: `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent(query)}`, rel: "noopener", target: "_blank" }, "Maps"));
  if (pickup.customer && pickup.customer.phone) {
    links.push(h("a", { class: "button", href: `tel:${pickup.customer.phone.replace(/[^+0-9]/g, "")}` }, "Call"));
  }
  return links;
}
