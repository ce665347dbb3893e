// Tiny DOM helpers shared by the console and the wallboard.
export const $ = (sel, root = document) => root.querySelector(sel);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

export function time(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function percent(x) {
  return x === null || x === undefined ? "—" : `${Math.round(x * 1000) / 10}%`;
}

// CSV of a table's visible cells, downloaded with the given file name.
export function downloadCsv(table, name) {
  const quote = (s) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const rows = [...table.querySelectorAll("tr")].map((tr) => [...tr.children].map((td) => quote(td.textContent.trim())).join(","));
  const link = el("a", { href: URL.createObjectURL(new Blob([rows.join("\n") + "\n"], { type: "text/csv" })), download: name });
  document.body.append(link);
  link.click();
  link.remove();
}
