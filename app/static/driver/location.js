// @ts-check
// Where the phone is, attached to each action as evidence only when the driver
// allowed it. Actions never wait for a fix: they take the last one if recent.

import { getMeta, setMeta } from "./db.js";

const FRESH_MS = 5 * 60 * 1000;
let last = null;
let watchId = null;
// Windows have it; the service worker (which loads this through outbox.js) has
// none, never starts watching, and so attaches no location.
const geolocation = /** @type {any} */ (navigator).geolocation;

function start() {
  if (watchId !== null || !geolocation) return;
  watchId = geolocation.watchPosition(
    (position) => {
      last = {
        lat: position.coords.latitude,
        lon: position.coords.longitude,
        accuracy_m: Math.round(position.coords.accuracy * 10) / 10,
        at: Date.now(),
      };
    },
    () => { last = null; },
    { enableHighAccuracy: true, maximumAge: 60000, timeout: 30000 }
  );
}

function stop() {
  if (watchId !== null) geolocation?.clearWatch(watchId);
  watchId = null;
  last = null;
}

export async function initLocation() {
  if (await getMeta("share_location", false)) start();
}

export async function isSharingLocation() {
  return getMeta("share_location", false);
}

// Any answer (the one-time question, or the route screen's switch) counts as asked: never asked again.
export async function shareLocation(allowed) {
  await setMeta("share_location", allowed);
  await setMeta("location_asked", true);
  if (allowed) start();
  else stop();
}

export function currentLocation() {
  if (!last || Date.now() - last.at > FRESH_MS) return null;
  return { lat: last.lat, lon: last.lon, accuracy_m: last.accuracy_m };
}
