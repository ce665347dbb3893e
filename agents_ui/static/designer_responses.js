// Responses: every utter_* with its variations (text, buttons, a language and a channel to answer on).
// Fields the designer does not edit here (image, custom, extra, other conditions) are kept as they are.
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { state, on, responses, responseNamed, changed, toast } from "./designer_state.js";

const CHANNELS = ["", "webchat", "email", "sms", "whatsapp", "telegram"];
let root;
let selected = null;

export function mount(node) {
  root = node;
  on("content", () => { if (!root.hidden) show(); });
}

export function show() {
  if (!state.content) return;
  if (!selected || !responseNamed(selected)) selected = responses()[0]?.name ?? null;
  const response = selected ? responseNamed(selected) : null;
  root.replaceChildren(el("div", { class: "split" },
    el("aside", { class: "side" },
      el("ul", { class: "list", id: "response-list" }, responses().map((r) => el("li", {
        class: r.name === selected ? "active" : "", "data-response": r.name, onclick: () => { selected = r.name; show(); },
      }, el("span", { class: "name" }, r.name), el("span", { class: "muted" }, `${r.variations.length} ${t("d_variations_n")}`)))),
      el("form", { class: "row", onsubmit: add },
        el("input", { placeholder: "utter_…", required: true, pattern: "[^\\s]+" }), el("button", { type: "submit" }, "+"))),
    el("div", { class: "editor" }, response
      ? [el("h2", {}, response.name), responseEditor(response, () => { changed(); recount(response); }),
        el("p", {}, el("button", { class: "danger", onclick: () => removeResponse(response) }, t("d_delete")))]
      : el("p", { class: "muted" }, t("d_no_responses")))));
}

function recount(response) {
  const count = root.querySelector(`#response-list li[data-response="${CSS.escape(response.name)}"] .muted`);
  if (count) count.textContent = `${response.variations.length} ${t("d_variations_n")}`;
}

function add(event) {
  event.preventDefault();
  const name = event.target.querySelector("input").value.trim();
  if (responseNamed(name)) { toast(t("d_exists"), "bad"); return; }
  state.content.responses.push({ name, variations: [{ text: "" }] });
  selected = name;
  changed();
  show();
}

function removeResponse(response) {
  if (!confirm(`${t("d_delete")} ${response.name}?`)) return;
  state.content.responses = state.content.responses.filter((r) => r !== response);
  selected = null;
  changed();
  show();
}

function languageOf(variation) {
  return (variation.conditions || []).find((c) => c.type === "slot" && c.name === "language")?.value ?? "";
}

function setLanguage(variation, value) {
  const others = (variation.conditions || []).filter((c) => !(c.type === "slot" && c.name === "language"));
  variation.conditions = value ? [...others, { type: "slot", name: "language", value }] : others;
  if (!variation.conditions.length) delete variation.conditions;
}

// An editor for one response; onChange runs after every edit.
export function responseEditor(response, onChange) {
  const box = el("div", { class: "response", "data-response-editor": response.name });
  const render = () => {
    box.replaceChildren(
      ...response.variations.map((v, index) => variationEditor(response, v, index, () => { onChange(); }, render)),
      el("button", { class: "add-variation", onclick: () => { response.variations.push({ text: "" }); onChange(); render(); } }, t("d_add_variation")),
    );
  };
  render();
  return box;
}

function variationEditor(response, v, index, onChange, rerender) {
  const buttons = el("div", { class: "buttons" });
  const renderButtons = () => buttons.replaceChildren(
    ...(v.buttons || []).map((b, k) => el("div", { class: "row button-row" },
      el("input", { value: b.title, placeholder: t("d_button_title"), "aria-label": t("d_button_title"), oninput: (e) => { b.title = e.target.value; onChange(); } }),
      el("input", { value: b.payload, placeholder: "/intent", "aria-label": "payload", oninput: (e) => { b.payload = e.target.value; onChange(); } }),
      el("button", { class: "link", onclick: () => { v.buttons.splice(k, 1); if (!v.buttons.length) delete v.buttons; onChange(); renderButtons(); } }, "✕"))),
    el("button", { class: "link add-button", onclick: () => { (v.buttons ??= []).push({ title: "", payload: "/" }); onChange(); renderButtons(); } }, `+ ${t("d_button")}`),
  );
  renderButtons();
  const lang = languageOf(v);
  return el("div", { class: "variation", "data-variation": index },
    el("div", { class: "row" },
      el("label", { class: "inline" }, t("d_language"), " ", el("select", { class: "v-language", onchange: (e) => { setLanguage(v, e.target.value); onChange(); } },
        ["", "zh", "en"].map((value) => el("option", { value, selected: value === lang }, value || t("d_any"))))),
      el("label", { class: "inline" }, t("d_channel"), " ", el("select", { class: "v-channel", onchange: (e) => { if (e.target.value) v.channel = e.target.value; else delete v.channel; onChange(); } },
        CHANNELS.map((value) => el("option", { value, selected: value === (v.channel ?? "") }, value || t("d_any"))))),
      v.image || v.custom !== undefined ? el("span", { class: "muted" }, t("d_kept_fields")) : null,
      el("button", { class: "link remove", onclick: () => { response.variations.splice(index, 1); onChange(); rerender(); } }, t("d_remove"))),
    el("textarea", { class: "v-text", rows: 2, "aria-label": t("d_reply_text"), oninput: (e) => { if (e.target.value) v.text = e.target.value; else delete v.text; onChange(); } }, v.text ?? ""),
    buttons);
}
