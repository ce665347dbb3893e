// Test panel: what a version would make of a message (Chinese or English): the intent ranking with
// confidence bars, entities, the reply or article it would send, and whether and why it would hand off.
import { api } from "./api.js";
import { el, percent } from "./dom.js";
import { t } from "./i18n.js";
import { state, on, emit, guarded, loadVersions } from "./designer_state.js";


let root;
let chosen = null;

export function mount(node) {
  root = node;
  build();
  on("versions", renderVersions);
  on("lang", build);
  on("trained", (v) => { if (v.status === "ready") chosen = v.id; renderVersions(); });
  on("test-version", (id) => { chosen = id; renderVersions(); emit("goto", "test"); });
}

function build() {
  root.replaceChildren(
    el("form", { class: "test-form", id: "test-form", onsubmit: run },
      el("label", { class: "inline" }, t("d_version"), " ", el("select", { id: "test-version", onchange: (e) => { chosen = Number(e.target.value); } })),
      el("label", { class: "inline" }, t("d_channel"), " ", el("select", { id: "test-channel" },
        ["webchat", "email", "sms", "whatsapp", "telegram"].map((c) => el("option", { value: c }, c)))),
      el("label", { class: "inline" }, t("tier"), " ", el("select", { id: "test-tier" },
        ["standard", "key"].map((c) => el("option", { value: c }, c)))),
      el("textarea", { id: "test-text", rows: 2, placeholder: t("d_test_ph"), required: true,
        onkeydown: (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); root.querySelector("#test-form").requestSubmit(); } } }),
      el("button", { type: "submit", class: "primary", id: "test-send" }, t("d_test_send"))),
    el("div", { id: "test-result", class: "test-result" }),
  );
  renderVersions();
}

export function show() {
  guarded(loadVersions);
  root.querySelector("#test-text").focus();
}

function renderVersions() {
  const select = root.querySelector("#test-version");
  const ready = state.versions.filter((v) => v.status === "ready");
  if (!ready.some((v) => v.id === chosen)) chosen = state.activeId ?? ready[0]?.id ?? null;
  select.replaceChildren(...ready.map((v) => el("option", { value: v.id, selected: v.id === chosen },
    `#${v.id} ${v.label}${v.active ? ` · ${t("d_active")}` : ""}`)));
}

async function run(event) {
  event.preventDefault();
  const text = root.querySelector("#test-text").value.trim();
  if (!text || !chosen) return;
  const box = root.querySelector("#test-result");
  box.dataset.state = "busy";
  const res = await guarded(() => api("POST", `/api/bot/versions/${chosen}/test`, {
    text, channel: root.querySelector("#test-channel").value, tier: root.querySelector("#test-tier").value,
  }));
  box.dataset.state = res ? "done" : "error";
  if (res) render(box, res);
}

function render(box, res) {
  const u = res.understanding;
  const d = res.decision;
  const threshold = u?.threshold ?? 0;
  box.replaceChildren(
    el("section", { class: "verdict", "data-action": d.action },
      el("h3", { id: "test-verdict" }, d.would_hand_off ? `⚑ ${t("d_would_hand_off")}` : `✓ ${t(`d_by_${d.details.answered_by ?? "intent"}`)}`,
        " ", el("span", { class: "muted" }, d.details.article ?? (u?.intent ? `${u.intent} ${percent(u.ranking[0]?.confidence)}` : ""))),
      d.would_hand_off || d.reason ? el("p", { id: "test-reason" }, el("code", {}, d.reason ?? ""), " ", d.explanation ?? "") : null,
      el("div", { id: "test-reply", class: "bubbles" }, d.messages.map((m) => el("div", { class: "bubble" },
        m.text, m.buttons.length ? el("div", { class: "labels" }, m.buttons.map((b) => el("span", { class: "chip", title: b.payload }, b.title))) : null)))),
    el("section", {},
      el("h3", {}, t("d_ranking"), " ", el("span", { class: "muted" }, `${t("d_threshold")} ${percent(threshold)} · ${res.language}`)),
      res.engine_error ? el("p", { class: "error" }, res.engine_error) : null,
      u ? el("table", { class: "ranking", id: "test-ranking" }, u.ranking.map((r, i) => el("tr", { class: i === 0 && u.confident ? "top" : "" },
        el("td", { class: "intent" }, r.name),
        el("td", { class: "bar-cell" }, el("span", { class: `bar ${r.confidence >= threshold ? "over" : ""}`, style: `width:${Math.max(1, r.confidence * 100).toFixed(1)}%` })),
        el("td", { class: "num" }, percent(r.confidence))))) : el("p", { class: "muted" }, "—"),
      el("h3", {}, t("d_entities")),
      u?.entities.length ? el("div", { class: "labels", id: "test-entities" }, u.entities.map((e) => el("span", { class: "chip" }, `${e.entity}: ${e.value}`)))
        : el("p", { class: "muted" }, t("d_none")),
      el("h3", {}, t("d_articles")),
      res.articles.length ? el("ol", { class: "articles" }, res.articles.map((a) => el("li", {}, a.title, " ", el("span", { class: "muted" }, `${a.slug} · ${a.score}`))))
        : el("p", { class: "muted" }, t("d_none"))),
  );
}
