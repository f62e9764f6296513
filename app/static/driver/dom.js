// @ts-check
// Small DOM helpers. No framework: a few screens only. Windows only: the
// service worker never loads this module.

/**
 * h("button", {class: "primary", onclick: fn}, "Save") → <button class="primary">Save</button>
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...any} children
 * @returns {any}
 */
export function h(tag, attrs = {}, ...children) {
  /** @type {any} */
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

/**
 * @param {Element} root
 * @param {...any} children
 */
export function replace(root, ...children) {
  root.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;

/**
 * A message for people using screen readers and everyone else, for a few seconds.
 * @param {string} message
 * @param {"info" | "error"} [kind]
 */
export function toast(message, kind = "info") {
  let box = document.getElementById("toast");
  if (!box) {
    box = h("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const shown = /** @type {HTMLElement} */ (box);
  shown.className = `toast toast-${kind}`;
  shown.textContent = message;
  shown.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { shown.hidden = true; }, 5000);
}

/**
 * @param {string} href
 * @param {string} [label]
 */
export function backLink(href, label = "Back") {
  return h("a", { class: "back", href }, "← ", label);
}
