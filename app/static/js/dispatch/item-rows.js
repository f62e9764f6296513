// The pickup form's item rows: an "Add item" button, and "Remove" that greys a row out.
// Without JavaScript the form has a few blank rows and plain "Remove" check boxes.
const fieldset = document.querySelector("[data-item-rows]");

function renumber(row, index) {
  for (const el of row.querySelectorAll("[name], [id], label[for]")) {
    for (const attr of ["name", "id", "for"]) {
      const value = el.getAttribute(attr);
      if (value) el.setAttribute(attr, value.replace(/^items-\d+-/, `items-${index}-`));
    }
  }
}

function markRemoved(row, removed) {
  row.classList.toggle("removed", removed);
}

function isBlank(row) {
  return [...row.querySelectorAll("input:not([type=checkbox])")].every((input) => !input.value.trim())
    && !row.querySelector(".field-error");
}

if (fieldset) {
  const list = fieldset.querySelector(".item-rows");
  // With "Add item" at hand, one blank row is enough; the server sent a few for forms without JavaScript.
  const blanks = [...list.querySelectorAll("[data-item-row]")].filter(isBlank);
  for (const row of blanks.slice(1)) row.remove();
  fieldset.addEventListener("change", (event) => {
    if (event.target.matches('input[type=checkbox][name$="-remove"]')) {
      markRemoved(event.target.closest("[data-item-row]"), event.target.checked);
    }
  });

  const add = document.createElement("button");
  add.type = "button";
  add.textContent = "+ Add item";
  add.addEventListener("click", () => {
    const rows = list.querySelectorAll("[data-item-row]");
    const template = rows[rows.length - 1];
    const row = template.cloneNode(true);
    renumber(row, rows.length);
    for (const input of row.querySelectorAll("input")) {
      if (input.type === "checkbox") input.checked = false;
      else input.value = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    for (const error of row.querySelectorAll(".field-error")) error.remove();
    row.classList.remove("removed");
    list.append(row);
    row.querySelector('input[name$="-sku"]').focus();
  });
  fieldset.append(add);
}
