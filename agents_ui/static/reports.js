// Supervisors' complaint and churn reports: fetches the reports API and draws its charts as plain SVG.
import { api, currentAgent, signIn } from "/static/console/api.js";

const SVG = "http://www.w3.org/2000/svg";
const CATEGORY_COLOURS = {
  delivery: "#1f6feb",
  billing: "#bf8700",
  product_quality: "#8250df",
  service_attitude: "#cf222e",
  refund: "#1a7f37",
  technical: "#0a7ea4",
  other: "#6b7480",
};
const CATEGORY_NAMES = {
  delivery: "Delivery 物流配送",
  billing: "Billing 账单计费",
  product_quality: "Product quality 产品质量",
  service_attitude: "Service attitude 服务态度",
  refund: "Refunds 退款退货",
  technical: "Technical 技术故障",
  other: "Other 其他",
};
const DAY_MS = 86400000;

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function colour(category) {
  return CATEGORY_COLOURS[category] || "#57606a";
}

function label(category) {
  return CATEGORY_NAMES[category] || category;
}

// A tidy axis maximum (1, 2, 5 x 10^n) so gridlines fall on round numbers.
function niceMax(value) {
  if (value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

// Gridline step for counts: a whole 1, 2 or 5 x 10^n giving at most five lines.
function tickStep(max) {
  let step = 1;
  while (max / step > 5) step = [1, 2, 5].map((m) => m * 10 ** Math.floor(Math.log10(step))).find((s) => s > step) || step * 2;
  return step;
}

function fmt(value, digits = 1) {
  if (value === null || value === undefined) return "–";
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

function empty(container, message = "No data in this period") {
  container.replaceChildren(el("p", { class: "muted nodata" }, message));
}

// Vertical stacked bars: one bar per x, stacked by series; `rows` are {x, parts: {series: n}}.
function stackedBars(container, rows, series) {
  if (!rows.length) return empty(container);
  const width = 720, height = 260, left = 40, bottom = 40, top = 10;
  const totals = rows.map((r) => series.reduce((s, k) => s + (r.parts[k] || 0), 0));
  const step = tickStep(Math.max(...totals));
  const max = Math.max(step, Math.ceil(Math.max(...totals) / step) * step);
  const plotH = height - bottom - top;
  const band = (width - left - 10) / rows.length;
  const barW = Math.max(4, Math.min(48, band * 0.7));
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "svgchart" });
  root.append(svg("title", {}, "Complaints per week by category"));
  for (let tick = 0; tick <= max; tick += step) {
    const y = top + plotH - (plotH * tick) / max;
    root.append(svg("line", { x1: left, x2: width - 10, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, String(tick)));
  }
  rows.forEach((row, i) => {
    const x = left + i * band + (band - barW) / 2;
    let y = top + plotH;
    for (const k of series) {
      const n = row.parts[k] || 0;
      if (!n) continue;
      const h = (plotH * n) / max;
      y -= h;
      const rect = svg("rect", { x, y, width: barW, height: h, fill: colour(k), class: "bar", "data-series": k });
      rect.append(svg("title", {}, `${row.x} · ${label(k)}: ${n}`));
      root.append(rect);
    }
    root.append(svg("text", { x: x + barW / 2, y: top + plotH - (plotH * totals[i]) / max - 4, class: "value", "text-anchor": "middle" }, totals[i]));
    if (rows.length <= 16 || i % Math.ceil(rows.length / 16) === 0) {
      root.append(svg("text", { x: x + barW / 2, y: height - bottom + 16, class: "axis", "text-anchor": "middle" }, row.x.slice(5)));
    }
  });
  container.replaceChildren(root);
}

// Horizontal bars: `items` are {label, value, colour?, extra?}; optional `marker` draws a reference line.
function horizontalBars(container, items, { marker = null, unit = "", secondary = null } = {}) {
  if (!items.length) return empty(container);
  const rowH = 26, left = 190, width = 560, right = 60;
  const height = items.length * rowH + 24;
  const values = items.flatMap((it) => [it.value, secondary ? it[secondary] || 0 : 0]);
  const max = niceMax(Math.max(...values, marker || 0));
  const scale = (v) => ((width - left - right) * v) / max;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "svgchart" });
  items.forEach((it, i) => {
    const y = 6 + i * rowH;
    root.append(svg("text", { x: left - 8, y: y + 15, class: "axis", "text-anchor": "end" }, it.label));
    if (secondary && it[secondary] !== null && it[secondary] !== undefined) {
      root.append(svg("rect", { x: left, y: y + 2, width: scale(it[secondary]), height: rowH - 8, fill: it.colour || "#1f6feb", opacity: 0.25, class: "bar secondary" }));
    }
    const bar = svg("rect", { x: left, y: y + 6, width: Math.max(1, scale(it.value || 0)), height: rowH - 16, fill: it.colour || "#1f6feb", class: "bar" });
    bar.append(svg("title", {}, `${it.label}: ${fmt(it.value, 2)}${unit}`));
    root.append(bar);
    const shown = secondary ? `${fmt(it.value)} / ${fmt(it[secondary])}${unit}` : `${fmt(it.value, 2)}${unit}`;
    root.append(svg("text", { x: left + scale(Math.max(it.value || 0, secondary ? it[secondary] || 0 : 0)) + 6, y: y + 15, class: "value" }, shown));
  });
  if (marker !== null) {
    const x = left + scale(marker);
    root.append(svg("line", { x1: x, x2: x, y1: 0, y2: height - 16, class: "marker" }));
    root.append(svg("text", { x, y: height - 4, class: "axis", "text-anchor": "middle" }, `${marker}×`));
  }
  container.replaceChildren(root);
}

