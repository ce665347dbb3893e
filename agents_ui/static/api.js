// Fetch wrapper for Kefu's JSON API: sends the CSRF header and turns error bodies into ApiError.
let csrf = "";

export class ApiError extends Error {
  constructor(status, code, message, body = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body; // the whole JSON error, for fields beyond code and message
  }
}

export function setCsrf(token) {
  csrf = token;
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.error || "error", data.message || res.statusText, data);
  return data;
}

// A multipart POST (files from the composer); the browser sets the boundary.
export async function upload(path, form) {
  const res = await fetch(path, {
    method: "POST",
    headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    credentials: "same-origin",
    body: form,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.error || "error", data.message || res.statusText);
  return data;
}

// The signed-in agent, or null when nobody is; remembers the session's CSRF token.
export async function currentAgent() {
  try {
    const me = await api("GET", "/api/me");
    setCsrf(me.csrf_token);
    return me.agent;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

// Sign in with a login form's email and password; the agent, with the CSRF token remembered.
export async function signIn(form) {
  const res = await api("POST", "/api/login", { email: form.email.value, password: form.password.value });
  setCsrf(res.csrf_token);
  return res.agent;
}
