// Fetch wrapper for Kefu's JSON API: sends the CSRF header and turns error bodies into ApiError.
let csrf = "";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
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
  if (!res.ok) throw new ApiError(res.status, data.error || "error", data.message || res.statusText);
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
