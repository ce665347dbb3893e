// Import a Rasa project (nlu.yml + domain.yml) or Kefu's JSON into the draft; export the draft as
// Kefu JSON or as Rasa files.
import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { state, on, guarded, toast, replaceContent, loadContent, loadVersions, download } from "./designer_state.js";

let root;

export function mount(node) {
  root = node;
  build();
  on("lang", build);
}

function build() {
  root.replaceChildren(el("div", { class: "io" },
    el("section", { class: "card wide" },
      el("h2", {}, t("d_import_rasa")),
      el("label", {}, "nlu.yml ", el("input", { type: "file", id: "import-nlu", accept: ".yml,.yaml,text/yaml" })),
      el("label", {}, "domain.yml ", el("input", { type: "file", id: "import-domain", accept: ".yml,.yaml,text/yaml" })),
      el("button", { id: "import-rasa", class: "primary", onclick: importRasa }, t("d_import"))),
    el("section", { class: "card wide" },
      el("h2", {}, t("d_import_kefu")),
      el("label", {}, "bot.json ", el("input", { type: "file", id: "import-kefu", accept: ".json,application/json" })),
      el("button", { id: "import-kefu-button", class: "primary", onclick: importKefu }, t("d_import"))),
    el("section", { class: "card wide" },
      el("h2", {}, t("d_export")),
      el("div", { class: "row" },
        el("button", { id: "export-kefu", onclick: exportKefu }, "Kefu JSON"),
        el("button", { id: "export-rasa", onclick: exportRasa }, "Rasa nlu.yml + domain.yml")),
      el("p", { class: "muted" }, t("d_export_help"))),
    el("p", { id: "io-result", class: "muted", role: "status" })));
}

async function readFile(selector) {
  const file = root.querySelector(selector).files[0];
  return file ? file.text() : null;
}

function result(text) {
  root.querySelector("#io-result").textContent = text;
  toast(text);
}

async function importRasa() {
  const nlu = await readFile("#import-nlu");
  const domain = (await readFile("#import-domain")) ?? "";
  if (nlu === null) { toast(t("d_pick_nlu"), "bad"); return; }
  if (state.dirty && !confirm(t("d_discard"))) return;
  if (state.draft.available) {
    if (await guarded(() => api("POST", "/api/bot/draft/import", { format: "rasa", nlu, domain }))) {
      await guarded(loadContent);
      result(`${t("d_imported")}: ${state.content.intents.length} ${t("d_intents_n")}`);
    }
    return;
  }
  // No draft on this hub: the import is stored as an untrained version and opened in the editor.
  const res = await guarded(() => api("POST", "/api/bot/versions", { format: "rasa", nlu, domain, train: false, label: "Rasa import" }));
  if (!res) return;
  const content = await guarded(() => api("GET", `/api/bot/versions/${res.version.id}/content`));
  if (!content) return;
  replaceContent(content.content, res.version.id);
  await guarded(loadVersions);
  result(`${t("d_imported")} #${res.version.id}: ${state.content.intents.length} ${t("d_intents_n")}`);
}

async function importKefu() {
  const text = await readFile("#import-kefu");
  if (text === null) { toast(t("d_pick_file"), "bad"); return; }
  let content;
  try {
    content = JSON.parse(text);
  } catch (err) {
    toast(`JSON: ${err.message}`, "bad");
    return;
  }
  if (state.dirty && !confirm(t("d_discard"))) return;
  if (state.draft.available) {
    if (await guarded(() => api("POST", "/api/bot/draft/import", { format: "kefu", content }))) {
      await guarded(loadContent);
      result(`${t("d_imported")}: ${state.content.intents.length} ${t("d_intents_n")}`);
    }
    return;
  }
  replaceContent(content);
  result(`${t("d_imported")}: ${state.content.intents.length} ${t("d_intents_n")}`);
}

function exportKefu() {
  download("kefu-bot.json", JSON.stringify(state.content, null, 2) + "\n");
}

async function exportRasa() {
  let files = null;
  if (state.draft.available) {
    if (state.dirty) { toast(t("d_save_first"), "bad"); return; }
    files = await guarded(() => api("GET", "/api/bot/draft/export?format=rasa"));
  } else if (state.draft.base_version_id) {
    if (state.dirty) toast(t("d_export_base"));
    files = await guarded(() => api("GET", `/api/bot/versions/${state.draft.base_version_id}/content?format=rasa`));
  }
  if (!files) return;
  download("nlu.yml", files.nlu, "text/yaml");
  download("domain.yml", files.domain, "text/yaml");
}
