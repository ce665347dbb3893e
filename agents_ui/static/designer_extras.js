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
  root.replaceChildren(el("div", { class: "extras" }, KINDS.map(section)));
}

function section(kind) {
  const items = state.content[kind.key];
  return el("section", { class: "extra", "data-kind": kind.key },
    el("h2", {}, t(kind.title)),
    el("p", { class: "muted" }, t(kind.help)),
    el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, el("th", {}, t(kind.name === "value" ? "d_value" : "d_name")), el("th", {}, t("d_one_per_line")), el("th", {}))),
      el("tbody", {}, items.map((item, index) => el("tr", {},
        el("td", {}, el("input", { value: item[kind.name], "aria-label": t("d_name"), oninput: (e) => { item[kind.name] = e.target.value; changed(); } })),
        el("td", {}, el("textarea", { rows: Math.min(6, Math.max(2, item[kind.values].length)), "aria-label": t("d_one_per_line"),
          oninput: (e) => { item[kind.values] = e.target.value.split("\n").map((s) => s.trim()).filter(Boolean); changed(); } },
        item[kind.values].join("\n"))),
        el("td", {}, el("button", { class: "link", onclick: () => { items.splice(index, 1); changed(); show(); } }, "✕")))))),
    el("button", { onclick: () => { items.push({ [kind.name]: "", [kind.values]: [] }); changed(); show(); } }, `+ ${t(kind.title)}`));
}
