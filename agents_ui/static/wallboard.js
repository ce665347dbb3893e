// Supervisor wallboard: per-queue live figures, agents, charts, live conversations to monitor, CSV export.
import { api, currentAgent } from "./api.js";
import { $, el, time, duration, percent, downloadCsv } from "./dom.js";
import { t, setLang, currentLang, translate } from "./i18n.js";
import { stackedBars, line } from "./charts.js";

const REFRESH_MS = 2000;
let agents = [];
let monitored = null;
let refreshing = false;
let socket = null;

function table(node, head, rows) {
  node.replaceChildren(
    el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((r) => el("tr", r.attrs || {}, r.cells.map((c) => el("td", {}, c))))));
}

async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const board = await api("GET", "/api/console/wallboard");
    agents = board.agents;
    const q = board.queues;
    const sum = (k) => q.reduce((s, x) => s + (x[k] || 0), 0);
    const answered = sum("answered");
    const within = sum("answered_within_threshold");
    const longest = Math.max(0, ...q.map((x) => x.longest_wait_seconds || 0));
    const tile = (key, value, id, alert = false) => el("div", { class: `tile ${alert ? "alert" : ""}`, "data-tile": id },
      el("div", { class: "value" }, value), el("div", { class: "name" }, t(key)));
    $("#tiles").replaceChildren(
      tile("waiting_now", sum("waiting_now"), "waiting"),
      tile("longest", duration(longest), "longest", longest > 60),
      tile("service_level", answered ? percent(within / answered) : "—", "service_level"),
      tile("handled", sum("handled"), "handled"),
      tile("breaches", sum("sla_breaches"), "breaches", sum("sla_breaches") > 0),
      tile("agents", `${agents.filter((a) => a.presence === "available").length}/${agents.length}`, "agents"));
    table($("#queue-table"),
      [t("queue"), t("waiting_now"), t("longest"), t("service_level"), t("asa"), t("aht"), t("abandoned"), t("csat"), t("breaches"), t("agents")],
      q.map((x) => ({ attrs: { "data-queue": x.queue_id }, cells: [x.name, x.waiting_now ?? 0, duration(x.longest_wait_seconds), percent(x.service_level),
        duration(x.average_speed_of_answer_seconds), duration(x.average_handle_time_seconds), percent(x.abandonment_rate),
        x.csat === null ? "—" : x.csat.toFixed(2), x.sla_breaches, `${x.agents.available}/${x.agents.away}/${x.agents.offline}`] })));
    $("#updated").textContent = time(board.now);
    $("#wb-error").textContent = "";
  } catch (err) {
    $("#wb-error").textContent = err.message;
  } finally {
    refreshing = false;
  }
}

async function refreshAgents() {
  const { agents: rows } = await api("GET", "/api/metrics/agents");
  const load = new Map(agents.map((a) => [a.id, a]));
  table($("#agent-table"), [t("agents"), t("presence"), t("load"), t("handled"), t("handle_time"), t("occupancy"), t("csat")],
    rows.map((a) => ({ attrs: { "data-agent": a.agent_id }, cells: [a.name, t(a.presence), `${load.get(a.agent_id)?.load ?? 0}/${load.get(a.agent_id)?.capacity ?? "—"}`,
      a.handled, duration(a.average_handle_time_seconds), percent(a.occupancy),
      el("span", { "data-csat": a.agent_id }, a.csat === null || a.csat === undefined ? "—" : `${a.csat.toFixed(2)} (${a.csat_responses})`)] })));
}

async function refreshLive() {
  const { conversations } = await api("GET", "/api/conversations?view=assigned&limit=50");
  const names = new Map(agents.map((a) => [a.id, a.name]));
  table($("#live-table"), ["#", "Customer", "Channel", t("agents"), ""],
    conversations.map((c) => ({ attrs: { "data-live": c.id }, cells: [c.id, c.customer_name || "", c.channel, names.get(c.assignee_id) || "",
      el("button", { class: "link", onclick: () => monitor(c.id) }, t("monitor"))] })));
}

async function charts() {
  const bucket = $("#bucket").value;
  const data = await api("GET", `/api/console/series?bucket=${bucket}`);
  const labels = data.labels.map((l) => (bucket === "hour" ? l.slice(11, 16) : l.slice(5, 10)));
  $("#volume-chart").replaceChildren(stackedBars(data[$("#split").value], labels));
  $("#sl-chart").replaceChildren(line(data.service_level, { target: 0.8 }));
}

