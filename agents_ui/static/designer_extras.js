// Entities: synonyms (what customers type -> the value the bot uses), regex features and lookup tables
// (a regex or lookup table named like an entity finds it in messages); one value per line each.
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { state, on, changed } from "./designer_state.js";

const KINDS = [
  { key: "synonyms", name: "value", values: "examples", title: "d_synonyms", help: "d_synonyms_help" },
  { key: "regex_features", name: "name", values: "patterns", title: "d_regex", help: "d_regex_help" },
  { key: "lookup_tables", name: "name", values: "elements", title: "d_lookups", help: "d_lookups_help" },
];
let root;

export function mount(node) {
  root = node;
  on("content", () => { if (!root.hidden) show(); });
}

export function show() {
  if (!state.content) return;
  root.replaceChildren(entityTypes(), el("div", { class: "extras" }, KINDS.map(section)));
}

// The entities the content declares or marks in examples, with how many examples mark each and
// whether a regex or lookup table can find it in messages.
function entityTypes() {
  const marked = new Map();
  for (const intent of state.content.intents) {
    for (const example of intent.examples) for (const s of example.entities || []) marked.set(s.entity, (marked.get(s.entity) ?? 0) + 1);
  }
  const names = [...new Set([...state.content.entities.map((e) => e.name), ...marked.keys()])].sort();
  const finders = new Set([...state.content.regex_features, ...state.content.lookup_tables].map((x) => x.name));
  return el("section", { class: "extra entity-types", id: "entity-types" },
    el("h2", {}, t("d_entity_types")),
    names.length
      ? el("div", { class: "labels" }, names.map((name) => el("span", { class: "chip", "data-entity-type": name },
        `${name} · ${marked.get(name) ?? 0} ${t("d_examples_n")}${finders.has(name) ? "" : ` · ${t("d_no_finder")}`}`)))
      : el("p", { class: "muted" }, t("d_none")));
}

const rows = (n) => Math.min(8, Math.max(3, n));

function section(kind) {
  const items = state.content[kind.key];
  return el("section", { class: "extra", "data-kind": kind.key },
    el("h2", {}, t(kind.title)),
    el("p", { class: "muted" }, t(kind.help)),
    el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, el("th", {}, t(kind.name === "value" ? "d_value" : "d_name")), el("th", {}, t("d_one_per_line")), el("th", {}))),
      el("tbody", {}, items.map((item, index) => el("tr", {},
        el("td", {}, el("input", { value: item[kind.name], "aria-label": t("d_name"), oninput: (e) => { item[kind.name] = e.target.value; changed(); root.querySelector("#entity-types").replaceWith(entityTypes()); } })),
        el("td", {}, el("textarea", { rows: rows(item[kind.values].length), "aria-label": t("d_one_per_line"),
          oninput: (e) => {
            item[kind.values] = e.target.value.split("\n").map((s) => s.trim()).filter(Boolean);
            e.target.rows = rows(e.target.value.split("\n").length);
            changed();
          } },
        item[kind.values].join("\n"))),
        el("td", {}, el("button", { class: "link", onclick: () => { items.splice(index, 1); changed(); show(); } }, "✕")))))),
    el("button", { onclick: () => { items.push({ [kind.name]: "", [kind.values]: [] }); changed(); show(); } }, `+ ${t(kind.title)}`));
}
