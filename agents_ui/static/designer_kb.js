// Knowledge-base articles: the list, a Markdown editor with a live preview (markdown.js builds DOM
// nodes, never HTML from text), save as draft, publish and unpublish (the /api/kb/articles routes).
import { api } from "./api.js";
import { el, time } from "./dom.js";
import { t } from "./i18n.js";
import { on, guarded, toast } from "./designer_state.js";
import { render } from "./markdown.js";

let root;
let articles = [];
let current = null; // the article being edited ({} for a new one)
let status = "";

export function mount(node) {
  root = node;
  on("lang", () => { if (!root.hidden) show(); });
}

export async function listArticles(params = "") {
  return (await api("GET", `/api/kb/articles?limit=200${params}`)).articles;
}

export async function show() {
  root.replaceChildren(el("div", { class: "split" },
    el("aside", { class: "side" },
      el("div", { class: "row" },
        el("select", { id: "kb-status", "aria-label": t("d_status"), onchange: (e) => { status = e.target.value; show(); } },
          ["", "draft", "published", "archived"].map((s) => el("option", { value: s, selected: s === status }, s ? t(`d_kb_${s}`) : t("d_all")))),
        el("button", { id: "kb-new", onclick: () => edit({ title: "", body_markdown: "", language: "zh", tags: [] }) }, `+ ${t("d_new_article")}`)),
      el("ul", { class: "list", id: "kb-list" })),
    el("div", { class: "editor", id: "kb-editor" }, el("p", { class: "muted" }, t("d_pick_article")))));
  articles = (await guarded(() => listArticles(status ? `&status=${status}` : ""))) ?? [];
  renderList();
  if (current) edit(current);
}

function renderList() {
  root.querySelector("#kb-list").replaceChildren(...articles.map((a) => el("li", {
    class: current?.id === a.id ? "active" : "", "data-article": a.id,
    onclick: async () => { const res = await guarded(() => api("GET", `/api/kb/articles/${a.id}`)); if (res) edit(res.article); },
  }, el("span", { class: "name" }, a.title), el("span", { class: "muted" }, `${a.language} · ${t(`d_kb_${a.archived ? "archived" : a.status}`)} · ${time(a.updated_at)}`))));
}

function edit(article) {
  current = article;
  renderList();
  const preview = el("div", { class: "md-preview", id: "kb-preview" });
  const body = el("textarea", { id: "kb-body", class: "md-source", "aria-label": "Markdown", oninput: () => preview.replaceChildren(render(body.value)) }, article.body_markdown ?? "");
  const title = el("input", { id: "kb-title", value: article.title ?? "", placeholder: t("d_title_field"), class: "grow" });
  const language = el("select", { id: "kb-language" }, ["zh", "en"].map((l) => el("option", { value: l, selected: l === article.language }, l)));
  const tags = el("input", { id: "kb-tags", value: (article.tags ?? []).join(", "), placeholder: t("d_tags") });
  preview.replaceChildren(render(body.value));
  const save = async () => {
    const fields = { title: title.value.trim(), body_markdown: body.value, language: language.value,
      tags: tags.value.split(",").map((s) => s.trim()).filter(Boolean) };
    const res = article.id
      ? await guarded(() => api("PATCH", `/api/kb/articles/${article.id}`, { ...fields, version: article.version }))
      : await guarded(() => api("POST", "/api/kb/articles", fields));
    if (res) { toast(t("d_saved")); current = res.article; await show(); }
    return res?.article;
  };
  const setStatus = async (action) => {
    const saved = await save();
    if (!saved) return;
    const res = await guarded(() => api("POST", `/api/kb/articles/${saved.id}/${action}`, {}));
    if (res) { current = res.article; toast(`${res.article.title}: ${t(`d_kb_${res.article.status}`)}`); await show(); }
  };
  root.querySelector("#kb-editor").replaceChildren(
    el("div", { class: "row" }, title, language, tags),
    el("div", { class: "row muted", id: "kb-meta" }, article.id
      ? [`#${article.id} · ${t(`d_kb_${article.status}`)} · v${article.version}`, article.url ? el("a", { href: article.url, target: "_blank", rel: "noopener" }, decodeURI(article.url)) : null]
      : t("d_new_article")),
    el("div", { class: "md" }, body, preview),
    el("div", { class: "row" },
      el("button", { id: "kb-save", class: "primary", onclick: save }, t("d_save_article")),
      article.status === "published"
        ? el("button", { id: "kb-unpublish", onclick: () => setStatus("unpublish") }, t("d_unpublish"))
        : el("button", { id: "kb-publish", onclick: () => setStatus("publish") }, t("d_publish"))),
  );
}
