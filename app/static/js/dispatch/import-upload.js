// CSV import with a progress bar: the upload goes through XHR (fetch cannot report
// upload progress), then a "checking" state while the server reads every row.
// The server answers the upload with the preview's address; without JavaScript the
// same form posts normally and is redirected there.
const form = document.querySelector("[data-import-upload]");

function show(box, text, percent) {
  box.hidden = false;
  const bar = box.querySelector("progress");
  if (percent === null) bar.removeAttribute("value");  // indeterminate: the server is working
  else bar.value = percent;
  box.querySelector("[data-upload-status]").textContent = text;
}

function showError(message) {
  let flash = form.querySelector(".flash-error");
  if (!flash) {
    flash = document.createElement("p");
    flash.className = "flash flash-error";
    flash.setAttribute("role", "alert");
    form.prepend(flash);
  }
  flash.textContent = message;
}

if (form) {
  const box = form.querySelector("[data-upload-progress]");
  const button = form.querySelector("button[type=submit]");

  form.addEventListener("submit", (event) => {
    const file = form.elements.file.files[0];
    if (!file) return;  // let the server say what is missing
    event.preventDefault();
    button.disabled = true;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        const percent = Math.round((e.loaded / e.total) * 100);
        show(box, `Uploading… ${percent}%`, percent);
      }
    });
    xhr.upload.addEventListener("load", () => show(box, "Uploaded. Checking the rows…", null));
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = null; }
      if (xhr.status === 201 && body && body.preview_url) {
        show(box, `Checking ${body.rows.toLocaleString()} rows…`, null);
        window.location.assign(body.preview_url);
        return;
      }
      box.hidden = true;
      button.disabled = false;
      showError(body && body.error ? body.error.message : `The upload failed (${xhr.status}). Try again.`);
    });
    xhr.addEventListener("error", () => {
      box.hidden = true;
      button.disabled = false;
      showError("The upload did not reach the server. Check the connection and try again.");
    });
    show(box, "Uploading…", 0);
    xhr.send(new FormData(form));
  });
}

// On the preview: one click imports; a second click while it works does nothing
// (and the server would refuse a second import of the same file anyway).
const commit = document.querySelector("[data-import-commit]");
if (commit) {
  commit.addEventListener("submit", (event) => {
    const button = commit.querySelector("button[type=submit]");
    if (button.disabled) {
      event.preventDefault();
      return;
    }
    // Disable after the browser has taken the submission, so the form still posts.
    setTimeout(() => { button.disabled = true; }, 0);
    const status = commit.querySelector("[data-commit-status]");
    if (status) status.textContent = "Importing… this can take a few seconds for a large file.";
  });
}
