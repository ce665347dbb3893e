// Import a Rasa project (nlu.yml + domain.yml) or Kefu's JSON into the draft; export the draft as
// Kefu JSON or as Rasa files.
import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { state, on, guarded, toast, loadContent, download } from "./designer_state.js";

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
  await importDraft({ format: "rasa", nlu, domain });
}

async function importDraft(body) {
  if (!(await guarded(() => api("POST", "/api/bot/draft/import", body)))) return;
  await guarded(loadContent);
  result(`${t("d_imported")}: ${state.content.intents.length} ${t("d_intents_n")}`);
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
  await importDraft({ format: "kefu", content });
}

function exportKefu() {
  download("kefu-bot.json", JSON.stringify(state.content, null, 2) + "\n");
}

async function exportRasa() {
  if (state.dirty) { toast(t("d_save_first"), "bad"); return; }
  const files = await guarded(() => api("GET", "/api/bot/draft/export?format=rasa"));
  if (!files) return;
  download("nlu.yml", files.nlu, "text/yaml");
  download("domain.yml", files.domain, "text/yaml");
}
