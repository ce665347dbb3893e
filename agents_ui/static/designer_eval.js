// Evaluation of a trained version: accuracy and macro-F1, per-intent precision/recall/F1/support
// (sortable, CSV), an SVG bar chart of F1 per intent, the most confused pairs, conflicting examples
// and intents with too few examples (GET /api/bot/versions/{id}/evaluation).
import { api } from "./api.js";
import { el, percent, downloadCsv } from "./dom.js";
import { t } from "./i18n.js";
import { state, on, emit, guarded, explain, loadVersions } from "./designer_state.js";

const NS = "http://www.w3.org/2000/svg";
let root;
let chosen = null;
let sort = { key: "f1", dir: 1 };
let last = null;

export function mount(node) {
  root = node;
  on("evaluate-version", (id) => { chosen = id; emit("goto", "eval"); });
  on("lang", () => { if (!root.hidden) show(); });
}

export async function show() {
  if (!state.versions.length) await guarded(loadVersions);
  const ready = state.versions.filter((v) => v.status === "ready");
  if (!ready.some((v) => v.id === chosen)) chosen = state.activeId ?? ready[0]?.id ?? null;
  root.replaceChildren(
    el("div", { class: "row" },
      el("label", { class: "inline" }, t("d_version"), " ", el("select", { id: "eval-version", onchange: (e) => { chosen = Number(e.target.value); show(); } },
        ready.map((v) => el("option", { value: v.id, selected: v.id === chosen }, `#${v.id} ${v.label}${v.active ? ` · ${t("d_active")}` : ""}`))))),
    el("div", { id: "eval-body" }, el("p", { class: "muted" }, "…")));
  if (chosen === null) return;
  let data;
  try {
    data = await api("GET", `/api/bot/versions/${chosen}/evaluation`);
  } catch (err) {
    const version = state.versions.find((v) => v.id === chosen);
    root.querySelector("#eval-body").replaceChildren(
      el("p", { class: "error" }, explain(err)),
      version ? el("p", {}, `${t("d_accuracy")}: ${percent(version.metrics?.held_out_accuracy)}`) : null);
    return;
  }
  last = { evaluation: data.evaluation, lint: data.lint };
  render();
}

function perIntentRows(ev) {
  return Object.entries(ev.per_intent ?? {}).map(([name, s]) => ({ name, ...s }));
}

function render() {
  const ev = last.evaluation ?? {};
  const lint = last.lint;
  const rows = perIntentRows(ev);
  const { key, dir } = sort;
  rows.sort((a, b) => (key === "name" ? a.name.localeCompare(b.name) : (a[key] ?? -1) - (b[key] ?? -1)) * dir || a.name.localeCompare(b.name));
  const conflicts = lint.conflicting_examples ?? [];
  const thin = lint.too_few_examples ?? [];
  const confused = ev.confused ?? [];
  const table = el("table", { class: "grid sortable", id: "eval-table" },
    el("thead", {}, el("tr", {}, [["name", "d_intent"], ["precision", "d_precision"], ["recall", "d_recall"], ["f1", "F1"], ["support", "d_support"]].map(([k, label]) =>
      el("th", { "data-sort": k, class: k === key ? (dir > 0 ? "asc" : "desc") : "", onclick: () => { sort = { key: k, dir: k === key ? -dir : 1 }; render(); } }, t(label))))),
    el("tbody", {}, rows.map((r) => el("tr", { "data-intent": r.name },
      el("td", {}, r.name), el("td", { class: "num" }, percent(r.precision)), el("td", { class: "num" }, percent(r.recall)),
      el("td", { class: "num" }, percent(r.f1)), el("td", { class: "num" }, r.support ?? "—")))));
  root.querySelector("#eval-body").replaceChildren(
    el("div", { class: "tiles" },
      tile(t("d_accuracy"), percent(ev.accuracy)), tile("Macro-F1", percent(ev.macro_f1)),
      ev.answered !== undefined ? tile(t("d_answered"), percent(ev.answered)) : null,
      tile(t("d_examples"), ev.examples ?? "—")),
    last.evaluation ? el("p", { class: "muted" }, ev.method ?? "") : el("p", { class: "muted" }, t("d_not_evaluated")),
    el("div", { class: "eval-grid" },
      el("section", {}, el("div", { class: "row" }, el("h3", {}, t("d_per_intent")),
        el("button", { id: "eval-csv", onclick: () => downloadCsv(table, `kefu-bot-${chosen}-evaluation.csv`) }, t("export"))), table),
      el("section", {}, el("h3", {}, "F1"), bars(rows.map((r) => [r.name, r.f1 ?? 0])))),
    el("h3", {}, t("d_confused")),
    confused.length ? el("table", { class: "grid", id: "eval-confused" },
      el("thead", {}, el("tr", {}, el("th", {}, t("d_intent")), el("th", {}, t("d_predicted")), el("th", {}, "n"), el("th", {}, t("d_examples")))),
      el("tbody", {}, confused.map((c) => el("tr", {}, el("td", {}, c.intent), el("td", {}, c.predicted ?? "—"), el("td", { class: "num" }, c.count),
        el("td", { class: "muted" }, (c.examples ?? []).join(" · ")))))) : el("p", { class: "muted" }, t("d_none")),
    el("h3", {}, t("d_conflicts")),
    conflicts.length ? el("ul", { id: "eval-conflicts" }, conflicts.map((c) => el("li", {}, `«${c.text}» → ${c.intents.join(", ")}`))) : el("p", { class: "muted" }, t("d_none")),
    el("h3", {}, t("d_thin")),
    thin.length ? el("ul", { id: "eval-thin" }, thin.map((x) => el("li", {}, `${x.intent}: ${x.examples} / ${x.minimum ?? 5}`))) : el("p", { class: "muted" }, t("d_none")),
  );
}

function tile(label, value) {
  return el("div", { class: "tile" }, el("div", { class: "muted" }, label), el("div", { class: "value" }, value));
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

// Horizontal bars, one per intent, 0..1, with the intent's name on the left.
export function bars(items, { width = 420, row = 18, label = 130 } = {}) {
  const height = Math.max(row, items.length * row) + 16;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", class: "chart", id: "eval-chart" });
  const span = width - label - 44;
  items.forEach(([name, value], i) => {
    const y = i * row;
    const w = Math.max(1, value * span);
    root.append(
      svg("text", { x: label - 6, y: y + row - 5, "text-anchor": "end", class: "axis" }, name.length > 20 ? `${name.slice(0, 19)}…` : name),
      svg("rect", { x: label, y: y + 3, width: w, height: row - 6, fill: value >= 0.8 ? "#1a7f37" : value >= 0.5 ? "#9a6700" : "#cf222e" },
        svg("title", {}, `${name}: ${Math.round(value * 100)}%`)),
      svg("text", { x: label + w + 4, y: y + row - 5, class: "axis" }, `${Math.round(value * 100)}%`));
  });
  root.append(svg("line", { x1: label, x2: label, y1: 0, y2: items.length * row, stroke: "#e3e6ea" }));
  return root;
}
