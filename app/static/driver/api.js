// @ts-check
// The JSON API: session cookie plus X-CSRFToken on unsafe requests.
// CSRF tokens expire (an hour), so after being offline, or when a token is old,
// a fresh one is fetched from /api/v1/auth/session before anything is sent.

import { emit } from "./events.js";

const TOKEN_MAX_AGE_MS = 30 * 60 * 1000;
let csrfToken = null;
let tokenTime = 0;

export class ApiError extends Error {
  constructor(status, code, message, fields = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

// No answer at all: no signal, server down, or the request was cut.
export class OfflineError extends Error {}

export function forgetToken() {
  tokenTime = 0;
}

function rememberToken(token) {
  csrfToken = token;
  tokenTime = Date.now();
}

/** @typedef {{json?: any, body?: BodyInit, headers?: Record<string, string>}} SendOptions */

/**
 * @param {string} method
 * @param {string} path
 * @param {SendOptions} [options]
 */
async function send(method, path, { json, body, headers = {} } = {}) {
  /** @type {RequestInit & {headers: Record<string, string>}} */
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (json !== undefined) {
    options.body = JSON.stringify(json);
    options.headers["Content-Type"] = "application/json";
  } else if (body !== undefined) {
    options.body = body;
  }
  if (!["GET", "HEAD"].includes(method) && csrfToken) options.headers["X-CSRFToken"] = csrfToken;
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    forgetToken();
    throw new OfflineError(error.message || "No connection");
  }
  return response;
}

async function errorFrom(response) {
  let payload = {};
  try {
    payload = (await response.json()).error || {};
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const message = payload.message || `The server answered ${response.status}.`;
  return new ApiError(response.status, payload.code || `http_${response.status}`, message, payload.fields || {});
}

// Any API call. Unsafe calls get a fresh CSRF token first when needed and are
// retried once when the server says the token expired.
/**
 * @param {string} method
 * @param {string} path
 * @param {SendOptions} [options]
 */
export async function request(method, path, options = {}) {
  const unsafe = !["GET", "HEAD"].includes(method);
  if (unsafe && (!csrfToken || Date.now() - tokenTime > TOKEN_MAX_AGE_MS)) await refreshSession();
  let response = await send(method, path, options);
  if (unsafe && response.status === 400) {
    const error = await errorFrom(response.clone());
    if (error.code === "csrf_failed") {
      await refreshSession();
      response = await send(method, path, options);
    }
  }
  if (response.status === 401) {
    emit("auth-required");
    throw await errorFrom(response);
  }
  return response;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {SendOptions} [options]
 */
export async function requestJson(method, path, options = {}) {
  const response = await request(method, path, options);
  if (!response.ok) throw await errorFrom(response);
  return response.status === 204 ? null : response.json();
}

// {user, csrf_token} for the logged-in driver, or null when there is no session.
export async function refreshSession() {
  const response = await send("GET", "/api/v1/auth/session");
  if (response.status === 401) {
    emit("auth-required");
    return null;
  }
  if (!response.ok) throw await errorFrom(response);
  const session = await response.json();
  rememberToken(session.csrf_token);
  return session;
}

export async function login(email, password) {
  const response = await send("POST", "/api/v1/auth/login", { json: { email, password, remember: true } });
  if (!response.ok) throw await errorFrom(response);
  const session = await response.json();
  rememberToken(session.csrf_token);
  return session;
}

export async function logout() {
  await requestJson("POST", "/api/v1/auth/logout", { json: {} });
  csrfToken = null;
}
