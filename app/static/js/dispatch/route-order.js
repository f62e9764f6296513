// Drag-and-drop ordering of a driver's route, on top of the up/down buttons.
// Dropping only rearranges the list and shows "Save this order"; saving posts the
// whole order as a plain form, which the server refuses if the route changed meanwhile.
const list = document.querySelector("[data-route-list]");
const form = document.querySelector("[data-route-order]");
const switcher = document.querySelector("[data-route-switch]");

if (switcher) {
  switcher.addEventListener("change", () => {
    const url = switcher.dataset.urlTemplate.replace("/routes/0", `/routes/${encodeURIComponent(switcher.value)}`);
    window.location.assign(url);
  });
}

if (list && form && list.children.length > 1) {
  let dragged = null;
  const stops = () => [...list.querySelectorAll("[data-pickup-id]")];

  const clearMarks = () => {
    for (const stop of stops()) stop.classList.remove("drop-before", "drop-after");
  };

  const renumber = () => {
    stops().forEach((stop, index) => {
      stop.querySelector(".stop-number").textContent = String(index + 1);
    });
    form.elements.pickup_ids.value = stops().map((stop) => stop.dataset.pickupId).join(",");
    form.hidden = false;
  };

  for (const stop of stops()) {
    stop.draggable = true;
    stop.addEventListener("dragstart", (event) => {
      dragged = stop;
      stop.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", stop.dataset.pickupId);
    });
    stop.addEventListener("dragend", () => {
      stop.classList.remove("dragging");
      clearMarks();
      dragged = null;
    });
    stop.addEventListener("dragover", (event) => {
      if (!dragged || dragged === stop) return;
      event.preventDefault();
      const box = stop.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      clearMarks();
      stop.classList.add(after ? "drop-after" : "drop-before");
    });
    stop.addEventListener("drop", (event) => {
      if (!dragged || dragged === stop) return;
      event.preventDefault();
      const after = stop.classList.contains("drop-after");
      clearMarks();
      stop.parentNode.insertBefore(dragged, after ? stop.nextSibling : stop);
      renumber();
    });
  }
}
