// The board: changing a filter's drop-down shows the result at once (the Filter button still works);
// one driver picker for the ticked pickups; the rows stay live (live.js).
import "./live.js";

const filters = document.querySelector("form.filters");
if (filters) {
  for (const select of filters.querySelectorAll("select")) {
    select.addEventListener("change", () => filters.requestSubmit());
  }
}

function boxes() {
  return [...document.querySelectorAll("input[type=checkbox][name=pickup_ids]")];
}

function showTicked() {
  const count = boxes().filter((box) => box.checked).length;
  const label = document.querySelector("[data-ticked-count]");
  if (label) label.textContent = count ? `${count} ticked` : "";
  const all = document.querySelector("[data-tick-all]");
  if (all) {
    all.hidden = boxes().length === 0;
    all.checked = count > 0 && count === boxes().length;
  }
}

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-tick-all]")) {
    for (const box of boxes()) box.checked = event.target.checked;
  }
  if (event.target.matches("input[type=checkbox]")) showTicked();
});
document.addEventListener("live:updated", showTicked);
showTicked();
