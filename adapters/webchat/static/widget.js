/* onethread web chat widget. Plain ES2020, no dependencies, no build step.
 * Embed: <script src="https://gateway.example/webchat/widget.js" defer></script>
 * Settings: window.onethreadSettings = {title, greeting, primaryColor, identityToken, open}
 * or data-title, data-greeting, data-primary-color, data-identity-token, data-open on the tag. */
(() => {
  "use strict";
  if (window.onethread && window.onethread.version) return;

  const script = document.currentScript ||
    [...document.querySelectorAll('script[src*="widget.js"]')].pop();
  const data = (script && script.dataset) || {};
  const base = new URL((script && script.src) || location.href, location.href);
  const WS_URL = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/webchat/ws";
  const cfg = () => window.onethreadSettings || {};
  const S = cfg();
  const TITLE = S.title || data.title || "Chat with us";
  const GREETING = S.greeting || data.greeting || "";
  const COLOR = S.primaryColor || data.primaryColor || "#1d6b47";
  const START_OPEN = S.open ?? data.open === "true";
  const K_VISITOR = "onethread.visitor", K_THREAD = "onethread.thread";
  const CHANNELS = { sms: "SMS", whatsapp: "WhatsApp", telegram: "Telegram",
    messenger: "Messenger", instagram: "Instagram" };

  // ---- storage (localStorage can throw: private mode, sandboxed frames) ----
  const mem = {};
  const getItem = k => { try { return localStorage.getItem(k); } catch { return mem[k] ?? null; } };
  const setItem = (k, v) => { try { localStorage.setItem(k, v); } catch { mem[k] = v; } };

  const uuid = () => {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = Math.random() * 256;
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    const x = [...b].map(n => n.toString(16).padStart(2, "0")).join("");
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  };
  const visitorId = () => {
    let v = getItem(K_VISITOR);
    if (!v) { v = uuid(); setItem(K_VISITOR, v); }
    return v;
  };
  let thread = { conversation_id: null, last_seq: 0 };
  try { Object.assign(thread, JSON.parse(getItem(K_THREAD)) || {}); } catch { /* corrupt: ignore */ }
  const saveThread = () => setItem(K_THREAD, JSON.stringify(thread));
  const seenAtLoad = Number(thread.last_seq) || 0;

  // ---- safe Markdown: escape everything first, then add a few known tags ----
  const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = s => String(s).replace(/[&<>"']/g, c => ESC[c]);
  const link = (href, text) => `<a href="${href}" target="_blank" rel="noopener noreferrer">${text}</a>`;
  const emph = s => s
    .replace(/\*\*(?=\S)(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|\W)__(?=\S)(.+?)__(?!\w)/g, "$1<strong>$2</strong>")
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*]+?)\*(?![*\w])/g, "$1<em>$2</em>")
    .replace(/(^|\W)_(?=[^\s_])([^_]+?)_(?!\w)/g, "$1<em>$2</em>");
  function inline(s) { // s is already escaped
    const keep = [];
    const put = html => `\u0000${keep.push(html) - 1}\u0000`;
    s = s.replace(/`([^`]+)`/g, (_, c) => put(`<code>${c}</code>`));
    s = s.replace(/\[([^\]]+)\]\(((?:https?:\/\/|mailto:)[^\s)]+)\)/gi, (_, t, u) => put(link(u, emph(t))));
    s = s.replace(/\bhttps?:\/\/[^\s\u0000]+/gi, u => {
      let tail = "";
      const cut = u.search(/&(?:lt|gt|quot|#39);/);
      if (cut >= 0) { tail = u.slice(cut); u = u.slice(0, cut); }
      const m = u.match(/[.,;:!?)\]*_]+$/);
      if (m) { tail = m[0] + tail; u = u.slice(0, -m[0].length); }
      return (u.length > 8 ? put(link(u, u)) : u) + tail;
    });
    return emph(s).replace(/\u0000(\d+)\u0000/g, (_, i) => keep[i]);
  }
  const LI = /^\s*(?:([-*+\u2022])|(\d{1,9})[.)])\s+(.*)$/;
  const SEP = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)+\|?\s*$|^\s*\|\s*:?-{2,}:?\s*\|\s*$/;
  const cells = r => r.trim().replace(/^\||\|$/g, "").split("|").map(c => inline(c.trim()));
  function md(src) {
    const lines = esc(String(src ?? "").replace(/\u0000/g, "")).replace(/\r\n?/g, "\n").split("\n");
    let out = "", para = [], m;
    const flush = () => { if (para.length) out += `<p>${para.map(inline).join("<br>")}</p>`; para = []; };
    for (let i = 0; i < lines.length;) {
      const l = lines[i];
      if (!l.trim()) { flush(); i++; } else if ((m = l.match(LI))) {
        flush();
        const ordered = !m[1], tag = ordered ? "ol" : "ul";
        const start = ordered && +m[2] !== 1 ? ` start="${+m[2]}"` : "";
        out += `<${tag}${start}>`;
        while (i < lines.length && (m = lines[i].match(LI)) && !m[1] === ordered) {
          out += `<li>${inline(m[3])}</li>`; i++;
        }
        out += `</${tag}>`;
      } else if (l.includes("|") && i + 1 < lines.length && SEP.test(lines[i + 1])) {
        flush();
        let t = `<div class="tw"><table><thead><tr>${cells(l).map(c => `<th scope="col">${c}</th>`).join("")}</tr></thead><tbody>`;
        for (i += 2; i < lines.length && lines[i].includes("|") && lines[i].trim(); i++) {
          t += `<tr>${cells(lines[i]).map(c => `<td>${c}</td>`).join("")}</tr>`;
        }
        out += `${t}</tbody></table></div>`;
      } else { para.push(l.trim()); i++; }
    }
    flush();
    return out;
  }

  // ---- DOM helpers ----
  const h = (tag, attrs = {}, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (v != null) el.setAttribute(k, v);
    el.append(...kids);
    return el;
  };
  const pad = n => String(n).padStart(2, "0");
  const timeEl = ts => {
    const d = new Date(ts);
    if (!ts || isNaN(d)) return "";
    return h("time", { datetime: ts, title: d.toLocaleString() }, `${pad(d.getHours())}:${pad(d.getMinutes())}`);
  };
  const luminance = c => {
    let x = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(c).trim());
    if (!x) return 0;
    x = x[1].length === 3 ? x[1].replace(/./g, "$&$&") : x[1];
    const [r, g, b] = [0, 2, 4].map(i => {
      const v = parseInt(x.slice(i, i + 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };

  const ICON_CHAT = '<svg class="ic-chat" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  const ICON_X = '<svg class="ic-x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';
  const ICON_SEND = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3 20l18-8L3 4l2 7 9 1-9 1z"/></svg>';

  const CSS = `
:host{all:initial}
*{box-sizing:border-box}
[hidden]{display:none!important}
.root{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1c1f1e;-webkit-font-smoothing:antialiased}
button,textarea{font:inherit;color:inherit}
:focus-visible{outline:3px solid var(--pri);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
svg{width:24px;height:24px;fill:currentColor}
.ic-x{fill:none;stroke:currentColor;stroke-width:2.4;stroke-linecap:round}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:58px;height:58px;border:0;border-radius:50%;background:var(--pri);color:var(--on);cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:grid;place-items:center;transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.launcher .ic-x,.open .launcher .ic-chat{display:none}
.open .launcher .ic-x{display:block}
.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#c5221f;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center;box-shadow:0 0 0 2px #fff}
.panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:380px;height:min(620px,calc(100vh - 112px));display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.22),0 0 0 1px rgba(0,0,0,.06);animation:ot-in .18s ease-out}
@keyframes ot-in{from{opacity:0;transform:translateY(10px)}}
.hdr{display:flex;align-items:center;gap:8px;padding:14px 10px 14px 18px;background:var(--pri);color:var(--on)}
.hdr h2{flex:1;margin:0;font-size:16px;font-weight:650;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.icon{width:40px;height:40px;border:0;border-radius:8px;background:transparent;color:inherit;cursor:pointer;display:grid;place-items:center}
.icon:hover{background:rgba(127,127,127,.2)}
.hdr :focus-visible{outline-color:var(--on);outline-offset:-3px}
.st{padding:6px 14px;font-size:12.5px;text-align:center;background:#fff4d6;color:#5a4300;border-bottom:1px solid #f0e2b6}
.st:empty{display:none}
.st.err{background:#fdecea;color:#8a1c12;border-color:#f5c6c2}
.scroll{flex:1;overflow-y:auto;padding:16px 14px 8px;overscroll-behavior:contain}
.hint{margin:24px 12px;text-align:center;color:#5c6560}
.e{display:flex;flex-direction:column;align-items:flex-start;margin:0 0 12px}
.e.customer{align-items:flex-end}
.b{max-width:85%;padding:9px 13px;border-radius:16px;border-bottom-left-radius:4px;background:#eef1ef;overflow-wrap:anywhere}
.customer .b{background:var(--pri);color:var(--on);border-radius:16px;border-bottom-right-radius:4px;white-space:pre-wrap}
.agent .b{background:#e6eefb}
.system{align-items:center}
.system .b{background:none;padding:2px 8px;color:#5c6560;font-size:12.5px;text-align:center;font-style:italic}
.b p{margin:0 0 .5em}
.b>:last-child,.b p:last-child{margin-bottom:0}
.b ul,.b ol{margin:.25em 0 .5em;padding-left:1.3em}
.b li{margin:.15em 0}
.b a{color:inherit;text-decoration:underline;text-underline-offset:2px}
.b code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:rgba(0,0,0,.07);padding:1px 4px;border-radius:4px}
.tw{overflow-x:auto;margin:.3em 0 .5em}
.b table{border-collapse:collapse;font-size:13px;background:#fff}
.b th,.b td{border:1px solid #cfd6d2;padding:4px 8px;text-align:left;vertical-align:top}
.b th{background:#e2e8e4}
.meta{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-top:3px;padding:0 4px;font-size:11.5px;color:#5c6560}
.via{padding:0 6px;border-radius:8px;background:#e4e9e6;color:#34403a;font-weight:600}
.greet .b{white-space:normal}
.pend .b{opacity:.7}
.qr{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px;align-self:stretch}
.qr button{padding:7px 13px;border:1.5px solid var(--pri-ink);border-radius:18px;background:#fff;color:var(--pri-ink);cursor:pointer;font-weight:600}
.qr button:hover{background:#f2f5f3}
.cmp{display:flex;align-items:flex-end;gap:8px;padding:10px 10px 6px 14px;border-top:1px solid #e2e6e4}
textarea{flex:1;resize:none;min-height:40px;max-height:120px;padding:9px 12px;border:1.5px solid #8a9590;border-radius:12px;background:#fff;line-height:1.4}
textarea:focus-visible{outline-offset:0;border-color:var(--pri-ink)}
.send{width:42px;height:42px;border:0;border-radius:50%;background:var(--pri);color:var(--on);cursor:pointer;display:grid;place-items:center;flex:none}
.send svg{width:20px;height:20px}
.pw{padding:0 0 8px;text-align:center;font-size:11px;color:#5c6560}
@media (max-width:480px){
.panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0}
.open .launcher{display:none}
textarea{font-size:16px}
}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important;scroll-behavior:auto!important}}
`;

  // ---- state ----
  const entries = new Map(); // seq -> frame
  const els = new Map(); // seq -> element
  const order = []; // seqs, ascending
  const used = new Set(); // bot seqs whose quick replies were answered
  const outbox = []; // {client_msg_id, text, el}: sent (or not yet) and not echoed
  const postbacks = []; // postbacks waiting for a connection
  let ws = null, ready = false, attempt = 0, timer = 0, watchdog = 0, connectedOnce = false;
  let isOpen = false, unread = 0, stick = true, qrSeq = null, statusText = "", errTimer = 0;
  let root, panel, launcher, badge, status, scroller, log, pend, hint, input, shadow;

  function mount() {
    const host = h("div", { id: "onethread-widget" });
    shadow = host.attachShadow({ mode: "open" });
    const t = esc(TITLE);
    shadow.innerHTML = `<style>${CSS}</style><div class="root">
<button class="launcher" type="button" aria-label="Chat with us" aria-expanded="false" aria-controls="ot-panel" data-testid="launcher">${ICON_CHAT}${ICON_X}<span class="badge" aria-hidden="true" hidden></span></button>
<div class="panel" id="ot-panel" role="dialog" aria-label="${t}" data-testid="panel" hidden>
<div class="hdr"><h2>${t}</h2><button class="icon" type="button" aria-label="Close chat" data-testid="close">${ICON_X}</button></div>
<div class="st" role="status" aria-live="polite" data-testid="status"></div>
<div class="scroll"><p class="hint">Ask us anything. We're happy to help.</p>
<div class="log" role="log" aria-live="polite" aria-label="Conversation" data-testid="log"></div><div class="pend"></div></div>
<form class="cmp"><label class="sr" for="ot-input">Message</label><textarea id="ot-input" rows="1" placeholder="Type your message…" enterkeyhint="send" data-testid="input"></textarea><button class="send" type="submit" aria-label="Send message" data-testid="send">${ICON_SEND}</button></form>
<div class="pw">Powered by onethread</div></div></div>`;
    const $ = s => shadow.querySelector(s);
    root = $(".root"); panel = $(".panel"); launcher = $(".launcher"); badge = $(".badge");
    status = $(".st"); scroller = $(".scroll"); log = $(".log"); pend = $(".pend"); hint = $(".hint");
    input = $("textarea");
    root.style.setProperty("--pri", COLOR);
    const light = luminance(COLOR) > 0.179;
    root.style.setProperty("--on", light ? "#111" : "#fff");
    root.style.setProperty("--pri-ink", light ? "#1c1f1e" : "var(--pri)");
    if (GREETING) {
      hint.replaceWith(h("div", { class: "e bot greet" }, h("div", { class: "b" })));
      shadow.querySelector(".greet .b").innerHTML = md(GREETING);
      hint = null;
    }
    launcher.addEventListener("click", () => (isOpen ? close() : open()));
    $(".hdr button").addEventListener("click", () => close());
    panel.addEventListener("keydown", e => { if (e.key === "Escape") { e.preventDefault(); close(); } });
    $("form").addEventListener("submit", e => { e.preventDefault(); submit(); });
    input.addEventListener("keydown", e => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    input.addEventListener("input", grow);
    scroller.addEventListener("scroll", () => {
      stick = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
    }, { passive: true });
    document.body.append(host);
  }

  const grow = () => { input.style.height = "auto"; input.style.height = Math.min(input.scrollHeight + 3, 120) + "px"; };
  const toBottom = () => { if (stick) scroller.scrollTop = scroller.scrollHeight; };

  function open(focus = true) {
    isOpen = true;
    panel.hidden = false;
    root.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    unread = 0; badge.hidden = true;
    if (!ws) connect();
    stick = true; toBottom();
    if (focus) input.focus();
  }
  function close() {
    const inside = panel.contains(shadow.activeElement);
    isOpen = false;
    panel.hidden = true;
    root.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    if (inside) launcher.focus();
  }

  // ---- connection ----
  function setStatus(t) {
    statusText = t;
    if (t && errTimer) { clearTimeout(errTimer); errTimer = 0; status.classList.remove("err"); }
    if (!errTimer) status.textContent = t;
  }
  function showError(f) {
    clearTimeout(errTimer);
    status.textContent = String(f.message || f.code || "Something went wrong.");
    status.classList.add("err");
    errTimer = setTimeout(() => {
      errTimer = 0; status.classList.remove("err"); status.textContent = statusText;
    }, 6000);
  }
  const wire = obj => { try { ws.send(JSON.stringify(obj)); return true; } catch { return false; } };

  function connect() {
    clearTimeout(timer); timer = 0;
    if (ws) return;
    setStatus(connectedOnce || attempt ? "Reconnecting…" : "Connecting…");
    let sock;
    try { sock = new WebSocket(WS_URL); } catch { retry(); return; }
    ws = sock;
    clearTimeout(watchdog);
    watchdog = setTimeout(() => { if (ws === sock && !ready) sock.close(); }, 10000);
    sock.onopen = () => {
      const hello = { type: "hello", visitor_id: visitorId() };
      const token = cfg().identityToken || data.identityToken;
      if (token) hello.identity_token = token;
      if (thread.conversation_id != null) {
        hello.conversation_id = thread.conversation_id;
        // Resume from what this page holds: a fresh page asks for the whole history.
        hello.last_seq = order.length ? order[order.length - 1] : 0;
      }
      sock.send(JSON.stringify(hello));
    };
    sock.onmessage = ev => { if (ws === sock) onFrame(ev.data); };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null; ready = false; clearTimeout(watchdog);
      retry();
    };
  }
  function retry() {
    const d = Math.min(15000, 500 * 2 ** attempt++);
    setStatus("Reconnecting…");
    clearTimeout(timer);
    timer = setTimeout(connect, d / 2 + Math.random() * d / 2);
  }
  const wake = () => { if (timer && !ws && document.visibilityState !== "hidden") connect(); };
  window.addEventListener("online", wake);
  document.addEventListener("visibilitychange", wake);

  function onFrame(raw) {
    let f;
    try { f = JSON.parse(raw); } catch { return; }
    if (!f || typeof f !== "object") return;
    if (f.type === "welcome") {
      if (thread.conversation_id != null && String(thread.conversation_id) !== String(f.conversation_id)) {
        resetLog();
      }
      if (String(thread.conversation_id) !== String(f.conversation_id)) {
        thread = { conversation_id: f.conversation_id, last_seq: 0 };
        saveThread();
      }
      ready = true; attempt = 0; connectedOnce = true;
      clearTimeout(watchdog);
      setStatus("");
      for (const m of outbox) wire({ type: "message", text: m.text, client_msg_id: m.client_msg_id });
      while (postbacks.length && wire(postbacks[0])) postbacks.shift();
    } else if (f.type === "message") {
      addEntry(f);
    } else if (f.type === "error") {
      showError(f);
    }
  }

  // ---- transcript ----
  function resetLog() {
    entries.clear(); els.clear(); order.length = 0; used.clear(); qrSeq = null;
    log.replaceChildren();
    update();
  }
  const norm = s => String(s ?? "").normalize("NFC").replace(/\s+/g, " ").trim();

  function addEntry(f) {
    const seq = Number(f.seq);
    if (!Number.isFinite(seq) || entries.has(seq)) return;
    entries.set(seq, f);
    let i = order.length;
    while (i && order[i - 1] > seq) i--;
    order.splice(i, 0, seq);
    const el = entryEl(f);
    els.set(seq, el);
    log.insertBefore(el, i + 1 < order.length ? els.get(order[i + 1]) : null);
    if (seq > (Number(thread.last_seq) || 0)) { thread.last_seq = seq; saveThread(); }
    if (f.from === "customer") {
      const k = outbox.findIndex(m => norm(m.text) === norm(f.text));
      if (k >= 0) { outbox[k].el.remove(); outbox.splice(k, 1); }
      stick = true;
    } else if (!isOpen && seq > seenAtLoad) {
      unread++; badge.textContent = unread > 9 ? "9+" : String(unread); badge.hidden = false;
    }
    update();
  }

  function entryEl(f) {
    const from = ["customer", "bot", "agent", "system"].includes(f.from) ? f.from : "system";
    const channel = String(f.channel || "webchat");
    const who = from === "customer" ? "You" : from === "bot" ? "Assistant"
      : from === "agent" ? (f.author_name ? String(f.author_name) : "Agent") : "Notice";
    const b = h("div", { class: "b" });
    if (from === "bot" || from === "agent") b.innerHTML = md(f.text);
    else b.textContent = String(f.text ?? "");
    const meta = h("div", { class: "meta" });
    if (from === "bot" || from === "agent") meta.append(h("span", { class: "who" }, who));
    if (channel !== "webchat") meta.append(h("span", { class: "via" }, `via ${CHANNELS[channel] || channel}`));
    meta.append(timeEl(f.ts));
    b.prepend(h("span", { class: "sr" }, `${who}: `));
    return h("div", { class: `e ${from}`, "data-testid": "entry", "data-seq": String(f.seq),
      "data-from": String(f.from), "data-channel": channel }, b, meta);
  }

  function update() {
    if (hint) hint.hidden = order.length > 0 || outbox.length > 0;
    refreshQuickReplies();
    toBottom();
  }

  function refreshQuickReplies() {
    let target = null;
    for (let i = order.length - 1; i >= 0; i--) {
      const e = entries.get(order[i]);
      if (e.from === "customer") break;
      if (e.from === "bot") {
        if (Array.isArray(e.quick_replies) && e.quick_replies.length && !used.has(order[i])) target = order[i];
        break;
      }
    }
    if (target === qrSeq) return;
    const old = qrSeq != null && els.get(qrSeq) && els.get(qrSeq).querySelector(".qr");
    if (old) {
      const hadFocus = old.contains(shadow.activeElement);
      old.remove();
      if (hadFocus) input.focus();
    }
    qrSeq = target;
    if (target == null) return;
    const g = h("div", { class: "qr", role: "group", "aria-label": "Suggested replies" });
    for (const q of entries.get(target).quick_replies) {
      const btn = h("button", { type: "button", "data-testid": "quick-reply" }, String(q.title ?? ""));
      btn.addEventListener("click", () => {
        used.add(target);
        postback(q.payload);
        refreshQuickReplies();
        input.focus();
      });
      g.append(btn);
    }
    els.get(target).append(g);
  }

  // ---- sending ----
  function submit() {
    const text = input.value;
    if (!text.trim()) return;
    input.value = ""; grow();
    send(text);
  }
  function send(text) {
    text = String(text ?? "").trim();
    if (!text) return null;
    const m = { client_msg_id: uuid(), text };
    m.el = h("div", { class: "e customer", "data-testid": "pending" },
      h("div", { class: "b" }, text), h("div", { class: "meta" }, "Sending…"));
    outbox.push(m);
    pend.append(m.el);
    stick = true; update();
    if (ready) wire({ type: "message", text, client_msg_id: m.client_msg_id });
    else if (!ws) connect();
    return m.client_msg_id;
  }
  function postback(payload) {
    const f = { type: "postback", payload };
    if (!(ready && wire(f))) { postbacks.push(f); if (!ws) connect(); }
  }

  function init() {
    mount();
    if (START_OPEN) open(false);
    else if (thread.conversation_id != null) connect(); // returning visitor: show unread replies
  }
  const later = fn => (...a) => {
    if (root) return fn(...a);
    document.addEventListener("DOMContentLoaded", () => fn(...a), { once: true });
    return null;
  };
  window.onethread = Object.freeze({
    open: later(() => open(true)), close: later(() => close()), send: later(send), version: "1",
  });
  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init, { once: true });
})();
