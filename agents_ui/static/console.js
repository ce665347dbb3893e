// Kefu agent console: inbox with filters, offers, the customer's timeline, composer, actions, customer card.
import { api, currentAgent, signIn, upload } from "./api.js";
import { $, el, time } from "./dom.js";
import { t, setLang, currentLang, translate } from "./i18n.js";
import { cannedResponses, expandShortcut, fillPlaceholders, kbSuggestions } from "./composer.js";
import { askPermission, chime, desktopNotice } from "./notify.js";
import { tc } from "./console_strings.js";

const state = {
  me: null, view: "queued", filters: {}, conversations: new Map(), current: null, messages: [], earlier: [],
  customer: null, offers: new Map(), colleagues: [], queues: [], socket: null, retry: 0, noteMode: false,
  files: [],
};

const wsSend = (frame) => state.socket?.readyState === WebSocket.OPEN && state.socket.send(JSON.stringify(frame));

async function boot() {
  setLang(currentLang());
  const agent = await currentAgent();
  if (agent === null) {
    $("#app").hidden = true;
    $("#login").hidden = false;
    return;
  }
  state.me = agent;
  showApp();
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  $("#login-error").textContent = "";
  try {
    state.me = await signIn(form);
    showApp();
  } catch (err) {
    $("#login-error").textContent = err.message;
  }
}

async function showApp() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#me").textContent = `${state.me.name} · ${state.me.role}`;
  $("#wallboard-link").hidden = state.me.role === "agent";
  $("#settings-link").hidden = !["supervisor", "admin"].includes(state.me.role);
  $("#designer-link").hidden = !["designer", "admin"].includes(state.me.role);
  askPermission();
  cannedResponses().catch(() => {});
  selectView(state.view);
  connect();
  loadOffers();
  api("GET", "/api/console/colleagues").then((r) => { state.colleagues = r.agents; });
  api("GET", "/api/queues").then((r) => { state.queues = r.queues; }).catch(() => {});
}

// ---------------------------------------------------------------- inbox

async function selectView(view) {
  state.view = view;
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  const params = new URLSearchParams({ ...state.filters });
  if (view === "resolved") params.set("status", "resolved");
  else if (view === "queued") params.set("status", "queued");
  else if (view === "mine") params.set("status", "assigned");
  const res = await api("GET", `/api/console/inbox?${params}`);
  state.conversations = new Map(res.conversations.map((c) => [c.id, c]));
  renderCounts(res.counts);
  renderList();
}

function renderCounts(counts) {
  for (const node of document.querySelectorAll("[data-count]")) node.textContent = counts[node.dataset.count] ?? 0;
}

function refreshCounts() {
  api("GET", "/api/console/inbox?limit=1").then((r) => renderCounts(r.counts)).catch(() => {});
}

const snoozed = (c) => Boolean(c.snoozed_until) && new Date(c.snoozed_until) > Date.now();

function belongs(c) {
  const f = state.filters;
  if (snoozed(c)) return false;
  if (f.channel && c.channel !== f.channel) return false;
  if (f.priority && c.priority !== f.priority) return false;
  if (f.label && !(c.labels || []).includes(f.label)) return false;
  if (state.view === "queued") return c.status === "queued";
  if (state.view === "mine") return c.status === "assigned" && c.assignee_id === state.me.id;
  return c.status === "resolved";
}

const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2, low: 3 };

function renderList() {
  const items = [...state.conversations.values()].filter(belongs);
  items.sort((a, b) => (PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority]) || (state.view === "queued"
    ? (a.enqueued_at || "").localeCompare(b.enqueued_at || "")
    : (b.last_message_at || "").localeCompare(a.last_message_at || "")));
  $("#conversation-list").replaceChildren(...items.map((c) => el("li", {
      class: `${state.current?.id === c.id ? "active" : ""} prio-${c.priority}`,
      "data-conversation": c.id, onclick: () => openConversation(c.id),
    },
    el("span", { class: "name" }, c.customer_name || `#${c.customer_id}`, " ",
      el("span", { class: `badge ch-${c.channel}` }, c.channel),
      c.priority !== "normal" ? el("span", { class: `badge prio` }, c.priority) : null,
      c.unread_count ? el("span", { class: "badge unread" }, c.unread_count) : null),
    el("span", { class: "preview" }, c.last_message_preview || ""),
    (c.labels || []).length ? el("span", { class: "labels" }, c.labels.map((l) => el("span", { class: "label" }, l))) : null,
  )));
}

