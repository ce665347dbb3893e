// Intents: the list (example counts, per-intent precision/recall when known) and the editor: examples with
// entity markup (select words of an example to mark them, or type Rasa's [words](entity)), and the
// intent's response utter_<intent>.
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { state, on, intents, intentNamed, responseNamed, ensureResponse, changed, toast } from "./designer_state.js";
import { responseEditor } from "./designer_responses.js";

let root;
let selected = null;
let filter = "";
let pending = null; // {example, start, end} chosen by selecting text

export function mount(node) {
  root = node;
  on("content", () => { if (selected && !intentNamed(selected)) selected = null; if (!root.hidden) show(); });
  on("stats", () => { if (!root.hidden) renderList(); });
}

export function show() {
  if (!state.content) return;
  if (!selected && intents().length) selected = intents()[0].name;
  root.replaceChildren(
    el("div", { class: "split" },
      el("aside", { class: "side" },
        el("input", { id: "intent-filter", type: "search", placeholder: t("d_filter"), value: filter,
          oninput: (e) => { filter = e.target.value; renderList(); } }),
        el("ul", { id: "intent-list", class: "list" }),
        el("form", { class: "row", onsubmit: addIntent },
          el("input", { id: "new-intent", placeholder: t("d_new_intent"), pattern: "[^\\s/]+", required: true }),
          el("button", { type: "submit" }, "+"))),
      el("div", { id: "intent-editor", class: "editor" })),
  );
  renderList();
  renderEditor();
}

export function select(name) {
  selected = name;
  pending = null;
  show();
}

function stat(name) {
  return state.intentStats.get(name);
}

function fmt(x) {
  return x === null || x === undefined ? "—" : `${Math.round(x * 100)}%`;
}

function renderList() {
  const list = root.querySelector("#intent-list");
  const needle = filter.trim().toLowerCase();
  list.replaceChildren(...intents().filter((i) => !needle || i.name.toLowerCase().includes(needle)).map((intent) => {
    const s = stat(intent.name);
    const count = intent.examples.length;
    return el("li", { class: intent.name === selected ? "active" : "", "data-intent": intent.name, onclick: () => select(intent.name) },
      el("span", { class: "name" }, intent.name),
      el("span", { class: "muted" },
        el("span", { "data-count": "examples" }, `${count} ${t("d_examples_n")}`),
        s && (s.precision !== undefined || s.recall !== undefined)
          ? el("span", { class: "acc", title: t("d_pr_title") }, ` · P ${fmt(s.precision)} R ${fmt(s.recall)}`) : null));
  }));
}

function addIntent(event) {
  event.preventDefault();
  const name = event.target.querySelector("input").value.trim();
  if (intentNamed(name)) { toast(t("d_exists"), "bad"); return; }
  state.content.intents.push({ name, examples: [] });
  changed();
  select(name);
}

// ------------------------------------------------------------------ entity markup

// "[Shanghai](city) tomorrow" or "[上海](city:上海市)" -> {text, entities}
export function parseMarkup(source) {
  const entities = [];
  let text = "";
  let rest = source;
  const re = /\[([^\]]+)\]\(([^)\s:]+)(?::([^)]*))?\)/;
  let m;
  while ((m = re.exec(rest))) {
    text += rest.slice(0, m.index);
    const start = text.length;
    text += m[1];
    const span = { start, end: text.length, entity: m[2] };
    if (m[3]) span.value = m[3];
    entities.push(span);
    rest = rest.slice(m.index + m[0].length);
  }
  return { text: text + rest, entities };
}

function sortedSpans(example) {
  return [...(example.entities || [])].sort((a, b) => a.start - b.start || a.end - b.end);
}

function exampleText(example, index) {
  const box = el("span", { class: "ex-text", "data-example": index });
  let pos = 0;
  for (const s of sortedSpans(example)) {
    if (s.start < pos) continue;
    box.append(example.text.slice(pos, s.start),
      el("mark", { class: "ent", "data-entity": s.entity, title: `${s.entity} = ${s.value ?? example.text.slice(s.start, s.end)}` },
        example.text.slice(s.start, s.end)));
    pos = s.end;
  }
  box.append(example.text.slice(pos));
  return box;
}

function textOffset(container, node, offset) {
  const range = document.createRange();
  range.setStart(container, 0);
  range.setEnd(node, offset);
  return range.toString().length;
}

function captureSelection() {
  const sel = window.getSelection();
  pending = null;
  if (sel && !sel.isCollapsed && sel.rangeCount) {
    const range = sel.getRangeAt(0);
    const box = range.startContainer.parentElement?.closest(".ex-text");
    if (box && box.contains(range.endContainer)) {
      const start = textOffset(box, range.startContainer, range.startOffset);
      const end = textOffset(box, range.endContainer, range.endOffset);
      if (end > start) pending = { example: Number(box.dataset.example), start, end };
    }
  }
  renderPending();
}

function renderPending() {
  const info = root.querySelector("#entity-selection");
  const button = root.querySelector("#mark-entity");
  if (!info) return;
  const intent = intentNamed(selected);
  if (pending && intent) {
    info.textContent = `«${intent.examples[pending.example].text.slice(pending.start, pending.end)}»`;
    button.disabled = false;
  } else {
    info.textContent = t("d_select_hint");
    button.disabled = true;
  }
}

