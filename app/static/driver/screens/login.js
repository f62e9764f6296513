// @ts-check
// Login inside the app, for when there is no session (first start, or expired).

import { login } from "../api.js";
import { getMeta, setMeta, wipeDriverData } from "../db.js";
import { h, replace } from "../dom.js";
import { unsyncedSummary } from "../outbox.js";
import { resumeSync, syncNow } from "../sync.js";

export async function render(root, params, { navigate }) {
  const previous = await getMeta("user");
  const error = h("p", { class: "notice notice-error", role: "alert", hidden: true });
  const email = h("input", { id: "login-email", name: "email", type: "email", autocomplete: "username", required: true, value: previous?.email || "" });
  const password = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary big" }, "Log in");

  async function onSubmit(event) {
    event.preventDefault();
    error.hidden = true;
    if (!navigator.onLine) {
      error.textContent = "No signal: logging in needs the internet once. Your route then works offline.";
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    try {
      const summary = await unsyncedSummary();
      const session = await login(email.value.trim(), password.value);
      if (previous && previous.id !== session.user.id) {
        if (summary.total > 0) {
          error.textContent = `This phone still holds ${previous.name}'s unsent work. ${previous.name} must log in and sync first.`;
          error.hidden = false;
          return;
        }
        await wipeDriverData();
      }
      if (session.user.role !== "driver") {
        error.textContent = "This app is for drivers. Dispatch and hub staff use the console at /.";
        error.hidden = false;
        return;
      }
      await setMeta("user", session.user);
      await setMeta("blocked_user", null);
      navigate("#/");
      resumeSync();
      syncNow();
    } catch (err) {
      error.textContent = err.status === 401 || err.code === "invalid_credentials"
        ? "Wrong email or password."
        : err.message || "Logging in failed. Try again.";
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }

  replace(root,
    h("h1", {}, "Log in"),
    previous ? h("p", {}, `Your session ended. Log in again, ${previous.name}, to keep syncing. Nothing on this phone is lost.`) : h("p", {}, "Log in with the account dispatch gave you."),
    error,
    h("form", { class: "card narrow", onsubmit: onSubmit, novalidate: true },
      h("label", { for: "login-email" }, "Email"), email,
      h("label", { for: "login-password" }, "Password"), password,
      h("div", { class: "button-row" }, submit)));
}
