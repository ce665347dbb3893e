// A small, safe Markdown-to-DOM renderer written for Kefu: headings, paragraphs, lists, block quotes,
// fenced and inline code, emphasis, rules and links. It builds nodes and text nodes only (never
// innerHTML), and a link keeps its href only when it is http(s), mailto, or a path on this site.

const SAFE_URL = /^(https?:\/\/|mailto:|\/(?![\/\\])|#|\.{1,2}\/)/i;

export function safeUrl(url) {
  const trimmed = String(url).trim();
  return SAFE_URL.test(trimmed) ? trimmed : null;
}

function node(tag, ...children) {
  const n = document.createElement(tag);
  n.append(...children);
  return n;
}

// Inline: `code`, **strong**, *em* / _em_, [text](url), ![alt](url) shown as a link, hard breaks kept out.
const INLINE = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\*\*(.+?)\*\*|__(.+?)__|\*(?!\s)(.+?)\*|(?<![\w])_(?!\s)(.+?)_(?![\w])|!?\[([^\]]*)\]\(\s*((?:[^()\s]|\([^()\s]*\))*)(?:\s+"[^"]*")?\s*\)|<(https?:\/\/[^>\s]+)>/;

export function inline(text) {
  const out = [];
  let rest = text;
  while (rest) {
    const m = INLINE.exec(rest);
    if (!m) { out.push(document.createTextNode(rest)); break; }
    if (m.index) out.push(document.createTextNode(rest.slice(0, m.index)));
    if (m[1]) out.push(node("code", m[2].trim() || m[2]));
    else if (m[3] !== undefined || m[4] !== undefined) out.push(node("strong", ...inline(m[3] ?? m[4])));
    else if (m[5] !== undefined || m[6] !== undefined) out.push(node("em", ...inline(m[5] ?? m[6])));
    else if (m[8] !== undefined) out.push(link(m[7] || m[8], m[8]));
    else if (m[9]) out.push(link(m[9], m[9]));
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

function link(text, url) {
  const href = safeUrl(url);
  if (!href) return node("span", ...inline(text));
  const a = node("a", ...inline(text));
  a.href = href;
  if (/^https?:/i.test(href)) { a.rel = "noopener noreferrer nofollow"; a.target = "_blank"; }
  return a;
}

const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;

// Markdown text -> a DocumentFragment.
export function render(markdown) {
  const lines = String(markdown ?? "").replace(/\r\n?/g, "\n").split("\n");
  const frag = document.createDocumentFragment();
  let i = 0;
  const paragraph = [];
  const flush = () => {
    if (paragraph.length) frag.append(node("p", ...inline(paragraph.join(" "))));
    paragraph.length = 0;
  };
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) { flush(); i++; continue; }
    if ((m = /^\s*(```|~~~)\s*([\w+-]*)\s*$/.exec(line))) {
      flush();
      const code = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(m[1])) code.push(lines[i++]);
      i++;
      const c = node("code", code.join("\n"));
      if (m[2]) c.className = `language-${m[2]}`;
      frag.append(node("pre", c));
      continue;
    }
    if ((m = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
      flush();
      frag.append(node(`h${m[1].length}`, ...inline(m[2])));
      i++;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) { flush(); frag.append(node("hr")); i++; continue; }
    if (/^\s{0,3}>/.test(line)) {
      flush();
      const quoted = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s{0,3}>\s?/, ""));
      frag.append(node("blockquote", render(quoted.join("\n"))));
      continue;
    }
    if ((m = LIST_ITEM.exec(line))) {
      flush();
      const ordered = /\d/.test(m[2]);
      const list = node(ordered ? "ol" : "ul");
      if (ordered && parseInt(m[2], 10) !== 1) list.start = parseInt(m[2], 10);
      while (i < lines.length && (m = LIST_ITEM.exec(lines[i])) && /\d/.test(m[2]) === ordered) {
        const body = [m[3]];
        i++;
        while (i < lines.length && lines[i].trim() && !LIST_ITEM.exec(lines[i]) && /^\s+/.test(lines[i])) body.push(lines[i++].trim());
        list.append(node("li", ...inline(body.join(" "))));
      }
      frag.append(list);
      continue;
    }
    paragraph.push(line.trim());
    i++;
  }
  flush();
  return frag;
}