function monitorMessage(m) {
  return el("div", { class: `msg ${m.direction === "in" ? "in" : m.direction === "note" ? "note" : "out"}`, "data-message": m.id }, m.text,
    (m.attachments || []).map((a, i) => el("a", { class: "attachment", href: `/api/messages/${m.id}/attachments/${i}`, target: "_blank" }, a.filename || "file")),
    el("div", { class: "meta" }, `${m.author} · ${time(m.created_at)}`));
}

// Live: message frames for the monitored conversation are appended as they come (supervisors get
// every conversation's messages on the socket); nothing is fetched again, so a half-written note stays.
function showMessage(m) {
  const box = $("#monitor-messages");
  if (!box || m.conversation_id !== monitored || box.querySelector(`[data-message="${m.id}"]`)) return;
  box.append(monitorMessage(m));
  box.scrollTop = box.scrollHeight;
}

async function monitor(id) {
  if (socket?.readyState === WebSocket.OPEN) {
    if (monitored) socket.send(JSON.stringify({ type: "unwatch", conversation_id: monitored }));
    socket.send(JSON.stringify({ type: "watch", conversation_id: id }));
  }
  monitored = id;
  const res = await api("GET", `/api/conversations/${id}`);
  const reassign = el("select", { id: "reassign" }, el("option", { value: "" }, t("reassign")),
    agents.filter((a) => a.id !== res.conversation.assignee_id).map((a) => el("option", { value: a.id }, `${a.name} (${a.presence})`)));
  reassign.addEventListener("change", async () => {
    if (!reassign.value) return;
    await api("POST", `/api/conversations/${id}/transfer`, { agent_id: Number(reassign.value), force: true }).catch((e) => alert(e.message));
    refreshLive();
  });
  const note = el("textarea", { id: "monitor-note", placeholder: t("join_note") });
  $("#monitor").replaceChildren(
    el("h3", {}, `#${id} · ${res.conversation.customer_name || ""} · ${res.conversation.channel}`),
    el("div", { class: "messages", id: "monitor-messages" }),
    el("form", { onsubmit: async (e) => { e.preventDefault(); if (!note.value.trim()) return;
      const sent = await api("POST", `/api/conversations/${id}/mention-notes`, { text: note.value }); note.value = ""; showMessage(sent.message); } },
      note, el("button", { type: "submit", id: "monitor-send" }, t("note")), reassign));
  res.messages.forEach(showMessage);
}

let chartTimer = null;
function chartsSoon() {
  // Many frames in a burst redraw the charts once.
  clearTimeout(chartTimer);
  chartTimer = setTimeout(charts, 500);
}

function connect() {
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/ws`);
  socket.onopen = () => {
    $("#live").classList.add("on");
    if (monitored) monitor(monitored);  // watch again and catch up on what came while away
  };
  socket.onclose = () => { $("#live").classList.remove("on"); setTimeout(connect, 2000); };
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    // A conversation arriving or being answered changes the board now, not at the next poll.
    if (frame.type === "conversation" || frame.type === "presence") { refresh(); refreshLive(); refreshAgents(); chartsSoon(); }
    if (frame.type === "message") showMessage(frame.message);
  };
}

document.addEventListener("DOMContentLoaded", async () => {
  setLang(currentLang());
  $("#lang").value = currentLang();
  $("#lang").addEventListener("change", (e) => { setLang(e.target.value); refresh(); refreshAgents(); });
  for (const b of document.querySelectorAll("[data-csv]")) b.addEventListener("click", () => downloadCsv($(`#${b.dataset.csv}`), `${b.dataset.csv}.csv`));
  $("#bucket").addEventListener("change", charts);
  $("#split").addEventListener("change", charts);
  if (!(await currentAgent().catch(() => null))) {
    location.href = "/console";
    return;
  }
  translate(document);
  await refresh();
  refreshAgents();
  refreshLive();
  charts();
  connect();
  setInterval(refresh, REFRESH_MS);
  setInterval(refreshAgents, 15000);
  setInterval(charts, 60000);
});
