// Kefu agent console: inbox, conversation, replies and the customer record, updated live.
import { api, ApiError, setCsrf } from "./api.js";

const state = {
  me: null,
  view: "queued",
  conversations: new Map(),
  current: null,
  messages: [],
  socket: null,
  retry: 0,
};

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

async function boot() {
  try {
    const me = await api("GET", "/api/me");
    setCsrf(me.csrf_token);
    state.me = me.agent;
    showApp();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showLogin();
    else throw err;
  }
}

function showLogin() {
  $("#app").hidden = true;
  $("#login").hidden = false;
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  $("#login-error").textContent = "";
  try {
    const res = await api("POST", "/api/login", { email: form.email.value, password: form.password.value });
    setCsrf(res.csrf_token);
    state.me = res.agent;
    showApp();
  } catch (err) {
    $("#login-error").textContent = err.message;
  }
}

function showApp() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#me").textContent = `${state.me.name} · ${state.me.role}`;
  selectView(state.view);
  connect();
}

async function selectView(view) {
  state.view = view;
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  const res = await api("GET", `/api/conversations?view=${view}`);
  state.conversations = new Map(res.conversations.map((c) => [c.id, c]));
  renderCounts(res.counts);
  renderList();
}

function renderCounts(counts) {
  for (const node of document.querySelectorAll("[data-count]")) node.textContent = counts[node.dataset.count] ?? 0;
}

function belongs(c) {
  if (state.view === "queued") return c.status === "queued";
  if (state.view === "mine") return c.status === "assigned" && c.assignee_id === state.me.id;
  if (state.view === "resolved") return c.status === "resolved";
  return true;
}

function renderList() {
  const list = $("#conversation-list");
  const items = [...state.conversations.values()].filter(belongs);
  items.sort((a, b) => state.view === "queued"
    ? (a.enqueued_at || "").localeCompare(b.enqueued_at || "")
    : (b.last_message_at || "").localeCompare(a.last_message_at || ""));
  list.replaceChildren(...items.map((c) => el("li", {
      class: state.current?.id === c.id ? "active" : "",
      "data-conversation": c.id,
      onclick: () => openConversation(c.id),
    },
    el("span", { class: "name" }, c.customer_name || `Customer #${c.customer_id}`, " ",
      el("span", { class: "badge" }, c.channel),
      c.unread_count ? el("span", { class: "badge unread" }, c.unread_count) : null),
    el("span", { class: "preview" }, c.last_message_preview || ""),
  )));
}

async function openConversation(id) {
  if (state.current && state.socket?.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify({ type: "unwatch", conversation_id: state.current.id }));
  }
  const res = await api("GET", `/api/conversations/${id}`);
  state.current = res.conversation;
  state.messages = res.messages;
  state.conversations.set(id, res.conversation);
  if (state.socket?.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify({ type: "watch", conversation_id: id }));
  }
  renderList();
  renderConversation();
  loadCustomer(res.conversation.customer_id);
}

function actionButtons(c) {
  const buttons = [];
  const mine = c.assignee_id === state.me.id;
  if (c.status === "queued" || c.status === "bot") buttons.push(el("button", { class: "primary", "data-action": "take", onclick: () => act("take") }, "Take"));
  if (c.status !== "resolved" && (mine || c.assignee_id === null || state.me.role !== "agent")) buttons.push(el("button", { "data-action": "resolve", onclick: () => act("resolve") }, "Resolve"));
  if (c.status === "resolved") buttons.push(el("button", { "data-action": "reopen", onclick: () => act("reopen") }, "Reopen"));
  return buttons;
}

function renderConversation() {
  const c = state.current;
  const box = $("#conversation");
  if (!c) return;
  const messages = el("div", { class: "messages", id: "messages" }, state.messages.map(renderMessage));
  const textarea = el("textarea", { id: "reply-text", placeholder: "Reply to the customer… (Ctrl+Enter sends)" });
  textarea.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send("reply"); });
  textarea.addEventListener("input", typingSignal);
  box.replaceChildren(
    el("div", { class: "conv-head" },
      el("span", { class: "title" }, c.customer_name || `Customer #${c.customer_id}`, " ", el("span", { class: "badge" }, c.channel),
        " ", el("span", { class: "badge", id: "conv-status" }, c.status)),
      ...actionButtons(c)),
    messages,
    el("div", {},
      el("div", { class: "typing", id: "typing" }),
      el("div", { class: "composer" }, textarea,
        el("button", { class: "primary", id: "send-reply", onclick: () => send("reply") }, "Send"),
        el("button", { id: "send-note", onclick: () => send("note") }, "Note"))),
  );
  messages.scrollTop = messages.scrollHeight;
}

function renderMessage(m) {
  const cls = m.direction === "in" ? "msg in" : m.direction === "note" ? "msg note" : "msg out";
  const status = m.direction === "out" ? ` · ${m.delivery_status}` : "";
  return el("div", { class: cls, "data-message": m.id, "data-seq": m.seq },
    m.text,
    el("div", { class: "meta" }, `${m.author}${status} · ${time(m.created_at)}`));
}