// ---------------------------------------------------------------- offers

async function loadOffers() {
  const { offers } = await api("GET", "/api/offers");
  state.offers = new Map(offers.map((o) => [o.conversation_id, o]));
  renderOffers();
}

function renderOffers() {
  const box = $("#offers");
  const now = Date.now();
  const items = [...state.offers.values()].filter((o) => !o.expires_at || new Date(o.expires_at) > now);
  box.hidden = items.length === 0;
  box.replaceChildren(...items.map((o) => {
    const left = o.expires_at ? Math.max(0, Math.ceil((new Date(o.expires_at) - now) / 1000)) : null;
    const c = o.conversation || state.conversations.get(o.conversation_id) || {};
    return el("div", { class: "offer", "data-offer": o.conversation_id },
      el("strong", {}, t("offer")), " ",
      el("span", {}, c.customer_name || `#${o.conversation_id}`, " ", el("span", { class: "badge" }, c.channel || "")),
      el("span", { class: "preview" }, c.last_message_preview || ""),
      left !== null ? el("span", { class: "countdown", "data-countdown": o.conversation_id }, `${left}s`) : null,
      el("button", { class: "primary", "data-action": "accept", onclick: () => answerOffer(o.conversation_id, "accept") }, t("accept")),
      el("button", { "data-action": "decline", onclick: () => answerOffer(o.conversation_id, "decline") }, t("decline")));
  }));
}

setInterval(() => { if (state.offers.size) renderOffers(); }, 1000);

async function answerOffer(id, answer) {
  try {
    await api("POST", `/api/offers/${id}/${answer}`, {});
    state.offers.delete(id);
    renderOffers();
    if (answer === "accept") { await selectView("mine"); await openConversation(id); }
  } catch (err) {
    state.offers.delete(id);
    renderOffers();
    toast(err.message);
  }
}

// ---------------------------------------------------------------- conversation and timeline

async function openConversation(id) {
  if (state.current) wsSend({ type: "unwatch", conversation_id: state.current.id });
  const res = await api("GET", `/api/conversations/${id}`);
  if (state.current?.id !== id) state.files = [];
  state.current = res.conversation;
  state.messages = res.messages;
  state.conversations.set(id, { ...res.conversation, unread_count: 0 });
  wsSend({ type: "watch", conversation_id: id });
  const [customer, history] = await Promise.all([
    api("GET", `/api/customers/${res.conversation.customer_id}`),
    api("GET", `/api/console/customers/${res.conversation.customer_id}/conversations`),
  ]);
  state.customer = customer.customer;
  state.earlier = history.conversations.filter((c) => c.id < id);
  renderList();
  renderConversation();
  renderCustomer();
}

function actionButtons(c) {
  const mine = c.assignee_id === state.me.id;
  const boss = state.me.role !== "agent";
  const b = [];
  if (c.status === "queued" || c.status === "bot") b.push(el("button", { class: "primary", "data-action": "take", onclick: () => act("take") }, t("take")));
  if (c.status !== "resolved" && (mine || boss)) b.push(el("button", { "data-action": "transfer", onclick: openTransfer }, t("transfer")));
  if (c.status !== "resolved" && (mine || c.assignee_id === null || boss)) b.push(el("button", { "data-action": "resolve", onclick: () => act("resolve") }, t("resolve")));
  if (c.status === "resolved") b.push(el("button", { "data-action": "reopen", onclick: () => act("reopen") }, t("reopen")));
  return b;
}

function metaBar(c) {
  const prio = el("select", { id: "priority", title: t("priority"), onchange: (e) => setMeta({ priority: e.target.value }) },
    ["urgent", "high", "normal", "low"].map((p) => el("option", { value: p, selected: p === c.priority }, p)));
  const labels = el("input", { id: "labels", value: (c.labels || []).join(", "), placeholder: t("labels"),
    onchange: (e) => setMeta({ labels: e.target.value.split(",").map((s) => s.trim()).filter(Boolean) }) });
  const snooze = el("input", { id: "snooze", type: "datetime-local", title: t("snooze"),
    onchange: (e) => e.target.value && setMeta({ snoozed_until: new Date(e.target.value).toISOString() }) });
  const asleep = snoozed(c) ? el("span", { class: "snoozed", id: "snoozed" }, `${tc("snoozed_until")} ${time(c.snoozed_until)} `,
    el("button", { class: "link", id: "unsnooze", onclick: () => setMeta({ snoozed_until: null }) }, tc("unsnooze"))) : null;
  return el("div", { class: "meta-bar" }, prio, labels, el("label", { class: "snooze" }, t("snooze"), " ", snooze), asleep);
}

