// Small SVG charts drawn by hand: stacked bars for volume, a line for service level.
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#1f6feb", "#1a7f37", "#9a6700", "#cf222e", "#6b45c4", "#0b6a91", "#7d8590"];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function frame(width, height) {
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", class: "chart" });
}

// series: {name: [n per bucket]}; labels: one per bucket.
export function stackedBars(series, labels, { width = 560, height = 180 } = {}) {
  const root = frame(width, height);
  const names = Object.keys(series);
  const totals = labels.map((_, i) => names.reduce((s, n) => s + series[n][i], 0));
  const max = Math.max(1, ...totals);
  const pad = 24;
  const bw = (width - pad) / Math.max(1, labels.length);
  labels.forEach((label, i) => {
    let y = height - pad;
    names.forEach((name, k) => {
      const h = ((height - 2 * pad) * series[name][i]) / max;
      if (h > 0) root.append(svg("rect", { x: pad + i * bw + 1, y: y - h, width: Math.max(1, bw - 2), height: h, fill: COLORS[k % COLORS.length] },
        svg("title", {}, `${name} ${label}: ${series[name][i]}`)));
      y -= h;
    });
  });
  root.append(svg("text", { x: 2, y: 12, class: "axis" }, String(max)), svg("text", { x: 2, y: height - pad, class: "axis" }, "0"));
  names.forEach((name, k) => root.append(svg("text", { x: pad + k * 90, y: height - 6, fill: COLORS[k % COLORS.length], class: "legend" }, `■ ${name}`)));
  return root;
}

// values: fractions 0..1 or null (no answered conversations in that bucket).
export function line(values, { width = 560, height = 160, target = null } = {}) {
  const root = frame(width, height);
  const pad = 24;
  const step = (width - pad) / Math.max(1, values.length - 1);
  const y = (v) => height - pad - v * (height - 2 * pad);
  if (target !== null) root.append(svg("line", { x1: pad, x2: width, y1: y(target), y2: y(target), class: "target" }));
  let d = "";
  values.forEach((v, i) => { if (v !== null) d += `${d ? "L" : "M"}${pad + i * step},${y(v)} `; });
  root.append(svg("path", { d, fill: "none", stroke: COLORS[0], "stroke-width": 2 }));
  values.forEach((v, i) => { if (v !== null) root.append(svg("circle", { cx: pad + i * step, cy: y(v), r: 2.5, fill: COLORS[0] }, svg("title", {}, `${Math.round(v * 100)}%`))); });
  root.append(svg("text", { x: 2, y: y(1) + 4, class: "axis" }, "100%"), svg("text", { x: 2, y: y(0), class: "axis" }, "0%"));
  return root;
}