let typingTimer = null;
function typingSignal() {
  if (!state.current || state.socket?.readyState !== WebSocket.OPEN) return;
  if (!typingTimer) state.socket.send(JSON.stringify({ type: "typing", conversation_id: state.current.id, active: true }));
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => {
    typingTimer = null;
    state.socket?.readyState === WebSocket.OPEN && state.current &&
      state.socket.send(JSON.stringify({ type: "typing", conversation_id: state.current.id, active: false }));
  }, 2000);
}

async function send(kind) {
  const textarea = $("#reply-text");
  const text = textarea.value.trim();
  if (!text || !state.current) return;
  const path = kind === "note" ? "notes" : "messages";
  try {
    const res = await api("POST", `/api/conversations/${state.current.id}/${path}`, { text });
    textarea.value = "";
    addMessage(res.message);
  } catch (err) {
    alert(err.message);
  }
}

async function act(action) {
  try {
    const res = await api("POST", `/api/conversations/${state.current.id}/${action}`, {});
    state.current = res.conversation;
    state.conversations.set(res.conversation.id, res.conversation);
    renderConversation();
    renderList();
  } catch (err) {
    alert(err.message);
  }
}

function addMessage(m) {
  if (!state.current || m.conversation_id !== state.current.id) return;
  if (state.messages.some((x) => x.id === m.id)) return;
  state.messages.push(m);
  state.messages.sort((a, b) => a.seq - b.seq);
  const box = $("#messages");
  if (box) {
    box.replaceChildren(...state.messages.map(renderMessage));
    box.scrollTop = box.scrollHeight;
  }
}

async function loadCustomer(customerId) {
  const { customer } = await api("GET", `/api/customers/${customerId}`);
  const earlier = customer.conversations.filter((c) => c.id !== state.current?.id);
  $("#customer").replaceChildren(
    el("h2", {}, customer.display_name || customer.email || customer.phone || `Customer #${customer.id}`),
    el("dl", {},
      el("dt", {}, "Email"), el("dd", {}, customer.email || "—"),
      el("dt", {}, "Phone"), el("dd", {}, customer.phone || "—"),
      el("dt", {}, "Company"), el("dd", {}, customer.company || "—"),
      el("dt", {}, "Tier"), el("dd", {}, customer.tier),
      el("dt", {}, "Channels"), el("dd", {}, customer.identities.map((i) => i.channel).join(", "))),
    el("h3", {}, "Earlier conversations"),
    el("ul", { class: "history", id: "customer-history" }, earlier.map((c) =>
      el("li", { "data-conversation": c.id }, el("a", { href: "#", onclick: (e) => { e.preventDefault(); openConversation(c.id); } },
        `#${c.id} · ${c.channel} · ${c.status}`), el("div", { class: "preview" }, c.last_message_preview || "")))),
  );
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${proto}://${location.host}/api/ws`);
  state.socket = socket;
  socket.onopen = () => {
    state.retry = 0;
    $("#live").classList.add("on");
    if (state.current) socket.send(JSON.stringify({ type: "watch", conversation_id: state.current.id }));
  };
  socket.onclose = () => {
    $("#live").classList.remove("on");
    const delay = Math.min(30000, 500 * 2 ** state.retry++);
    setTimeout(() => { connect(); selectView(state.view); }, delay);
  };
  socket.onmessage = (event) => onFrame(JSON.parse(event.data));
}

let typingHide = null;
function onFrame(frame) {
  if (frame.type === "message") {
    const m = frame.message;
    const c = state.conversations.get(m.conversation_id);
    if (c && m.direction !== "note") {
      c.last_message_preview = m.text.slice(0, 160);
      c.last_message_at = m.created_at;
      if (m.direction === "in" && state.current?.id !== c.id) c.unread_count = (c.unread_count || 0) + 1;
      renderList();
    }
    addMessage(m);
  }
  else if (frame.type === "conversation") {
    const c = frame.conversation;
    state.conversations.set(c.id, c);
    if (state.current?.id === c.id) {
      const statusChanged = state.current.status !== c.status || state.current.assignee_id !== c.assignee_id;
      state.current = c;
      if (statusChanged) renderConversation();
    }
    renderList();
    api("GET", `/api/conversations?view=${state.view}&limit=1`).then((r) => renderCounts(r.counts));
  } else if (frame.type === "delivery") {
    const m = state.messages.find((x) => x.id === frame.message_id);
    if (m) {
      m.delivery_status = frame.status;
      document.querySelector(`[data-message="${m.id}"]`)?.replaceWith(renderMessage(m));
    }
  } else if (frame.type === "typing" && state.current?.id === frame.conversation_id) {
    const node = $("#typing");
    if (node) node.textContent = frame.active ? "Customer is typing…" : "";
    clearTimeout(typingHide);
    typingHide = setTimeout(() => { const n = $("#typing"); if (n) n.textContent = ""; }, 6000);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", async () => { await api("POST", "/api/logout", {}); location.reload(); });
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => selectView(tab.dataset.view));
  boot();
});