function table(node, header, rows) {
  node.replaceChildren(
    el("thead", {}, el("tr", {}, header.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.length ? rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c ?? "–"))))
      : [el("tr", {}, el("td", { colspan: header.length, class: "muted" }, "None"))]),
  );
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function range() {
  const form = $("#range");
  return { since: form.since.value, until: isoDay(new Date(Date.parse(form.until.value) + DAY_MS)) };
}

function setCsvLinks() {
  const { since, until } = range();
  for (const a of document.querySelectorAll("[data-csv]")) {
    a.href = `/api/reports/complaints.csv?section=${a.dataset.csv}&since=${since}&until=${until}`;
  }
  for (const a of document.querySelectorAll("[data-churn-csv]")) {
    a.href = `/api/reports/churn.csv?section=${a.dataset.churnCsv}`;
  }
}

function drawComplaints(report) {
  $("#total").textContent = `${report.total} complaints`;
  const present = Object.keys(report.by_category);
  const series = Object.keys(CATEGORY_COLOURS).filter((c) => present.includes(c)).concat(present.filter((c) => !(c in CATEGORY_COLOURS)));
  stackedBars($("#chart-weeks"), report.by_week.map((w) => ({ x: w.week, parts: w.by_category })), series);
  $("#legend").replaceChildren(...series.map((c) => el("span", { class: "key" }, el("i", { style: `background:${colour(c)}` }), label(c))));
  horizontalBars($("#chart-categories"), Object.entries(report.by_category).map(([c, n]) => ({ label: label(c), value: n, colour: colour(c) })));
  horizontalBars($("#chart-channels"), Object.entries(report.by_channel).map(([c, n]) => ({ label: c, value: n, colour: "#0a7ea4" })));
  const ttr = report.time_to_resolve;
  const cats = Object.entries(ttr.by_category).filter(([, v]) => v.resolved);
  horizontalBars(
    $("#chart-resolution"),
    cats.map(([c, v]) => ({ label: label(c), value: v.median_hours, p90: v.p90_hours, colour: colour(c) })),
    { unit: " h", secondary: "p90" },
  );
  table(
    $("#resolution"),
    ["Category", "Resolved", "Open", "Median h", "p90 h"],
    [...Object.entries(ttr.by_category), ["(all)", ttr.overall]].map(([c, v]) => [c === "(all)" ? c : label(c), v.resolved, v.open, fmt(v.median_hours), fmt(v.p90_hours)]),
  );
  const repeat = report.repeat_complainers;
  $("#repeat-count").textContent = `${repeat.customers} customers`;
  table(
    $("#repeat"),
    ["Customer", "Tier", "Cases", "Last", "Categories"],
    repeat.top.map((r) => [r.customer_name || `#${r.customer_id}`, r.tier, r.cases, r.last_at.slice(0, 10),
      Object.entries(r.categories).map(([c, n]) => `${label(c)} ×${n}`).join(", ")]),
  );
}

