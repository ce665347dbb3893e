// The designer's shared state: the bot content being edited (the hub's draft, GET /api/bot/draft),
// versions, and small UI helpers.
import { api, ApiError } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";

export const state = {
  me: null,
  content: null, // Kefu JSON (bots/content.py content_to_json), edited in place
  draft: { revision: null, base_version_id: null, updated_at: null, updated_by: null },
  dirty: false,
  versions: [],
  activeId: null,
  intentStats: new Map(), // intent name -> {example_count, precision, recall, ...} when the hub reports them
};

export const events = new EventTarget();
export const emit = (name, detail) => events.dispatchEvent(new CustomEvent(name, { detail }));
export const on = (name, fn) => events.addEventListener(name, (e) => fn(e.detail));

export function toast(text, kind = "") {
  const node = el("div", { class: `toast ${kind}`, role: kind === "bad" ? "alert" : "status", onclick: () => node.remove() }, text);
  document.getElementById("toasts").append(node);
  setTimeout(() => node.remove(), kind === "bad" ? 8000 : 4000);
}

export function explain(err) {
  return err instanceof ApiError ? `${err.status} ${err.message}` : String(err?.message || err);
}

// Run an action, turning its failure into a red toast; returns the action's value or undefined.
export async function guarded(fn) {
  try {
    return await fn();
  } catch (err) {
    toast(explain(err), "bad");
    console.error(err);
    return undefined;
  }
}

// ------------------------------------------------------------------ content helpers

export const intents = () => state.content?.intents ?? [];
export const responses = () => state.content?.responses ?? [];
export const intentNamed = (name) => intents().find((i) => i.name === name);
export const responseNamed = (name) => responses().find((r) => r.name === name);

export function ensureResponse(name) {
  let response = responseNamed(name);
  if (!response) {
    response = { name, variations: [] };
    state.content.responses.push(response);
  }
  return response;
}

export function changed(what = "content") {
  state.dirty = true;
  emit("dirty", what);
}

// ------------------------------------------------------------------ versions

export async function loadVersions() {
  const res = await api("GET", "/api/bot/versions");
  state.versions = res.versions;
  state.activeId = res.active_version_id;
  emit("versions", res);
  return res;
}

export const versionById = (id) => state.versions.find((v) => v.id === id);

// ------------------------------------------------------------------ the draft

// Load what the designer edits: the hub's one draft (agents_ui/designer_api.py), made from the active
// version's content the first time.
export async function loadContent() {
  const { draft } = await api("GET", "/api/bot/draft");
  state.draft = {
    revision: draft.revision, base_version_id: draft.base_version_id ?? null,
    updated_at: draft.updated_at ?? null, updated_by: draft.updated_by ?? null,
  };
  state.content = normalize(draft.content);
  state.base = structuredClone(state.content);
  state.dirty = false;
  emit("content", "loaded");
}

function normalize(content) {
  for (const key of ["intents", "entities", "synonyms", "regex_features", "lookup_tables", "responses"]) content[key] ??= [];
  return content;
}

// Save the draft with the content it was read as (`base`): the hub merges it with whatever others saved
// meanwhile, item by item, and answers 409 only when someone changed one of the same items.
export async function saveDraft() {
  try {
    const { draft, merged } = await api("PUT", "/api/bot/draft", {
      content: state.content, revision: state.draft.revision, base: state.base,
    });
    state.draft.revision = draft.revision ?? state.draft.revision;
    state.draft.updated_at = draft.updated_at ?? state.draft.updated_at;
    state.draft.updated_by = draft.updated_by ?? state.draft.updated_by;
    state.base = structuredClone(normalize(draft.content));
    state.dirty = false;
    if (merged) {
      // Someone else's changes are in the saved draft now: show them.
      state.content = structuredClone(state.base);
      emit("content", "merged");
      toast(t("d_merged"));
    }
    emit("dirty", "saved");
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) emit("stale", err);
    toast(err instanceof ApiError && err.status === 409 ? staleText(err) : explain(err), "bad");
    return false;
  }
}

function staleText(err) {
  const items = (err.body?.conflicts || []).map((c) => `${t(`d_kind_${c.kind.replace(" ", "_")}`)} ${c.name}`);
  return items.length ? `${t("d_conflict")} ${items.join(", ")}` : t("d_stale");
}

// Save the draft if needed, then snapshot it as a new version and train it (202; poll the version).
export async function trainNewVersion(label) {
  if (state.dirty && !(await saveDraft())) return null;
  const res = await api("POST", "/api/bot/draft/versions", { label, train: true, revision: state.draft.revision });
  state.draft.base_version_id = res.version.id;
  emit("dirty", "trained");
  return res.version;
}

// Per-intent precision/recall of the newest evaluated version, for the intents list.
export async function loadIntentStats() {
  try {
    const res = await api("GET", "/api/bot/draft/intents");
    state.intentStats = new Map(res.intents.map((i) => [i.name, i]));
    emit("stats", state.intentStats);
  } catch (err) {
    console.warn(err);
  }
}

export function download(name, text, type = "application/json") {
  const link = el("a", { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.append(link);
  link.click();
  link.remove();
}