function markEntity() {
  const intent = intentNamed(selected);
  const name = root.querySelector("#entity-name").value.trim();
  if (!pending || !intent) return;
  if (!name) { toast(t("d_entity_name_needed"), "bad"); return; }
  const example = intent.examples[pending.example];
  const overlaps = (example.entities || []).some((s) => s.start < pending.end && pending.start < s.end);
  if (overlaps) { toast(t("d_overlap"), "bad"); return; }
  example.entities = [...(example.entities || []), { start: pending.start, end: pending.end, entity: name }]
    .sort((a, b) => a.start - b.start);
  if (!state.content.entities.some((e) => e.name === name)) state.content.entities.push({ name });
  pending = null;
  changed();
  renderEditor();
}

// ------------------------------------------------------------------ the editor

function renderEditor() {
  const box = root.querySelector("#intent-editor");
  const intent = intentNamed(selected);
  if (!intent) { box.replaceChildren(el("p", { class: "muted" }, t("d_pick_intent"))); return; }
  const entityNames = [...new Set([...state.content.entities.map((e) => e.name),
    ...intents().flatMap((i) => i.examples.flatMap((x) => (x.entities || []).map((s) => s.entity)))])];
  const response = responseNamed(`utter_${intent.name}`);
  box.replaceChildren(
    el("div", { class: "editor-head" },
      el("h2", {}, intent.name),
      el("label", { class: "inline" }, t("d_rename"), " ",
        el("input", { id: "intent-rename", value: intent.name, size: 18, onchange: (e) => rename(intent, e.target.value.trim()) })),
      el("button", { class: "danger", onclick: () => remove(intent) }, t("d_delete"))),
    el("h3", {}, t("d_examples"), " ", el("span", { class: "muted" }, `(${intent.examples.length})`)),
    el("div", { class: "entity-tool" },
      el("span", { id: "entity-selection", class: "muted" }),
      el("input", { id: "entity-name", list: "entity-names", placeholder: t("d_entity"), size: 12 }),
      el("datalist", { id: "entity-names" }, entityNames.map((n) => el("option", { value: n }))),
      el("button", { id: "mark-entity", onclick: markEntity, disabled: true }, t("d_mark_entity"))),
    el("form", { class: "row", onsubmit: (e) => addExample(e, intent) },
      el("input", { id: "new-example", class: "grow", placeholder: t("d_new_example"), required: true }),
      el("button", { type: "submit", class: "primary", id: "add-example" }, t("d_add"))),
    el("ul", { class: "examples", id: "examples", onmouseup: captureSelection, onkeyup: captureSelection },
      intent.examples.map((example, index) => el("li", { "data-index": index },
        exampleText(example, index),
        el("span", { class: "chips" }, sortedSpans(example).map((s) => el("button", {
          class: "chip ent-chip", title: t("d_remove_entity"), "data-chip": s.entity,
          onclick: () => { example.entities = example.entities.filter((x) => x !== s); changed(); renderEditor(); },
        }, `${s.entity}: ${s.value ?? example.text.slice(s.start, s.end)} ×`))),
        el("button", { class: "link remove", title: t("d_remove"), "aria-label": t("d_remove"),
          onclick: () => { intent.examples.splice(index, 1); changed(); pending = null; renderEditor(); renderList(); } }, "✕")))),
    el("h3", {}, t("d_response"), " ", el("code", {}, `utter_${intent.name}`)),
    response
      ? responseEditor(response, () => changed())
      : el("button", { id: "add-response", onclick: () => { ensureResponse(`utter_${intent.name}`).variations.push({ text: "" }); changed(); renderEditor(); } },
        t("d_add_response")),
  );
  renderPending();
}

function addExample(event, intent) {
  event.preventDefault();
  const input = event.target.querySelector("input");
  const parsed = parseMarkup(input.value.trim());
  if (!parsed.text.trim()) return;
  const clash = intents().find((i) => i.examples.some((x) => x.text === parsed.text));
  if (clash) { toast(`${t("d_duplicate")} ${clash.name}`, "bad"); return; }
  const example = { text: parsed.text };
  if (parsed.entities.length) example.entities = parsed.entities;
  intent.examples.push(example);
  for (const s of parsed.entities) if (!state.content.entities.some((e) => e.name === s.entity)) state.content.entities.push({ name: s.entity });
  input.value = "";
  changed();
  renderEditor();
  renderList();
  root.querySelector("#new-example").focus();
}

function rename(intent, name) {
  if (!name || name === intent.name) return;
  if (intentNamed(name)) { toast(t("d_exists"), "bad"); return; }
  const response = responseNamed(`utter_${intent.name}`);
  if (response && !responseNamed(`utter_${name}`)) response.name = `utter_${name}`;
  intent.name = name;
  selected = name;
  changed();
  show();
}

function remove(intent) {
  if (!confirm(`${t("d_delete")} ${intent.name}?`)) return;
  state.content.intents = state.content.intents.filter((i) => i !== intent);
  selected = null;
  changed();
  show();
}
