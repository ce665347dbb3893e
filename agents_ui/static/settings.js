// Supervisor settings: each queue's business hours, auto-accept, first-response target and closed notice;
// each agent's queues, skills and capacity; and the business-hours calendars themselves (weekly hours,
// holidays, dated special hours). Everything goes through the routing API (/api/queues, /api/routing/agents,
// /api/agents/{id}/routing, /api/calendars), which checks the role and the values.
import { api, currentAgent } from "./api.js";
import { $, el } from "./dom.js";
import { t, setLang, currentLang, translate } from "./i18n.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
let calendars = [];
let editing = null; // the calendar id in the form, or null for a new one

function showError(err) {
  $("#settings-error").textContent = err ? err.message || String(err) : "";
}

async function guarded(work) {
  try {
    showError(null);
    return await work();
  } catch (err) {
    showError(err);
    return null;
  }
}

// ------------------------------------------------------------------ text <-> the API's lists

const ranges = (text) => text.split(/[\s,，、;；]+/).map((r) => r.trim()).filter(Boolean);
const lines = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean);

// "2026-02-14 09:00-18:00" -> ["2026-02-14", ["09:00-18:00"]]; "2026-02-24 closed" (or 休息) -> closed.
function specialFromText(text) {
  const out = {};
  for (const line of lines(text)) {
    const [day, ...rest] = line.split(/\s+/);
    out[day] = ranges(rest.join(" ")).filter((r) => !/^(closed|休息|关闭)$/i.test(r));
  }
  return out;
}

function specialToText(special) {
  return Object.entries(special || {}).sort(([a], [b]) => a.localeCompare(b))
    .map(([day, list]) => `${day} ${list.length ? list.join(", ") : "closed"}`).join("\n");
}

// ------------------------------------------------------------------ queues

async function loadQueues() {
  const { queues } = await api("GET", "/api/queues");
  const options = (selected) => [el("option", { value: "" }, t("s_always_open")),
    ...calendars.map((c) => el("option", { value: c.id, selected: c.id === selected }, c.name || c.id))];
  $("#queue-settings").replaceChildren(
    el("thead", {}, el("tr", {}, ["s_queue", "s_hours", "s_auto_accept", "s_first_response", "s_closed_message", ""]
      .map((k) => el("th", {}, k ? t(k) : "")))),
    el("tbody", {}, queues.map((q) => {
      const calendar = el("select", { class: "q-calendar", "aria-label": t("s_hours") }, options(q.calendar_id));
      const auto = el("input", { type: "checkbox", class: "q-auto", checked: q.auto_accept });
      const minutes = el("input", { type: "number", min: "1", class: "q-sla", "aria-label": t("s_first_response"),
        value: q.sla_first_response_seconds ? String(Math.round(q.sla_first_response_seconds / 60)) : "" });
      const notice = el("input", { type: "text", class: "q-closed", maxlength: "2000", value: q.out_of_hours_message ?? "" });
      const save = async () => {
        const body = {
          calendar_id: calendar.value || null,
          auto_accept: auto.checked,
          sla_first_response_seconds: minutes.value ? Number(minutes.value) * 60 : null,
          out_of_hours_message: notice.value.trim() || null,
        };
        if (await guarded(() => api("PATCH", `/api/queues/${q.id}`, body))) await guarded(loadQueues);
      };
      return el("tr", { "data-queue": q.id },
        el("td", {}, q.name), el("td", {}, calendar), el("td", {}, auto), el("td", {}, minutes, " min"),
        el("td", {}, notice), el("td", {}, el("button", { class: "q-save", onclick: save }, t("save"))));
    })));
}

async function addQueue(event) {
  event.preventDefault();
  const name = event.target.elements.queue_name.value.trim();
  if (!name) return;
  if (await guarded(() => api("POST", "/api/queues", { name }))) {
    event.target.reset();
    await guarded(loadQueues);
    await guarded(loadAgents);
  }
}

// ------------------------------------------------------------------ agents