function drawChurn(churn) {
  const left = churn.left_after_complaints;
  $("#churn-summary").textContent =
    `${churn.leavers} of ${churn.customers} customers left (former customers, or silent for ${churn.inactive_days} days); ` +
    `${left.customers} of them had complained in the ${churn.window_days} days before. Lift above 1: the category comes before churn more often than to stayers.`;
  horizontalBars(
    $("#chart-lift"),
    churn.categories_before_churn.map((r) => ({ label: label(r.category), value: r.lift, colour: colour(r.category) })),
    { marker: 1 },
  );
  const s = churn.handling.stayers, l = churn.handling.leavers;
  const pct = (v) => (v === null || v === undefined ? "–" : `${Math.round(v * 100)}%`);
  table($("#handling"), ["", "Stayers", "Leavers"], [
    ["Customers", s.customers, l.customers],
    ["Complaints per customer", fmt(s.complaints_per_customer, 2), fmt(l.complaints_per_customer, 2)],
    ["Resolved", pct(s.resolved_share), pct(l.resolved_share)],
    ["Median hours to resolve", fmt(s.median_resolution_hours), fmt(l.median_resolution_hours)],
    ["p90 hours to resolve", fmt(s.p90_resolution_hours), fmt(l.p90_resolution_hours)],
    ["Mean CSAT", fmt(s.mean_csat, 2), fmt(l.mean_csat, 2)],
    ["CSAT ≤ 2", pct(s.low_csat_share), pct(l.low_csat_share)],
  ]);
  table($("#leavers"), ["Customer", "Left", "Why", "Complaints", "Categories", "Unresolved"],
    left.recent.map((r) => [`#${r.customer_id}`, r.churned_at.slice(0, 10), r.reason, r.complaints, r.categories.map(label).join(", "), r.unresolved_at_churn]));
}

function riskRows(items) {
  return items.map((i) => [
    i.customer_name || `#${i.customer_id}`,
    i.tier,
    i.open_cases,
    el("span", { class: `level ${i.risk.level}` }, `${Math.round(i.risk.score * 100)}% ${i.risk.level}`),
    el("ul", { class: "reasons" }, i.risk.reasons.map((r) => el("li", { title: r.text_zh }, `${r.text} (${r.weight > 0 ? "+" : ""}${r.weight})`))),
  ]);
}

async function load() {
  $("#error").textContent = "";
  setCsvLinks();
  const { since, until } = range();
  try {
    const [report, churn, keys, risk] = await Promise.all([
      api("GET", `/api/reports/complaints?since=${since}&until=${until}`),
      api("GET", "/api/reports/churn"),
      api("GET", "/api/churn/risk?key_accounts=1"),
      api("GET", "/api/churn/risk?level=medium&limit=25"),
    ]);
    drawComplaints(report);
    drawChurn(churn);
    const header = ["Customer", "Tier", "Open cases", "Risk", "Reasons"];
    table($("#key-accounts"), header, riskRows(keys.items));
    table($("#risk"), header, riskRows(risk.items));
    document.body.dataset.loaded = "yes";
  } catch (err) {
    $("#error").textContent = err.message;
  }
}

function start(me) {
  $("#login").hidden = true;
  if (!["supervisor", "admin"].includes(me.role)) {
    $("#denied").hidden = false;
    return;
  }
  $("#app").hidden = false;
  $("#me").textContent = `${me.name} · ${me.role}`;
  const today = new Date();
  const form = $("#range");
  form.until.value = isoDay(today);
  form.since.value = isoDay(new Date(today.getTime() - 84 * DAY_MS));
  load();
}

async function boot() {
  $("#range").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    $("#login-error").textContent = "";
    try {
      start(await signIn(form));
    } catch (err) {
      $("#login-error").textContent = err.message;
    }
  });
  try {
    const agent = await currentAgent();
    if (agent === null) $("#login").hidden = false;
    else start(agent);
  } catch (err) {
    $("#error").textContent = err.message;
  }
}

boot();
