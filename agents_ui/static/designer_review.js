// Review inbox: customer messages the bot was unsure about, answered from an article, handed off, or
// that the customer said did not help. Assign one to an intent (it becomes an example in the draft),
// to an article, mark it out of scope, or dismiss it (GET /api/bot/review, POST /api/bot/review/{id}/…).
import { api } from "./api.js";
import { el, time, percent } from "./dom.js";
import { t } from "./i18n.js";
import { state, on, intents, guarded, toast, loadContent } from "./designer_state.js";
import { listArticles } from "./designer_kb.js";

const REASONS = ["", "unsure", "kb_fallback", "handed_off", "did_not_help"];
let root;
let reason = "";
let status = "pending";

export function mount(node) {
  root = node;
  on("lang", () => { if (!root.hidden) show(); });
}

async function fetchItems() {
  // The same question from many customers is one row (group=text), settled for all of them at once.
  const params = new URLSearchParams({ status, group: "text" });
  if (reason) params.set("reason", reason);
  return api("GET", `/api/bot/review?${params}`);
}

export async function refreshCount() {
  const res = await fetchItems().catch(() => null);
  const badge = document.getElementById("review-count");
  if (badge) badge.textContent = res && status === "pending" ? String(res.total) : "";
}

export async function show() {
  const res = await guarded(fetchItems);
  if (!res) return;
  const articles = (await guarded(() => listArticles("&status=published"))) ?? [];
  document.getElementById("review-count").textContent = status === "pending" ? String(res.total) : "";
  root.replaceChildren(
    el("div", { class: "row review-filters" },
      el("select", { id: "review-status", "aria-label": t("d_status"), onchange: (e) => { status = e.target.value; show(); } },
        ["pending", "assigned", "dismissed"].map((s) => el("option", { value: s, selected: s === status }, t(`d_rs_${s}`)))),
      REASONS.map((r) => el("button", { class: `tab ${r === reason ? "on" : ""}`, "aria-selected": String(r === reason), "data-reason": r,
        onclick: () => { reason = r; show(); } }, r ? t(`d_reason_${r}`) : t("d_all"), r && res.counts ? ` (${res.counts[r] ?? 0})` : ""))),
    res.items.length
      ? el("table", { class: "grid review", id: "review-items" },
        el("thead", {}, el("tr", {}, ["d_message", "d_reason", "d_guess", "d_when", ""].map((k) => el("th", {}, k ? t(k) : "")))),
        el("tbody", {}, res.items.map((item) => row(item, articles))))
      : el("p", { class: "muted", id: "review-empty" }, t("d_review_empty")),
  );
}

function row(item, articles) {
  const intentSelect = el("select", { class: "assign-intent", "aria-label": t("d_intent") },
    el("option", { value: "" }, t("d_to_intent")),
    intents().map((i) => el("option", { value: i.name, selected: i.name === item.intent }, i.name)));
  const articleSelect = el("select", { class: "assign-article", "aria-label": t("d_article") },
    el("option", { value: "" }, t("d_to_article")), articles.map((a) => el("option", { value: a.id }, a.title)));
  const pending = item.status === "pending";
  return el("tr", { "data-review": item.id },
    el("td", { class: "text" }, item.text,
      item.count > 1 ? el("span", { class: "badge asked", "data-count": item.count }, `${item.count} ${t("d_askers")}`) : "",
      el("div", { class: "muted" }, `${item.channel ?? ""} · ${item.language ?? ""}`)),
    el("td", {}, el("span", { class: `badge reason-${item.reason}` }, t(`d_reason_${item.reason}`))),
    el("td", {}, item.intent ? `${item.intent} ${percent(item.confidence)}` : "—"),
    el("td", { class: "muted" }, time(item.created_at)),
    el("td", { class: "actions" }, pending
      ? [
        intentSelect, el("button", { "data-action": "assign", onclick: () => intentSelect.value && resolve(item, "assign", { intent: intentSelect.value }) }, t("d_assign")),
        articleSelect, el("button", { "data-action": "article", onclick: () => articleSelect.value && resolve(item, "article", { article_id: Number(articleSelect.value) }) }, t("d_link")),
        el("button", { "data-action": "out-of-scope", onclick: () => resolve(item, "out-of-scope", {}) }, t("d_out_of_scope")),
        el("button", { class: "link", "data-action": "dismiss", onclick: () => resolve(item, "dismiss", {}) }, t("d_dismiss")),
      ]
      : el("span", { class: "muted" }, `${item.resolution ?? item.status}${item.target ? ` → ${item.target}` : ""}`)));
}

async function resolve(item, action, body) {
  if (state.dirty && action !== "dismiss" && action !== "article") {
    toast(t("d_save_first"), "bad");
    return;
  }
  const res = await guarded(() => api("POST", `/api/bot/review/${item.id}/${action}`, body));
  if (!res) return;
  toast(`«${item.text}» ${t(`d_done_${action}`)}${res.also_resolved ? ` (+${res.also_resolved} ${t("d_same_settled")})` : ""}`);
  if (action === "assign" || action === "out-of-scope") await guarded(loadContent);
  await show();
}