async function loadAgents() {
  const [{ agents }, { queues }] = await Promise.all([api("GET", "/api/routing/agents"), api("GET", "/api/queues")]);
  const number = (value, cls, label) => el("input", { type: "number", min: "0", max: "200", class: cls, "aria-label": label,
    value: value === undefined || value === null ? "" : String(value) });
  $("#agent-settings").replaceChildren(
    el("thead", {}, el("tr", {}, ["s_agent", "s_queues", "s_skills", "s_chats_at_once", "s_emails_at_once", ""]
      .map((k) => el("th", {}, k ? t(k) : "")))),
    el("tbody", {}, agents.filter((a) => a.active).map((a) => {
      const boxes = queues.map((q) => el("label", { class: "a-queue" },
        el("input", { type: "checkbox", value: String(q.id), checked: a.queue_ids.includes(q.id) }), ` ${q.name}`));
      const skills = el("input", { type: "text", class: "a-skills", value: (a.skills || []).join(", ") });
      const chats = number(a.capacity?.chat, "a-chat", t("s_chats_at_once"));
      const emails = number(a.capacity?.email, "a-email", t("s_emails_at_once"));
      const save = async () => {
        const capacity = {};
        if (chats.value !== "") capacity.chat = Number(chats.value);
        if (emails.value !== "") capacity.email = Number(emails.value);
        const body = {
          queue_ids: boxes.map((b) => b.firstChild).filter((c) => c.checked).map((c) => Number(c.value)),
          skills: skills.value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean),
          capacity,
        };
        if (await guarded(() => api("PATCH", `/api/agents/${a.id}/routing`, body))) await guarded(loadAgents);
      };
      return el("tr", { "data-agent": a.id },
        el("td", {}, a.name, el("div", { class: "muted" }, `${a.role} · ${t(a.presence)}`)),
        el("td", { class: "a-queues" }, boxes), el("td", {}, skills), el("td", {}, chats), el("td", {}, emails),
        el("td", {}, el("button", { class: "a-save", onclick: save }, t("save"))));
    })));
}

// ------------------------------------------------------------------ calendars

function weeklyInputs() {
  $("#weekly").replaceChildren($("#weekly legend"), ...DAYS.map((day) =>
    el("label", {}, el("span", {}, t(`s_${day}`)), el("input", { name: `day-${day}`, "data-day": day }))));
}

function fill(calendar) {
  const form = $("#calendar-form");
  editing = calendar ? calendar.id : null;
  form.elements.cal_id.value = calendar?.id ?? "";
  form.elements.cal_id.disabled = Boolean(calendar);
  form.elements.cal_name.value = calendar?.name ?? "";
  form.elements.timezone.value = calendar?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
  for (const day of DAYS) form.elements[`day-${day}`].value = (calendar?.hours?.[day] ?? []).join(", ");
  form.elements.holidays.value = (calendar?.holidays ?? []).join("\n");
  form.elements.special.value = specialToText(calendar?.special_hours);
  $("#calendar-pick").value = editing ?? "";
  $("#calendar-saved").textContent = "";
}

async function loadCalendars(pick) {
  ({ calendars } = await api("GET", "/api/calendars"));
  $("#calendar-pick").replaceChildren(el("option", { value: "" }, t("s_pick_calendar")),
    ...calendars.map((c) => el("option", { value: c.id }, c.name || c.id)));
  fill(calendars.find((c) => c.id === pick) ?? calendars[0] ?? null);
}

async function saveCalendar(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    name: form.elements.cal_name.value.trim() || form.elements.cal_id.value.trim(),
    timezone: form.elements.timezone.value.trim(),
    hours: Object.fromEntries(DAYS.map((day) => [day, ranges(form.elements[`day-${day}`].value)]).filter(([, r]) => r.length)),
    holidays: lines(form.elements.holidays.value),
    special_hours: specialFromText(form.elements.special.value),
  };
  const id = editing ?? form.elements.cal_id.value.trim();
  const saved = await guarded(() => editing
    ? api("PATCH", `/api/calendars/${encodeURIComponent(id)}`, body)
    : api("POST", "/api/calendars", { id, ...body }));
  if (!saved) return;
  await guarded(() => loadCalendars(id));
  await guarded(loadQueues);
  $("#calendar-saved").textContent = t("s_saved");
}

// ------------------------------------------------------------------ page

document.addEventListener("DOMContentLoaded", async () => {
  setLang(currentLang());
  $("#lang").value = currentLang();
  const me = await currentAgent().catch(() => null);
  if (!me) {
    location.href = "/console";
    return;
  }
  $("#lang").addEventListener("change", async (e) => {
    setLang(e.target.value);
    weeklyInputs();
    await guarded(() => loadCalendars(editing));
    await guarded(loadQueues);
    await guarded(loadAgents);
  });
  translate(document);
  if (!["supervisor", "admin"].includes(me.role)) {
    $("#settings-forbidden").hidden = false;
    return;
  }
  $("#settings").hidden = false;
  weeklyInputs();
  $("#calendar-form").addEventListener("submit", saveCalendar);
  $("#new-calendar").addEventListener("click", () => fill(null));
  $("#calendar-pick").addEventListener("change", (e) => fill(calendars.find((c) => c.id === e.target.value) ?? null));
  $("#new-queue").addEventListener("submit", addQueue);
  await guarded(() => loadCalendars(null));
  await guarded(loadQueues);
  await guarded(loadAgents);
  document.body.dataset.ready = "1";
});
