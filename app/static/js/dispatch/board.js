// The board: changing a filter's drop-down shows the result at once (the Filter button still works).
const filters = document.querySelector("form.filters");
if (filters) {
  for (const select of filters.querySelectorAll("select")) {
    select.addEventListener("change", () => filters.requestSubmit());
  }
}
