// @ts-check
// The app's event bus: modules announce what changed ("changed", "queued",
// "sync-status", "auth-required") and screens redraw. No DOM here: the
// service worker loads this through the sync modules.

export const bus = new EventTarget();

/**
 * @param {string} name
 * @param {any} [detail]
 */
export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}

/**
 * Listen to one event; returns the function that stops listening.
 * @param {string} name
 * @param {(detail: any) => void} handler
 * @returns {() => void}
 */
export function on(name, handler) {
  /** @param {Event} event */
  const listener = (event) => handler(/** @type {CustomEvent} */ (event).detail);
  bus.addEventListener(name, listener);
  return () => bus.removeEventListener(name, listener);
}