let drawnFor = null;

function renderConversation() {
  const c = state.current;
  if (!c) return;
  // A re-render (status change, note mode) keeps what the agent was typing in this conversation.
  const old = $("#reply-text");
  const typed = drawnFor === c.id && old ? old.value : "";
  const hadFocus = old && document.activeElement === old;
  drawnFor = c.id;
  const earlier = state.earlier.map((e) => el("details", { class: "earlier", "data-earlier": e.id,
      ontoggle: (ev) => ev.target.open && loadEarlier(ev.target, e.id) },
    el("summary", {}, `${t("earlier")} #${e.id} · `, el("span", { class: `badge ch-${e.channel}` }, e.channel), ` · ${e.status} · ${time(e.created_at)}`),
    el("div", { class: "earlier-body" })));
  const messages = el("div", { class: "messages", id: "messages" }, earlier,
    c.handoff_reason ? handoffCard(c) : null,
    state.messages.map(renderMessage));
  const textarea = el("textarea", { id: "reply-text", placeholder: state.noteMode ? t("note_ph") : t("reply_ph") });
  textarea.addEventListener("keydown", onComposerKey);
  textarea.addEventListener("input", onComposerInput);
  textarea.addEventListener("paste", onPaste);
  const picker = el("input", { id: "attach-input", type: "file", multiple: true, hidden: true,
    onchange: (e) => { addFiles(e.target.files); e.target.value = ""; } });
  $("#conversation").replaceChildren(
    el("div", { class: "conv-head" },
      el("span", { class: "title" }, c.customer_name || `#${c.customer_id}`, " ", el("span", { class: `badge ch-${c.channel}` }, c.channel),
        " ", el("span", { class: "badge", id: "conv-status" }, c.status),
        c.csat_score != null ? el("span", { class: "badge csat", id: "conv-csat", title: c.csat_comment || "" }, `${tc("csat")} ${c.csat_score}/5`) : null),
      ...actionButtons(c),
      el("button", { class: "card-toggle", id: "customer-toggle", onclick: () => $("#app").classList.toggle("show-customer") }, tc("customer_card"))),
    metaBar(c),
    messages,
    el("div", {},
      el("div", { class: "typing", id: "typing" }),
      el("div", { class: "suggestions", id: "suggestions" }),
      el("div", { class: "files", id: "files" }, state.files.map(fileChip)),
      el("div", { class: `composer ${state.noteMode ? "note-mode" : ""}` }, textarea,
        el("button", { class: "primary", id: "send-reply", onclick: () => send("reply") }, t("send")),
        el("button", { id: "send-note", onclick: () => send("note") }, t("note")),
        el("button", { id: "attach", title: tc("attach"), onclick: () => picker.click() }, tc("attach")), picker),
      el("div", { class: "hint" }, t("shortcuts"))),
  );
  messages.scrollTop = messages.scrollHeight;
  if (typed) textarea.value = typed;
  if (hadFocus) textarea.focus();
}

// ---------------------------------------------------------------- files from the composer

function fileChip(file, index) {
  const preview = file.type.startsWith("image/") ? el("img", { src: URL.createObjectURL(file), alt: "" }) : null;
  return el("span", { class: "chip file", "data-file": file.name }, preview, `${file.name} · ${Math.ceil(file.size / 1024)} KB `,
    el("button", { class: "link", title: tc("remove"), onclick: () => { state.files.splice(index, 1); renderFiles(); } }, "×"));
}

function renderFiles() {
  $("#files")?.replaceChildren(...state.files.map(fileChip));
}

function addFiles(list) {
  for (const file of list) if (file && file.size) state.files.push(file);
  renderFiles();
}

