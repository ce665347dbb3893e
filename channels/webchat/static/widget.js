// Kefu web chat widget: one <script src=".../webchat/widget.js"> tag on any page, no build step.
// Protocol: docs/webchat-protocol.md. Optional settings before the tag:
//   window.KefuSettings = { title, greeting, open, suggest, identity: { user_id, user_hash, email, name } }
// While the visitor types, help-center articles are suggested (suggest: false turns this off).
(function () {
  "use strict";
  if (window.Kefu && window.Kefu.loaded) return;

  var script = document.currentScript;
  var base = new URL(script ? script.src : "/webchat/widget.js", location.href);
  var settings = window.KefuSettings || {};
  var zh = /^zh/i.test(settings.locale || navigator.language || "");
  var t = zh
    ? { title: "在线客服", placeholder: "输入消息…", send: "发送", offline: "连接中…", typing: "客服正在输入…", greeting: "您好！有什么可以帮您？", related: "相关帮助文章", attach: "发送文件", uploadFailed: "文件发送失败，请重试", tooFast: "消息发送太快，稍后会自动重发" }
    : { title: "Chat with us", placeholder: "Type a message…", send: "Send", offline: "Connecting…", typing: "Agent is typing…", greeting: "Hi! How can we help?", related: "Related help articles", attach: "Send a file", uploadFailed: "The file could not be sent; try again", tooFast: "Too many messages at once; we will send yours in a moment" };
  // Place in line and typical wait ("queue" frames from routing); {n} and {m} are filled in.
  var tq = zh
    ? { place: "您在队列中排第 {n} 位", wait: "通常等待约 {m} 分钟", soon: "通常不到一分钟", opens: "我们将于 {t} 恢复服务" }
    : { place: "You are number {n} in line", wait: "Typical wait: about {m} min", soon: "Typical wait: under a minute", opens: "We open again {t}" };
  var storeKey = "kefu:" + base.host;

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(saved)); } catch (e) { /* private mode: chat still works */ }
  }

  var saved = load();
  saved.pending = saved.pending || [];
  var messages = [];
  var uploads = [];  // files on their way (not kept across reloads: the page no longer has the file)
  var seen = {};
  var socket = null;
  var ready = false;
  var retry = 0;

  var host = document.createElement("div");
  host.id = "kefu-widget";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.innerHTML =
    '<style>' +
    ':host{all:initial}' +
    '.k{font:14px/1.4 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;color:#1d232b}' +
    '.launch{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:none;background:#1f6feb;color:#fff;font-size:24px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.2);z-index:2147483000}' +
    '.panel{position:fixed;right:20px;bottom:88px;width:340px;max-width:calc(100vw - 40px);height:480px;max-height:calc(100vh - 120px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.2);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000}' +
    '.panel[hidden]{display:none}' +
    '.head{background:#1f6feb;color:#fff;padding:12px 14px;font-weight:600;display:flex;justify-content:space-between}' +
    '.status{font-weight:400;font-size:12px;opacity:.85}' +
    '.log{flex:1;overflow:auto;padding:12px;display:flex;flex-direction:column;gap:6px;background:#f6f7f9}' +
    '.m{max-width:80%;padding:7px 11px;border-radius:12px;white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #e3e6ea;align-self:flex-start}' +
    '.m.me{align-self:flex-end;background:#1f6feb;color:#fff;border-color:#1f6feb}' +
    '.m.pending{opacity:.6}' +
    '.btns{display:flex;flex-wrap:wrap;gap:4px;margin-top:6px}' +
    '.btns button{border:1px solid #1f6feb;color:#1f6feb;background:#fff;border-radius:12px;padding:3px 9px;cursor:pointer;font:inherit}' +
    '.typing{font-size:12px;color:#6b7480;padding:0 12px;min-height:16px;background:#f6f7f9}' +
    'form{display:flex;border-top:1px solid #e3e6ea}' +
    'textarea{flex:1;border:none;padding:10px;resize:none;font:inherit;height:44px;outline:none}' +
    'form button{border:none;background:none;color:#1f6feb;font-weight:600;padding:0 14px;cursor:pointer;font:inherit}' +
    'form .attach{padding:0 2px 0 10px;color:#6b7480;display:flex;align-items:center}' +
    '.err{color:#cf222e;font-size:12px;padding:2px 12px}' +
    '.sugg{padding:6px 12px;border-top:1px solid #e3e6ea;font-size:13px;background:#fff}' +
    '.sugg[hidden]{display:none}' +
    '.queue{padding:6px 12px;font-size:12px;color:#57606a;background:#fff8c5;border-top:1px solid #e3e6ea}' +
    '.queue[hidden]{display:none}' +
    '.sugg b{display:block;font-weight:600;color:#6b7480;font-size:12px;margin-bottom:2px}' +
    '.sugg a{display:block;color:#1f6feb;text-decoration:none;padding:2px 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}' +
    '.file{display:block;margin-top:4px;color:inherit}' +
    '.file img{display:block;max-width:100%;max-height:180px;border-radius:8px}' +
    '.panel.dropping{outline:2px dashed #1f6feb;outline-offset:-6px}' +
    '</style>' +
    '<div class="k">' +
    '<button class="launch" aria-label="chat" part="launcher"><svg width="26" height="26" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/></svg></button>' +
    '<section class="panel" hidden role="dialog" aria-label="chat">' +
    '<div class="head"><span class="title"></span><span class="status"></span></div>' +
    '<div class="log" aria-live="polite"></div>' +
    '<div class="queue" hidden aria-live="polite"></div>' +
    '<div class="typing"></div><div class="err" role="alert"></div>' +
    '<div class="sugg" hidden aria-live="polite"></div>' +
    '<form><button type="button" class="attach"><svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M16 6v10a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10a1 1 0 0 1-2 0V7"/></svg></button><input type="file" hidden accept="image/png,image/jpeg,image/gif,image/webp,.pdf,.txt,.log,.csv,.zip,.docx,.xlsx,.pptx">' +
    '<textarea name="text" aria-label="message"></textarea><button type="submit"></button></form>' +
    '</section></div>';

  var q = function (s) { return root.querySelector(s); };
  var panel = q(".panel"), log = q(".log"), form = q("form"), input = q("textarea"), statusEl = q(".status");
  q(".title").textContent = settings.title || t.title;
  input.placeholder = t.placeholder;
  q("form button[type=submit]").textContent = t.send;
  var attach = q(".attach"), fileInput = q("input[type=file]");
  attach.title = t.attach;
  attach.setAttribute("aria-label", t.attach);

  function setStatus(online) {
    statusEl.textContent = online ? "" : t.offline;
  }

  function render() {
    log.innerHTML = "";
    if (!messages.length && !saved.pending.length) {
      addBubble({ author: "system", text: settings.greeting || t.greeting });
    }
    messages.forEach(addBubble);
    saved.pending.forEach(function (p) { addBubble({ author: "customer", text: p.text, pending: true, client_id: p.client_id }); });
    uploads.forEach(function (u) { addBubble({ author: "customer", text: "\u2191 " + u.name, pending: true }); });
    log.scrollTop = log.scrollHeight;
  }

  function addBubble(m) {
    var div = document.createElement("div");
    div.className = "m" + (m.author === "customer" ? " me" : "") + (m.pending ? " pending" : "");
    div.textContent = m.text;
    if (m.seq) div.setAttribute("data-seq", m.seq);
    (m.attachments || []).forEach(function (a) {
      // Only files behind Kefu's own signed links are shown (an agent's attachment).
      if (typeof a.url !== "string" || new URL(a.url, base).pathname.indexOf("/files/") !== 0) return;
      var link = document.createElement("a");
      link.className = "file";
      link.href = new URL(a.url, base).href;
      link.target = "_blank";
      link.rel = "noopener";
      if (/^image\/(png|jpeg|gif|webp)$/.test(a.content_type || "")) {
        var img = document.createElement("img");
        img.src = link.href;
        img.alt = a.filename || "";
        img.onload = function () { log.scrollTop = log.scrollHeight; };  // its height is known only now
        link.appendChild(img);
      } else {
        link.textContent = "\u2193 " + (a.filename || "file");
      }
      div.appendChild(link);
    });
    if (m.buttons && m.buttons.length) {
      var row = document.createElement("div");
      row.className = "btns";
      m.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.onclick = function () { sendText(b.payload, b.title); };
        row.appendChild(btn);
      });
      div.appendChild(row);
    }
    log.appendChild(div);
  }

  // Routing's "queue" frame: closed-hours message first, else place in line and typical wait.
  function showQueue(f) {
    var box = q(".queue"), lines = [];
    if (f.status === "queued") {
      if (f.closed) {
        lines.push(f.closed.message);
        if (f.closed.opens_at) lines.push(tq.opens.replace("{t}", new Date(f.closed.opens_at).toLocaleString()));
      } else {
        lines.push(tq.place.replace("{n}", f.position));
        if (f.estimated_wait_seconds != null) {
          lines.push(f.estimated_wait_seconds < 60 ? tq.soon : tq.wait.replace("{m}", Math.round(f.estimated_wait_seconds / 60)));
        }
      }
    }
    box.textContent = lines.join(" · ");
    box.hidden = !lines.length;
  }

  function key(m) { return m.conversation_id + ":" + m.seq; }

  function accept(m) {
    if (!m.seq || seen[key(m)]) return false;
    seen[key(m)] = true;
    messages.push(m);
    messages.sort(function (a, b) { return a.conversation_id - b.conversation_id || a.seq - b.seq; });
    var last = messages[messages.length - 1];
    saved.cursor = { conversation_id: last.conversation_id, seq: last.seq };
    if (m.client_id) {
      saved.pending = saved.pending.filter(function (p) { return p.client_id !== m.client_id; });
    }
    save();
    return true;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  function sendText(text, shown) {
    text = (text || "").trim();
    if (!text) return;
    var item = { client_id: newId(), text: text, shown: shown || text };
    saved.pending.push(item);
    save();
    render();
    flush();
  }

  var resendTimer = null;
  function flush() {
    if (!ready) return;
    saved.pending.forEach(function (p) {
      socket.send(JSON.stringify({ type: "message", client_id: p.client_id, text: p.text }));
    });
  }

  // A file goes over HTTP (docs/webchat-protocol.md, "Sending a file"); its answer is the stored message.
  function sendFile(file, name) {
    name = name || file.name;
    if (!window.fetch || !window.FormData || (!saved.token && !settings.identity)) {
      q(".err").textContent = t.uploadFailed;
      return;
    }
    var form = new FormData(), upload = { name: name };
    var who = settings.identity || { token: saved.token };
    Object.keys(who).forEach(function (k) { if (typeof who[k] === "string") form.append(k, who[k]); });
    form.append("client_id", newId());
    form.append("file", file, name);
    uploads.push(upload);
    q(".err").textContent = "";
    render();
    function done(message, error) {
      uploads = uploads.filter(function (u) { return u !== upload; });
      if (message) accept(message);
      if (error) q(".err").textContent = error;
      render();
    }
    fetch(new URL("/webchat/upload", base).href, { method: "POST", body: form })
      .then(function (r) {
        return r.json().then(function (body) {
          if (r.ok) done(body.message); else done(null, body.message || t.uploadFailed);
        });
      })
      .catch(function () { done(null, t.uploadFailed); });
  }
  attach.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (file) sendFile(file);
  });

  function filesIn(transfer) {
    var files = [], items = (transfer && transfer.items) || [];
    for (var i = 0; i < items.length; i++) {
      var f = items[i].kind === "file" && items[i].getAsFile();
      if (f) files.push(f);
    }
    return files;
  }
  // A pasted screenshot: each file goes as its own message, like one chosen with the paperclip.
  input.addEventListener("paste", function (e) {
    var files = filesIn(e.clipboardData);
    if (!files.length) return;  // plain text pastes as usual
    e.preventDefault();
    var stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    files.forEach(function (f, i) {
      // Browsers call every clipboard image "image.png"; a dated name tells them apart in the history.
      var name = f.name && f.name !== "image.png" ? f.name
        : "screenshot-" + stamp + (i ? "-" + i : "") + "." + ((f.type || "image/png").split("/")[1] || "png");
      sendFile(f, name);
    });
  });
  function dragsFiles(e) {
    return e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], "Files") >= 0;
  }
  panel.addEventListener("dragover", function (e) {
    if (!dragsFiles(e)) return;
    e.preventDefault();
    panel.classList.add("dropping");
  });
  panel.addEventListener("dragleave", function (e) {
    if (!panel.contains(e.relatedTarget)) panel.classList.remove("dropping");
  });
  panel.addEventListener("drop", function (e) {
    panel.classList.remove("dropping");
    var files = filesIn(e.dataTransfer);
    if (!files.length) return;
    e.preventDefault();
    files.forEach(function (f) { sendFile(f); });
  });

  function connect() {
    var url = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/webchat/ws";
    socket = new WebSocket(url);
    socket.onopen = function () {
      retry = 0;
      // History is fetched from the start on each page load so a reload shows the whole thread.
      var hello = { type: "hello", token: saved.token || undefined, cursor: messages.length ? saved.cursor : undefined };
      if (settings.identity) hello.identity = settings.identity;
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === "welcome") {
        ready = true;
        setStatus(true);
        if (f.token) { saved.token = f.token; save(); }
        (f.messages || []).forEach(accept);
        render();
        flush();
      } else if (f.type === "message") {
        // An agent answering means the wait is over, even before routing's next "queue" frame says so.
        if (f.author === "agent") showQueue({ status: "assigned" });
        if (accept(f)) render();
      } else if (f.type === "ack") {
        var p = saved.pending.filter(function (x) { return x.client_id === f.client_id; })[0];
        if (p) accept({ id: f.message_id, conversation_id: f.conversation_id, seq: f.seq, author: "customer", text: p.text, client_id: f.client_id });
        render();
      } else if (f.type === "queue") {
        showQueue(f);
      } else if (f.type === "typing") {
        q(".typing").textContent = f.active ? t.typing : "";
      } else if (f.type === "error" && f.code === "rate_limited") {
        // Nothing was stored: the message stays pending and goes again once the wait is over.
        q(".err").textContent = t.tooFast;
        clearTimeout(resendTimer);
        resendTimer = setTimeout(function () { q(".err").textContent = ""; flush(); }, (f.retry_after || 5) * 1000);
      } else if (f.type === "error") {
        q(".err").textContent = f.message;
        if (f.client_id) {
          saved.pending = saved.pending.filter(function (x) { return x.client_id !== f.client_id; });
          save();
          render();
        }
      }
    };
    socket.onclose = function () {
      ready = false;
      setStatus(false);
      var delay = Math.min(15000, 300 * Math.pow(2, retry++));
      setTimeout(connect, delay);
    };
  }

  var typingSent = false, typingTimer = null;
  input.addEventListener("input", function () {
    if (!ready) return;
    if (!typingSent) { socket.send(JSON.stringify({ type: "typing", active: true })); typingSent = true; }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () {
      typingSent = false;
      if (ready) socket.send(JSON.stringify({ type: "typing", active: false }));
    }, 1500);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.onsubmit(e); }
  });
  // Article suggestions: asked for once typing pauses; a stale answer never replaces a newer one.
  var sugg = q(".sugg"), suggTimer = null, suggSeq = 0;
  function showSuggestions(items) {
    sugg.textContent = "";
    items = (items || []).filter(function (a) { return typeof a.url === "string" && a.url.indexOf("/help/") === 0; });
    if (!items.length) { sugg.hidden = true; return; }
    var head = document.createElement("b");
    head.textContent = t.related;
    sugg.appendChild(head);
    items.forEach(function (a) {
      var link = document.createElement("a");
      link.href = new URL(a.url, base).href;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = a.title;
      sugg.appendChild(link);
    });
    sugg.hidden = false;
  }
  function suggest() {
    var text = input.value.trim(), seq = ++suggSeq;
    if (settings.suggest === false || text.length < 2 || !window.fetch) { showSuggestions([]); return; }
    fetch(new URL("/webchat/kb/suggest?limit=3&q=" + encodeURIComponent(text.slice(0, 300)), base).href)
      .then(function (r) { return r.ok ? r.json() : { articles: [] }; })
      .then(function (data) { if (seq === suggSeq) showSuggestions(data.articles); })
      .catch(function () { if (seq === suggSeq) showSuggestions([]); });
  }
  input.addEventListener("input", function () {
    clearTimeout(suggTimer);
    suggTimer = setTimeout(suggest, 350);
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(suggTimer);
    suggSeq++;
    showSuggestions([]);
    q(".err").textContent = "";
    sendText(input.value);
    input.value = "";
  });
  q(".launch").addEventListener("click", function () {
    panel.hidden = !panel.hidden;
    saved.open = !panel.hidden;
    save();
    if (!panel.hidden) input.focus();
  });

  function mount() {
    document.body.appendChild(host);
    if (settings.open || saved.open) panel.hidden = false;
    setStatus(false);
    render();
    connect();
  }

  window.Kefu = {
    loaded: true,
    open: function () { panel.hidden = false; },
    send: sendText,
  };
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
