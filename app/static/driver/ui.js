// Small DOM helpers and the app's event bus. No framework: a few screens only.

export const bus = new EventTarget();

export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}

export function on(name, handler) {
  const listener = (event) => handler(event.detail);
  bus.addEventListener(name, listener);
  return () => bus.removeEventListener(name, listener);
}

// h("button", {class: "primary", onclick: fn}, "Save") → <button class="primary">Save</button>
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(root, ...children) {
  root.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });

export function fmtTime(value) {
  if (!value) return "";
  return timeFormat.format(value instanceof Date ? value : new Date(value));
}

export function fmtDay(value) {
  return dayFormat.format(value instanceof Date ? value : new Date(value));
}

export function fmtWindow(window) {
  if (!window) return "";
  return `${fmtTime(window.start)}–${fmtTime(window.end)}`;
}

export function fmtAge(ms) {
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return "<1 min";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

// A message for people using screen readers and everyone else, for a few seconds.
export function toast(message, kind = "info") {
  let box = document.getElementById("toast");
  if (!box) {
    box = h("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  box.className = `toast toast-${kind}`;
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

export const STATUS_WORDS = {
  unassigned: "Not assigned",
  assigned: "To do",
  collected: "Collected",
  partially_collected: "Partly collected",
  failed: "Failed",
  cancelled: "Cancelled",
  received: "At the hub",
};

export const DONE_STATUSES = new Set(["collected", "partially_collected", "failed", "cancelled", "received"]);

export const GRADES = [
  ["A", "As new", "sealed or unused"],
  ["B", "Good", "light wear"],
  ["C", "Damaged", "visible damage or faults"],
  ["D", "Broken", "broken or incomplete"],
];

export const FAILURE_REASONS = [
  ["not_home", "Nobody home"],
  ["refused", "Customer refused"],
  ["item_not_ready", "Items not ready"],
  ["wrong_item", "Wrong item"],
  ["address_problem", "Address problem (cannot find or get in)"],
  ["unsafe", "Unsafe to collect"],
  ["other", "Other (explain in the notes)"],
];

export function backLink(href, label = "Back") {
  return h("a", { class: "back", href }, "← ", label);
}