function onPaste(event) {
  // A pasted screenshot arrives as a file named image.png; give it a name worth keeping.
  const pasted = [...(event.clipboardData?.items || [])].filter((i) => i.kind === "file").map((i) => i.getAsFile()).filter(Boolean);
  if (!pasted.length) return;
  event.preventDefault();
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  addFiles(pasted.map((f, i) => new File([f], f.name && f.name !== "image.png" ? f.name : `pasted-${stamp}${i ? `-${i}` : ""}.${(f.type.split("/")[1] || "png")}`, { type: f.type })));
}

function onDrag(event) {
  if (!state.current || ![...(event.dataTransfer?.types || [])].includes("Files")) return;
  event.preventDefault();
  $("#conversation").classList.toggle("dropping", event.type === "dragover");
}

function onDrop(event) {
  if (!state.current || !event.dataTransfer?.files?.length) return;
  event.preventDefault();
  $("#conversation").classList.remove("dropping");
  addFiles(event.dataTransfer.files);
}

// The bot's hand-off at the top of the conversation: why, the intent, what was asked and answered.
function handoffCard(c) {
  const h = c.handoff || {};
  const row = (label, value, key) => value ? el("div", { class: "row", "data-handoff": key }, el("span", { class: "muted" }, label), " ", value) : null;
  return el("section", { class: "handoff-card", id: "handoff" },
    el("strong", {}, `${t("handoff")}: `, h.explanation || c.handoff_reason),
    row(tc("handoff_intent"), h.intent ? `${h.intent}${h.confidence != null ? ` (${Math.round(h.confidence * 100)}%)` : ""}` : null, "intent"),
    row(tc("handoff_asked"), h.customer_asked, "asked"),
    row(tc("handoff_answer"), h.bot_answer, "answer"),
    row(tc("handoff_articles"), (h.articles || []).map((a) => a.title).join(", "), "articles"));
}

async function loadEarlier(details, id) {
  const body = details.querySelector(".earlier-body");
  if (body.childElementCount) return;
  const res = await api("GET", `/api/conversations/${id}`);
  body.replaceChildren(...res.messages.map(renderMessage));
}

function renderMessage(m) {
  const cls = m.direction === "in" ? "msg in" : m.direction === "note" ? "msg note" : `msg out status-${m.delivery_status}`;
  const files = (m.attachments || []).map((a, i) => {
    const href = a.sha256 ? `/api/messages/${m.id}/attachments/${i}` : null;
    const image = href && /^image\/(png|jpeg|gif|webp)$/.test(a.content_type || "") ? el("img", { src: href, alt: a.filename || "" }) : null;
    return el("a", { class: "attachment", href: href || undefined, target: "_blank", "data-attachment": a.filename }, image || `📎 ${a.filename || "file"}`);
  });
  const status = m.direction === "out" ? el("span", { class: `delivery ${m.delivery_status}`, "data-delivery": m.id }, m.delivery_status) : null;
  return el("div", { class: cls, "data-message": m.id, "data-seq": m.seq },
    m.text, files,
    el("div", { class: "meta" }, `${m.author} · ${m.channel || ""} · ${time(m.created_at)} `, status,
      m.delivery_status === "failed" && m.last_error ? ` — ${m.last_error}` : ""));
}

// ---------------------------------------------------------------- composer

let typingTimer = null;
let suggestTimer = null;

function onComposerInput(event) {
  if (state.current && !state.noteMode) {
    if (!typingTimer) wsSend({ type: "typing", conversation_id: state.current.id, active: true });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typingTimer = null; state.current && wsSend({ type: "typing", conversation_id: state.current.id, active: false }); }, 2000);
  }
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(() => suggest(event.target.value), 400);
}

async function onComposerKey(event) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(state.noteMode ? "note" : "reply"); }
  if ((event.key === "Tab" || event.key === " ") && /(^|\s)\/[a-z0-9_-]+$/.test(event.target.value)) {
    // Decided before any await: a Tab after /shortcut expands it instead of moving focus.
    if (event.key === "Tab") event.preventDefault();
    const area = event.target;
    const expanded = await expandShortcut(area.value, placeholderContext());
    if (expanded !== null) area.value = expanded;
  }
}

function placeholderContext() {
  const cu = state.customer || {};
  return { customer: { name: cu.display_name || state.current?.customer_name || "", email: cu.email, phone: cu.phone },
    agent: { name: state.me.name }, conversation: { id: state.current?.id } };
}

