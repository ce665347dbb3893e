// Kefu bot designer: login, tabs, the draft bar; each panel lives in its own designer_*.js module.
import { api, currentAgent, signIn } from "./api.js";
import { $, time } from "./dom.js";
import { t, setLang, currentLang } from "./i18n.js";
import { state, on, emit, loadContent, loadVersions, loadIntentStats, saveDraft, guarded, versionById } from "./designer_state.js";
import * as intents from "./designer_intents.js";
import * as responses from "./designer_responses.js";
import * as extras from "./designer_extras.js";
import * as kb from "./designer_kb.js";
import * as train from "./designer_train.js";
import * as test from "./designer_test.js";
import * as review from "./designer_review.js";
import * as evaluation from "./designer_eval.js";
import * as io from "./designer_io.js";

const PANELS = { intents, responses, extras, kb, train, test, review, eval: evaluation, io };
const ROLES = new Set(["designer", "admin"]);
let current = null;

async function boot() {
  setLang(currentLang());
  const agent = await currentAgent();
  if (agent === null) $("#login").hidden = false;
  else await start(agent);
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  $("#login-error").textContent = "";
  try {
    await start(await signIn(form));
  } catch (err) {
    $("#login-error").textContent = err.message;
  }
}

async function start(agent) {
  state.me = agent;
  $("#login").hidden = true;
  if (!ROLES.has(agent.role)) { $("#forbidden").hidden = false; return; }
  $("#designer").hidden = false;
  $("#me").textContent = `${agent.name} · ${agent.role}`;
  for (const [name, panel] of Object.entries(PANELS)) panel.mount($(`#panel-${name}`));
  await loadVersions();
  await loadContent();
  loadIntentStats();
  review.refreshCount();
  show(location.hash.slice(1) in PANELS ? location.hash.slice(1) : "intents");
  $("#designer").dataset.ready = "1";
}

function show(name) {
  current = name;
  for (const tab of document.querySelectorAll(".d-tab")) tab.setAttribute("aria-selected", String(tab.dataset.panel === name));
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.dataset.panel !== name;
  if (location.hash.slice(1) !== name) history.replaceState(null, "", `#${name}`);
  PANELS[name].show?.();
}


function renderDraftBar() {
  const base = state.draft.base_version_id;
  const version = base ? versionById(base) : null;
  const parts = [];
  parts.push(`${t("d_draft")} r${state.draft.revision}`);
  if (base) parts.push(`${t("d_based_on")} #${base}${version?.label ? ` (${version.label})` : ""}`);
  if (state.dirty) parts.push(t("d_unsaved"));
  else if (state.draft.updated_at) parts.push(`${t("d_saved_at")} ${time(state.draft.updated_at)}`);
  $("#draft-state").textContent = parts.join(" · ");
  $("#draft-bar").classList.toggle("dirty", state.dirty);
  $("#save-draft").hidden = !state.dirty;
}

on("dirty", renderDraftBar);
on("content", renderDraftBar);
on("versions", renderDraftBar);
on("lang", renderDraftBar);
on("goto", (name) => show(name));
on("dirty", (what) => { if (what === "saved") loadIntentStats(); });
on("stale", () => { $("#reload-draft").hidden = false; });
on("content", () => { $("#reload-draft").hidden = true; });
on("trained", () => loadIntentStats());

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", login);
  for (const tab of document.querySelectorAll(".d-tab")) tab.addEventListener("click", () => show(tab.dataset.panel));
  $("#logout").addEventListener("click", async () => { await api("POST", "/api/logout", {}); location.reload(); });
  $("#lang").value = currentLang();
  $("#lang").addEventListener("change", (e) => {
    setLang(e.target.value);
    emit("lang", e.target.value);
    if (current) PANELS[current].show?.();
  });
  $("#save-draft").addEventListener("click", () => guarded(saveDraft));
  $("#reload-draft").addEventListener("click", () => guarded(loadContent));
  $("#train-now").addEventListener("click", () => { show("train"); train.startTraining(); });
  window.addEventListener("beforeunload", (e) => { if (state.dirty) e.preventDefault(); });
  boot();
});
