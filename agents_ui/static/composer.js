// Composer helpers: canned responses with placeholders, knowledge-base suggestions, @mention handles.
import { api } from "./api.js";

let canned = null;

export async function cannedResponses(force = false) {
  if (!canned || force) canned = (await api("GET", "/api/canned-responses")).canned_responses;
  return canned;
}

// Fill {{customer.name}}, {{agent.name}}, {{conversation.id}} from what the console knows.
export function fillPlaceholders(text, ctx) {
  return text.replace(/\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}/g, (all, obj, field) => {
    const value = ctx[obj]?.[field];
    return value === undefined || value === null ? all : String(value);
  });
}

// "/hi" at the end of the text is replaced by the canned response with that shortcut.
export async function expandShortcut(text, ctx) {
  const match = text.match(/(^|\s)\/([a-z0-9_-]+)$/);
  if (!match) return null;
  const found = (await cannedResponses()).find((c) => c.shortcut === match[2]);
  if (!found) return null;
  return text.slice(0, text.length - match[2].length - 1) + fillPlaceholders(found.text, ctx);
}

export async function kbSuggestions(text) {
  const words = text.trim().slice(-200);
  if (words.length < 2) return [];
  try {
    return (await api("GET", `/api/kb/search?q=${encodeURIComponent(words)}&limit=3`)).hits;
  } catch {
    return [];
  }
}