async function suggest(text) {
  const box = $("#suggestions");
  if (!box) return;
  const lastCustomer = [...state.messages].reverse().find((m) => m.direction === "in");
  const hits = await kbSuggestions(text || lastCustomer?.text || "");
  const canned = (await cannedResponses()).filter((c) => text.includes("/") && c.shortcut.startsWith(text.split("/").pop()));
  box.replaceChildren(
    ...canned.map((c) => el("button", { class: "chip", "data-canned": c.shortcut, onclick: () => insert(fillPlaceholders(c.text, placeholderContext()), `/${text.split("/").pop()}`) }, `/${c.shortcut} · ${c.title}`)),
    ...(hits.length ? [el("span", { class: "muted" }, `${t("suggestions")}:`)] : []),
    ...hits.map((h) => el("span", { class: "chip kb", "data-kb": h.article_id }, h.title, " ",
      el("button", { class: "link", onclick: () => insert(`${h.title}: ${location.origin}${h.url}`) }, t("insert_link")),
      el("button", { class: "link", onclick: () => insert(h.snippet.text) }, t("insert_text")))));
}

function insert(text, replacing = "") {
  const area = $("#reply-text");
  const base = replacing && area.value.endsWith(replacing) ? area.value.slice(0, -replacing.length) : area.value;
  area.value = base + (base && !base.endsWith(" ") && !base.endsWith("\n") ? " " : "") + text;
  area.focus();
}

async function send(kind) {
  const area = $("#reply-text");
  const typed = area.value;
  const expanded = await expandShortcut(area.value, placeholderContext());
  const text = (expanded ?? area.value).trim();
  const files = kind === "reply" ? state.files : [];
  if (kind === "note" && state.files.length) toast(tc("files_reply_only"));
  if ((!text && !files.length) || !state.current) return;
  const path = kind === "note" ? "mention-notes" : "messages";
  try {
    let res;
    if (files.length) {
      const form = new FormData();
      form.append("text", text);
      for (const file of files) form.append("file", file, file.name);
      res = await upload(`/api/conversations/${state.current.id}/messages`, form);
      state.files = [];
      renderFiles();
    } else {
      res = await api("POST", `/api/conversations/${state.current.id}/${path}`, { text });
    }
    // The live frame may show the message before this answer comes: what was typed since stays.
    const composer = $("#reply-text");
    if (composer && composer.value === typed) composer.value = "";
    addMessage(res.message);
  } catch (err) {
    toast(err.message);
  }
}

function toggleNoteMode() {
  state.noteMode = !state.noteMode;
  renderConversation();
  $("#reply-text")?.focus();
}

// ---------------------------------------------------------------- actions

async function act(action) {
  try {
    const res = await api("POST", `/api/conversations/${state.current.id}/${action}`, {});
    state.current = res.conversation;
    state.conversations.set(res.conversation.id, res.conversation);
    renderConversation();
    renderList();
  } catch (err) {
    toast(err.message);
  }
}

function refreshMetaBar() {
  document.querySelector(".meta-bar")?.replaceWith(metaBar(state.current));
}

async function setMeta(values) {
  try {
    const res = await api("PATCH", `/api/conversations/${state.current.id}/meta`, values);
    state.current = { ...state.current, ...res.conversation };
    state.conversations.set(res.conversation.id, res.conversation);
    renderList();
    if ("snoozed_until" in values) refreshMetaBar();
    toast(`✓ ${Object.keys(values).join(", ")}`);
  } catch (err) {
    toast(err.message);
  }
}

function openTransfer() {
  const dialog = $("#transfer-dialog");
  $("#transfer-agent").replaceChildren(el("option", { value: "" }, "—"),
    ...state.colleagues.filter((a) => a.id !== state.me.id).map((a) => el("option", { value: a.id }, `${a.name} (${a.presence})`)));
  $("#transfer-queue").replaceChildren(el("option", { value: "" }, "—"),
    ...state.queues.map((q) => el("option", { value: q.id }, q.name)));
  translate(dialog);
  dialog.showModal();
}

async function submitTransfer(event) {
  event.preventDefault();
  const agentId = Number($("#transfer-agent").value);
  const queueId = Number($("#transfer-queue").value);
  const note = $("#transfer-note").value.trim();
  const body = agentId ? { agent_id: agentId } : { queue_id: queueId };
  if (note) body.note = note;
  try {
    await api("POST", `/api/conversations/${state.current.id}/transfer`, body);
    $("#transfer-dialog").close();
    const res = await api("GET", `/api/conversations/${state.current.id}`);
    state.current = res.conversation;
    state.messages = res.messages;
    renderConversation();
    toast("✓");
  } catch (err) {
    $("#transfer-error").textContent = err.message;
  }
}

