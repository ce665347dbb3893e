// Train the draft as a new version with live progress; the versions table: activate, roll back,
// load a version into the editor, test or evaluate it.
import { api } from "./api.js";
import { el, time, percent } from "./dom.js";
import { t } from "./i18n.js";
import { state, on, emit, loadVersions, loadContent, trainNewVersion, guarded, toast } from "./designer_state.js";

let root;
let polling = null;

export function mount(node) {
  root = node;
  root.replaceChildren(
    el("div", { class: "train-box" },
      el("h2", {}, t("d_train_new")),
      el("div", { class: "row" },
        el("input", { id: "version-label", placeholder: t("d_version_label"), size: 32 }),
        el("button", { id: "train-button", class: "primary", onclick: startTraining }, t("d_train_now"))),
      el("div", { id: "training", class: "training", hidden: true },
        el("progress", { id: "train-progress", max: 1, value: 0 }),
        el("span", { id: "train-percent" }), " ",
        el("span", { id: "train-note", class: "muted" }))),
    el("div", { class: "row" },
      el("h2", {}, t("d_versions")),
      el("button", { id: "rollback", onclick: rollback }, t("d_rollback"))),
    el("table", { class: "grid", id: "versions" }),
  );
  on("versions", () => renderVersions());
  on("lang", () => { mount(root); renderVersions(); });
}

export function show() {
  guarded(loadVersions).then(() => {
    const busy = state.versions.find((v) => v.status === "training" || v.status === "new");
    if (busy && !polling) follow(busy.id);
  });
}

export async function startTraining() {
  const label = root.querySelector("#version-label").value.trim() || `${t("d_draft")} ${new Date().toLocaleString()}`;
  const version = await guarded(() => trainNewVersion(label));
  if (!version) return;
  root.querySelector("#version-label").value = "";
  toast(`${t("d_training_started")} #${version.id}`);
  follow(version.id);
  guarded(loadVersions);
}

function follow(id) {
  clearTimeout(polling);
  const box = root.querySelector("#training");
  box.hidden = false;
  box.dataset.version = id;
  const tick = async () => {
    let version;
    try {
      version = (await api("GET", `/api/bot/versions/${id}`)).version;
    } catch (err) {
      polling = setTimeout(tick, 1000);
      return;
    }
    const bar = root.querySelector("#train-progress");
    bar.value = version.progress ?? 0;
    root.querySelector("#train-percent").textContent = `#${id} ${Math.round((version.progress ?? 0) * 100)}%`;
    root.querySelector("#train-note").textContent = version.status === "failed" ? `${t("d_failed")}: ${version.error ?? ""}` : version.progress_note ?? "";
    box.dataset.status = version.status;
    if (version.status === "ready" || version.status === "failed") {
      polling = null;
      if (version.status === "ready") toast(`#${id} ${t("d_trained")} · ${t("d_accuracy")} ${percent(version.metrics?.held_out_accuracy)}`);
      else toast(`#${id} ${t("d_failed")}: ${version.error ?? ""}`, "bad");
      await guarded(loadVersions);
      emit("trained", version);
      return;
    }
    polling = setTimeout(tick, 250);
  };
  tick();
}

function accuracy(v) {
  return v.metrics?.accuracy ?? v.metrics?.held_out_accuracy;
}

function renderVersions() {
  const table = root.querySelector("#versions");
  if (!table) return;
  table.replaceChildren(
    el("thead", {}, el("tr", {}, ["#", "d_label", "d_status", "d_trained_at", "d_accuracy", "d_intents", "d_active", ""].map((k) => el("th", {}, k === "#" || !k ? k : t(k))))),
    el("tbody", {}, state.versions.map((v) => el("tr", { "data-version": v.id, class: v.active ? "active" : "" },
      el("td", {}, v.id),
      el("td", {}, v.label),
      el("td", { class: `status-${v.status}` }, t(`d_status_${v.status}`)),
      el("td", {}, time(v.trained_at)),
      el("td", {}, percent(accuracy(v))),
      el("td", {}, v.intents),
      el("td", {}, v.active ? el("strong", { class: "active-mark" }, `● ${t("d_active")}`) : ""),
      el("td", { class: "actions" },
        v.status === "ready" && !v.active ? el("button", { class: "primary", "data-action": "activate", onclick: () => activate(v.id) }, t("d_activate")) : null,
        v.status === "ready" ? el("button", { "data-action": "test", onclick: () => emit("test-version", v.id) }, t("d_test")) : null,
        v.status === "ready" ? el("button", { "data-action": "evaluate", onclick: () => emit("evaluate-version", v.id) }, t("d_eval")) : null,
        el("button", { "data-action": "load", onclick: () => loadIntoEditor(v.id) }, t("d_load")))))),
  );
}

async function activate(id) {
  const res = await guarded(() => api("POST", `/api/bot/versions/${id}/activate`, {}));
  if (res) toast(`#${id} ${t("d_is_active")}`);
  await guarded(loadVersions);
}

async function rollback() {
  const res = await guarded(() => api("POST", "/api/bot/rollback", {}));
  if (res) toast(`${t("d_rolled_back")} #${res.version.id}`);
  await guarded(loadVersions);
}

async function loadIntoEditor(id) {
  if (state.dirty && !confirm(t("d_discard"))) return;
  if (!(await guarded(() => api("POST", "/api/bot/draft/reset", { version_id: id })))) return;
  await guarded(loadContent);
  toast(`#${id} ${t("d_loaded")}`);
}
