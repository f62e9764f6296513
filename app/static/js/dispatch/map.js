// The map of the day. Leaflet (served from our origin) draws every stop as a circle coloured by status,
// each driver's route as a line in visiting order from the hub, and each phone's last known position.
// With no tile server configured the background is plain, so the map works offline and in tests.
/* global L */
const STATUS_COLOURS = {
  unassigned: "#6e7781", assigned: "#1f6feb", collected: "#1a7f37", partially_collected: "#bf8700",
  failed: "#d1242f", cancelled: "#8c959f", received: "#116329",
};
const el = document.getElementById("day-map");
const legend = document.querySelector("[data-map-legend]");
let data = JSON.parse(document.getElementById("map-data").textContent);

const map = L.map(el, { preferCanvas: false, zoomSnap: 0.25, attributionControl: Boolean(data.tiles.url) });
if (data.tiles.url) {
  L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
} else {
  el.classList.add("no-tiles");
}
const layer = L.layerGroup().addTo(map);
let fitted = false;

function text(value) {
  const span = document.createElement("span");
  span.textContent = value ?? "";
  return span.innerHTML;
}

function time(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: data.timezone });
}

function card(stop) {
  const options = [`<option value="">— Unassigned —</option>`].concat(
    data.drivers_all.map((d) => `<option value="${d.id}" ${d.id === stop.driver_id ? "selected" : ""}>${text(d.name)}</option>`),
  );
  const open = ["unassigned", "assigned", "failed"].includes(stop.status);
  return `<div class="stop-card" data-stop-card="${stop.id}">
    <a href="${stop.url}"><strong>${text(stop.reference)}</strong></a> <span class="status status-${stop.status}">${text(stop.status.replace("_", " "))}</span>
    <div>${text(stop.customer)}</div><div>${text(stop.address)}</div>
    <div class="muted">${time(stop.window[0])}–${time(stop.window[1])} · ${stop.items} item${stop.items === 1 ? "" : "s"}${stop.position ? ` · stop #${stop.position}` : ""}</div>
    ${open ? `<form method="post" action="${stop.assign_url}" class="row-tight">
      <input type="hidden" name="csrf_token" value="${el.dataset.csrf}"><input type="hidden" name="next" value="${text(el.dataset.next)}">
      <label class="visually-hidden" for="map-assign-${stop.id}">Driver</label>
      <select id="map-assign-${stop.id}" name="driver_id">${options.join("")}</select><button type="submit">Assign</button></form>` : ""}
  </div>`;
}

function marker(stop, ring) {
  const m = L.circleMarker([stop.lat, stop.lon], {
    radius: 8, weight: 3, color: ring, fillColor: STATUS_COLOURS[stop.status] || "#444", fillOpacity: 0.95,
  });
  m.bindPopup(card(stop), { minWidth: 220 });
  m.bindTooltip(`${stop.position ? stop.position + ". " : ""}${stop.reference}`, { direction: "top" });
  m.on("add", () => m.getElement()?.setAttribute("data-stop-id", stop.id));
  return m;
}

function draw() {
  layer.clearLayers();
  const bounds = [];
  const hub = data.hubs[0];
  for (const h of data.hubs) {
    L.marker([h.lat, h.lon], { title: h.name, keyboard: true }).bindTooltip(`Hub ${h.code}`).addTo(layer);
    bounds.push([h.lat, h.lon]);
  }
  const missing = [];
  const rows = [];
  for (const driver of data.drivers) {
    const located = driver.stops.filter((s) => s.lat !== null && s.lon !== null);
    missing.push(...driver.stops.filter((s) => s.lat === null || s.lon === null));
    const line = (hub ? [[hub.lat, hub.lon]] : []).concat(located.map((s) => [s.lat, s.lon]));
    if (line.length > 1) L.polyline(line, { color: driver.colour, weight: 3, opacity: 0.8, dashArray: hub ? null : "4 4" }).addTo(layer);
    for (const stop of located) { marker(stop, driver.colour).addTo(layer); bounds.push([stop.lat, stop.lon]); }
    if (driver.last_position) {
      const p = driver.last_position;
      L.circleMarker([p.lat, p.lon], { radius: 5, color: "#000", weight: 2, fillColor: driver.colour, fillOpacity: 1 })
        .bindTooltip(`${driver.name}'s phone, ${time(p.at)}`).addTo(layer);
      bounds.push([p.lat, p.lon]);
    }
    const done = driver.stops.filter((s) => !["assigned", "unassigned"].includes(s.status)).length;
    rows.push(`<li><span class="swatch" data-colour="${driver.colour}"></span><a href="${driver.route_url}">${text(driver.name)}</a> <span class="muted">${done}/${driver.stops.length} done</span></li>`);
  }
  const loose = data.unassigned.filter((s) => s.lat !== null && s.lon !== null);
  missing.push(...data.unassigned.filter((s) => s.lat === null || s.lon === null));
  for (const stop of loose) { marker(stop, "#ffffff").addTo(layer); bounds.push([stop.lat, stop.lon]); }
  legend.innerHTML = `<h2>Drivers</h2><ul class="legend">${rows.join("") || "<li class='muted'>No routes this day.</li>"}</ul>
    <h2>Unassigned <span class="muted">${data.unassigned.length}</span></h2>
    <ul class="legend">${data.unassigned.map((s) => `<li><a href="${s.url}">${text(s.reference)}</a> <span class="muted">${time(s.window[0])}</span></li>`).join("") || "<li class='muted'>None.</li>"}</ul>
    ${missing.length ? `<p class="flash flash-warning">Not on the map (no coordinates): ${missing.map((s) => `<a href="${s.url}">${text(s.reference)}</a>`).join(", ")}</p>` : ""}
    <h2>Status</h2><ul class="legend">${Object.entries(STATUS_COLOURS).map(([k, c]) => `<li><span class="dotc" data-colour="${c}"></span>${k.replace("_", " ")}</li>`).join("")}</ul>`;
  // Colours set through the CSSOM: the CSP refuses style attributes in markup.
  for (const swatch of legend.querySelectorAll("[data-colour]")) swatch.style.setProperty("--c", swatch.dataset.colour);
  el.dataset.stops = String(data.drivers.reduce((n, d) => n + d.stops.filter((s) => s.lat !== null).length, 0) + loose.length);
  if (!fitted) {
    if (bounds.length) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 });
    else map.setView([52.37, 4.89], 11);
    fitted = true;
  }
}

draw();

// Live: the same change token as the board; the map redraws from /dispatch/map.json (an open card is kept).
const status = document.querySelector("[data-live-token]");
let token = status.dataset.liveToken;
async function poll() {
  try {
    if (!document.hidden && !el.querySelector(".leaflet-popup")) {
      const r = await fetch(status.dataset.liveUrl, { cache: "no-store", credentials: "same-origin" });
      const body = await r.json();
      if (body.token !== token) {
        const fresh = await fetch(el.dataset.mapUrl, { cache: "no-store", credentials: "same-origin" });
        if (fresh.ok) { data = await fresh.json(); draw(); token = body.token; status.textContent = `Updated ${new Date().toLocaleTimeString()}`; }
      }
    }
  } catch { status.textContent = "Not connected: showing what was last loaded."; }
  setTimeout(poll, Number(status.dataset.livePoll) || 4000);
}
setTimeout(poll, Number(status.dataset.livePoll) || 4000);