function addMessage(m) {
  if (!state.current || m.conversation_id !== state.current.id) return;
  if (state.messages.some((x) => x.id === m.id)) return;
  state.messages.push(m);
  state.messages.sort((a, b) => a.seq - b.seq);
  const box = $("#messages");
  if (box) { box.append(renderMessage(m)); box.scrollTop = box.scrollHeight; }
}

// ---------------------------------------------------------------- customer card

function renderCustomer() {
  const cu = state.customer;
  if (!cu) return;
  const field = (name, label, value) => el("label", { class: "field" }, label,
    el("input", { name, value: value ?? "" }));
  const form = el("form", { id: "customer-form", onsubmit: saveCustomer },
    field("display_name", "Name", cu.display_name), field("email", "Email", cu.email), field("phone", "Phone", cu.phone),
    field("company", "Company", cu.company),
    el("label", { class: "field" }, t("tier"), el("select", { name: "tier" },
      ["standard", "key", "vip"].map((x) => el("option", { value: x, selected: cu.tier === x }, x)))),
    field("lifecycle_stage", t("lifecycle"), cu.lifecycle_stage), field("tags", t("tags"), (cu.tags || []).join(", ")),
    el("button", { type: "submit" }, t("save")));
  $("#customer").replaceChildren(
    el("button", { class: "link card-close", id: "customer-close", onclick: () => $("#app").classList.remove("show-customer") }, `× ${tc("close")}`),
    el("h2", {}, cu.display_name || cu.email || cu.phone || `#${cu.id}`),
    el("div", { class: "channels" }, (cu.identities || []).map((i) => el("span", { class: `badge ch-${i.channel}` }, i.channel))),
    form,
    el("form", { class: "merge", onsubmit: mergeCustomer }, t("merge_into"), el("input", { name: "into", type: "number", min: 1, size: 6 }),
      el("button", { type: "submit" }, t("merge"))),
    el("p", { class: "error", id: "customer-error" }));
}

async function saveCustomer(event) {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(event.target));
  const body = {};
  for (const [k, v] of Object.entries(data)) {
    const before = k === "tags" ? (state.customer.tags || []).join(", ") : state.customer[k] ?? "";
    if (v !== String(before)) body[k] = k === "tags" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v || null;
  }
  if (!Object.keys(body).length) return;
  try {
    state.customer = (await api("PATCH", `/api/customers/${state.customer.id}`, body)).customer;
    renderCustomer();
  } catch (err) {
    $("#customer-error").textContent = err.message;
  }
}

async function mergeCustomer(event) {
  event.preventDefault();
  const into = Number(event.target.into.value);
  if (!into) return;
  try {
    state.customer = (await api("POST", `/api/customers/${state.customer.id}/merge`, { into })).customer;
    renderCustomer();
  } catch (err) {
    $("#customer-error").textContent = err.message;
  }
}

// ---------------------------------------------------------------- live socket

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${proto}://${location.host}/api/ws`);
  state.socket = socket;
  socket.onopen = () => {
    state.retry = 0;
    $("#live").classList.add("on");
    if (state.current) wsSend({ type: "watch", conversation_id: state.current.id });
  };
  socket.onclose = () => {
    $("#live").classList.remove("on");
    const delay = Math.min(30000, 500 * 2 ** state.retry++);
    setTimeout(() => { connect(); selectView(state.view); loadOffers(); }, delay);
  };
  socket.onmessage = (event) => onFrame(JSON.parse(event.data));
}

let typingHide = null;
function onFrame(frame) {
  if (frame.type === "message") {
    const m = frame.message;
    const c = state.conversations.get(m.conversation_id);
    if (c && m.direction !== "note") {
      c.last_message_preview = (m.text || "").slice(0, 160);
      c.last_message_at = m.created_at;
      // A resolved conversation's reply is a rating (any other message reopens it, and that frame brings the count).
      if (m.direction === "in" && state.current?.id !== c.id && c.status !== "resolved") c.unread_count = (c.unread_count || 0) + 1;
      renderList();
    }
    addMessage(m);
  } else if (frame.type === "conversation") {
    const c = frame.conversation;
    state.conversations.set(c.id, c);
    if (frame.change === "woke" && (c.assignee_id === state.me.id || (c.assignee_id === null && c.status === "queued"))) {
      const who = c.customer_name || `#${c.id}`;
      toast(`${who} ${tc("woke")}`, () => openConversation(c.id));
      desktopNotice(`${who} ${tc("woke")}`, c.last_message_preview || "");
    }
    if (state.current?.id === c.id) {
      const changed = state.current.status !== c.status || state.current.assignee_id !== c.assignee_id;
      const napped = state.current.snoozed_until !== c.snoozed_until;
      state.current = { ...state.current, ...c };
      if (changed) renderConversation();
      else if (napped) refreshMetaBar();
    }
    renderList();
    refreshCounts();
  } else if (frame.type === "delivery") {
    const m = state.messages.find((x) => x.id === frame.message_id);
    if (m) { m.delivery_status = frame.status; document.querySelector(`[data-message="${m.id}"]`)?.replaceWith(renderMessage(m)); }
  } else if (frame.type === "typing" && state.current?.id === frame.conversation_id) {
    const node = $("#typing");
    if (node) node.textContent = frame.active ? t("customer_typing") : "";
    clearTimeout(typingHide);
    typingHide = setTimeout(() => { const n = $("#typing"); if (n) n.textContent = ""; }, 6000);
  } else if (frame.type === "offer") {
    state.offers.set(frame.conversation_id, frame);
    renderOffers();
    chime();
    desktopNotice(t("offer"), frame.conversation?.last_message_preview || "");
  } else if (frame.type === "offer_ended") {
    if (frame.agent_id === state.me.id) { state.offers.delete(frame.conversation_id); renderOffers(); }
  } else if (frame.type === "mention") {
    const who = state.colleagues.find((a) => a.id === frame.by_agent_id)?.name || `#${frame.by_agent_id}`;
    toast(`${who} ${t("mention")} · #${frame.conversation_id}`, () => openConversation(frame.conversation_id));
    desktopNotice(`${who} ${t("mention")}`, `#${frame.conversation_id}`);
  } else if (frame.type === "presence" && frame.agent_id === state.me.id) {
    $("#presence").value = frame.presence;
  } else if (frame.type === "canned") {
    cannedResponses(true);
  }
}

function toast(text, onclick) {
  const node = el("div", { class: "toast", onclick: () => { node.remove(); onclick?.(); } }, text);
  $("#toasts").append(node);
  setTimeout(() => node.remove(), 6000);
}

// ---------------------------------------------------------------- keyboard

function onKey(event) {
  if (!event.altKey) {
    if (event.key === "/" && !["TEXTAREA", "INPUT", "SELECT"].includes(document.activeElement?.tagName)) { event.preventDefault(); $("#reply-text")?.focus(); }
    return;
  }
  const first = [...state.offers.keys()][0];
  const key = event.key.toLowerCase();
  if (key === "a" && first) answerOffer(first, "accept");
  else if (key === "d" && first) answerOffer(first, "decline");
  else if (key === "r" && state.current) act("resolve");
  else if (key === "t" && state.current) openTransfer();
  else if (key === "n" && state.current) toggleNoteMode();
  else return;
  event.preventDefault();
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", async () => { await api("POST", "/api/logout", {}); location.reload(); });
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => selectView(tab.dataset.view));
  for (const select of document.querySelectorAll("[data-filter]")) {
    select.addEventListener("change", () => {
      if (select.value) state.filters[select.dataset.filter] = select.value;
      else delete state.filters[select.dataset.filter];
      selectView(state.view);
    });
  }
  $("#lang").value = currentLang();
  $("#lang").addEventListener("change", (e) => { setLang(e.target.value); if (state.current) renderConversation(); renderOffers(); });
  $("#presence").addEventListener("change", (e) => api("POST", "/api/me/presence", { presence: e.target.value }).catch((err) => toast(err.message)));
  $("#transfer-form").addEventListener("submit", submitTransfer);
  $("#transfer-cancel").addEventListener("click", () => $("#transfer-dialog").close());
  document.addEventListener("keydown", onKey);
  for (const type of ["dragover", "dragleave"]) $("#conversation").addEventListener(type, onDrag);
  $("#conversation").addEventListener("drop", onDrop);
  boot();
});
