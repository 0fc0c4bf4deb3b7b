/* onethread web chat widget: plain ES2020, no dependencies, no build step.
 * <script src="https://gateway.example/webchat/widget.js" defer></script>
 * window.onethreadSettings = {title, greeting, primaryColor, identityToken, open}, or the
 * data-title, data-greeting, data-primary-color, data-identity-token, data-open attributes. */
(() => {
  "use strict";
  if (window.onethread && window.onethread.version) return;

  const script = document.currentScript || [...document.querySelectorAll('script[src*="widget.js"]')].pop();
  const data = (script && script.dataset) || {};
  const base = new URL((script && script.src) || location.href, location.href);
  const WS_URL = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/webchat/ws";
  const cfg = () => window.onethreadSettings || {};
  const S = cfg();
  const TITLE = S.title || data.title || "Chat with us";
  const GREETING = S.greeting || data.greeting || "";
  const COLOR = S.primaryColor || data.primaryColor || "#1d6b47";
  const START_OPEN = S.open ?? data.open === "true";
  const CHANNELS = { sms: "SMS", whatsapp: "WhatsApp", telegram: "Telegram", messenger: "Messenger", instagram: "Instagram" };
  const CONNECTING = "Connecting\u2026", RECONNECTING = "Reconnecting\u2026";

  // localStorage throws in some private modes and sandboxed frames: fall back to memory.
  const mem = {};
  const getItem = k => { try { return localStorage.getItem(k); } catch { return mem[k] ?? null; } };
  const setItem = (k, v) => { try { localStorage.setItem(k, v); } catch { mem[k] = v; } };
  const uuid = () => crypto.randomUUID ? crypto.randomUUID() // only in secure contexts
    : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, c =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
  const visitorId = () => {
    let v = getItem("onethread.visitor");
    if (!v) setItem("onethread.visitor", v = uuid());
    return v;
  };
  let thread = { conversation_id: null, last_seq: 0 };
  try { Object.assign(thread, JSON.parse(getItem("onethread.thread"))); } catch { /* corrupt */ }
  const saveThread = () => setItem("onethread.thread", JSON.stringify(thread));
  const seenAtLoad = Number(thread.last_seq) || 0;

  // Markdown, safely: escape ALL HTML first, then add a few known tags to the escaped text.
  const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = s => String(s).replace(/[&<>"']/g, c => ESC[c]);
  const link = (u, t) => `<a href="${u}" target="_blank" rel="noopener noreferrer">${t}</a>`;
  const emph = s => s
    .replace(/\*\*(?=\S)(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|\W)__(?=\S)(.+?)__(?!\w)/g, "$1<strong>$2</strong>")
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*]+?)\*(?![*\w])/g, "$1<em>$2</em>")
    .replace(/(^|\W)_(?=[^\s_])([^_]+?)_(?!\w)/g, "$1<em>$2</em>");
  function inline(s) { // s is escaped; code and links are parked as \0N\0 so emph() can't touch them
    const keep = [];
    const put = x => `\0${keep.push(x) - 1}\0`;
    s = s.replace(/`([^`]+)`/g, (_, c) => put(`<code>${c}</code>`))
      .replace(/\[([^\]]+)\]\(((?:https?:\/\/|mailto:)[^\s)]+)\)/gi, (_, t, u) => put(link(u, emph(t))))
      .replace(/\bhttps?:\/\/[^\s\0]+/gi, u => {
        let tail = "";
        const cut = u.search(/&(?:lt|gt|quot|#39);/);
        if (cut >= 0) [u, tail] = [u.slice(0, cut), u.slice(cut)];
        const m = u.match(/[.,;:!?)\]*_]+$/);
        if (m) [u, tail] = [u.slice(0, -m[0].length), m[0] + tail];
        return (u.length > 8 ? put(link(u, u)) : u) + tail;
      });
    return emph(s).replace(/\0(\d+)\0/g, (_, i) => keep[i]);
  }
  const LI = /^\s*(?:([-*+\u2022])|(\d{1,9})[.)])\s+(.*)$/;
  const SEP = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)+\|?\s*$/; // needs a pipe: `---` alone is no table
  const cells = (r, tag) => r.trim().replace(/^\||\|$/g, "").split("|").map(c => `<${tag}>${inline(c.trim())}</${tag}>`).join("");
  function md(src) {
    const L = esc(String(src ?? "").replace(/\0/g, "")).split(/\r\n?|\n/);
    let out = "", para = [], m;
    const flush = () => { if (para.length) out += `<p>${para.map(inline).join("<br>")}</p>`; para = []; };
    for (let i = 0; i < L.length;) {
      const l = L[i];
      if (!l.trim()) { flush(); i++; } else if ((m = l.match(LI))) {
        flush();
        const ol = !m[1], tag = ol ? "ol" : "ul";
        out += `<${tag}${ol && +m[2] !== 1 ? ` start="${+m[2]}"` : ""}>`;
        for (; i < L.length && (m = L[i].match(LI)) && !m[1] === ol; i++) out += `<li>${inline(m[3])}</li>`;
        out += `</${tag}>`;
      } else if (l.includes("|") && SEP.test(L[i + 1] || "")) {
        flush();
        out += `<div class="tw"><table><thead><tr>${cells(l, "th")}</tr></thead><tbody>`;
        for (i += 2; i < L.length && L[i].includes("|") && L[i].trim(); i++) out += `<tr>${cells(L[i], "td")}</tr>`;
        out += "</tbody></table></div>";
      } else { para.push(l.trim()); i++; }
    }
    flush();
    return out;
  }

  const h = (tag, attrs, ...kids) => {
    const el = document.createElement(tag);
    for (const k in attrs) el.setAttribute(k, attrs[k]);
    el.append(...kids);
    return el;
  };
  const pad = n => String(n).padStart(2, "0");
  const timeEl = ts => {
    const d = new Date(ts);
    return !ts || isNaN(d) ? "" : h("time", { datetime: ts, title: d.toLocaleString() }, `${pad(d.getHours())}:${pad(d.getMinutes())}`);
  };
  const isLight = c => { // WCAG relative luminance of #rgb / #rrggbb above the black/white text crossover
    const x = (/^#([0-9a-f]{3}){1,2}$/i.test(c = String(c).trim()) ? c.slice(1) : "000").replace(/^(.)(.)(.)$/, "$1$1$2$2$3$3");
    const [r, g, b] = [0, 2, 4].map(i => { const v = parseInt(x.slice(i, i + 2), 16) / 255; return v <= 0.04 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179;
  };
  const svg = (cls, d) => `<svg class="${cls}" viewBox="0 0 24 24" aria-hidden="true"><path d="${d}"/></svg>`;
  const ICON_X = svg("ic-x", "M6 6l12 12M18 6L6 18");

  const CSS = `:host{all:initial!important}
*{box-sizing:border-box}
[hidden]{display:none!important}
.root{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1c1f1e}
button,textarea{font:inherit;color:inherit}
:focus-visible{outline:3px solid var(--ink);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
svg{width:24px;height:24px;fill:currentColor}
.ic-x{fill:none;stroke:currentColor;stroke-width:2.4;stroke-linecap:round}
.launcher,.x,.send{border:0;cursor:pointer;display:grid;place-items:center;flex:none}
.launcher,.send{border-radius:50%;background:var(--pri);color:var(--on)}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:58px;height:58px;box-shadow:0 4px 14px #0004;transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.launcher .ic-x,.open .launcher .ic-chat{display:none}
.open .launcher .ic-x{display:block}
.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#c5221f;color:#fff;font-size:12px;font-weight:700;line-height:20px;box-shadow:0 0 0 2px #fff}
.panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:380px;height:min(620px,calc(100vh - 112px));display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;box-shadow:0 12px 40px #0003,0 0 0 1px #0001;animation:ot-in .18s ease-out}
@keyframes ot-in{from{opacity:0;transform:translateY(10px)}}
.hdr{display:flex;align-items:center;gap:8px;padding:14px 10px 14px 18px;background:var(--pri);color:var(--on)}
h2{flex:1;margin:0;font-size:16px;font-weight:650;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.x{width:40px;height:40px;border-radius:8px;background:none}
.x:hover{background:#8883}
.hdr :focus-visible{outline-color:var(--on);outline-offset:-3px}
.st{padding:6px 14px;font-size:12.5px;text-align:center;background:#fff4d6;color:#5a4300}
.st:empty{display:none}
.st.err{background:#fdecea;color:#8a1c12}
.scroll{flex:1;overflow-y:auto;padding:16px 14px 8px;overscroll-behavior:contain}
.hint{margin:24px 12px;text-align:center;color:#5c6560}
.e{display:flex;flex-direction:column;align-items:flex-start;margin:0 0 12px}
.customer{align-items:flex-end}
.bot .b,.agent .b{max-width:92%}
.b{max-width:85%;padding:9px 13px;border-radius:16px 16px 16px 4px;background:#eef1ef;overflow-wrap:anywhere}
.customer .b{background:var(--pri);color:var(--on);border-radius:16px 16px 4px;white-space:pre-wrap}
.agent .b{background:#e6eefb}
.system{align-items:center}
.system .b{background:none;padding:2px 8px;color:#5c6560;font-size:12.5px;text-align:center;font-style:italic}
.b p{margin:0 0 .5em}
.b>:last-child{margin-bottom:0}
.b ul,.b ol{margin:.25em 0 .5em;padding-left:1.3em}
.b a{color:inherit;text-underline-offset:2px}
.b code{font:12.5px ui-monospace,Menlo,Consolas,monospace;background:#0000000f;padding:1px 4px;border-radius:4px}
.tw{overflow-x:auto;margin:.3em 0 .5em}
table{border-collapse:collapse;font-size:13px;background:#fff}
th,td{border:1px solid #cfd6d2;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#e2e8e4}
.meta{display:flex;flex-wrap:wrap;gap:6px;margin-top:3px;padding:0 4px;font-size:11.5px;color:#5c6560}
.via{padding:0 6px;border-radius:8px;background:#e4e9e6;color:#34403a;font-weight:600}
.pend .b{opacity:.7}
.qr{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px;align-self:stretch}
.qr button{padding:7px 13px;border:1.5px solid var(--ink);border-radius:18px;background:#fff;color:var(--ink);cursor:pointer;font-weight:600}
.qr button:hover{background:#f2f5f3}
form{display:flex;align-items:flex-end;gap:8px;padding:10px max(10px,env(safe-area-inset-right)) 6px max(14px,env(safe-area-inset-left));border-top:1px solid #e2e6e4}
textarea{flex:1;resize:none;min-height:40px;max-height:120px;padding:9px 12px;border:1.5px solid #8a9590;border-radius:12px;background:#fff;line-height:1.4}
textarea:focus-visible{outline-offset:0;border-color:var(--ink)}
.send{width:42px;height:42px}
.send svg{width:20px}
.pw{padding:0 0 max(8px,env(safe-area-inset-bottom));text-align:center;font-size:11px;color:#5c6560}
@media (max-width:480px){.panel{inset:0;width:100%;height:100%;border-radius:0}.open .launcher{display:none}textarea{font-size:16px}}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}`;

  const entries = new Map(), els = new Map(); // seq -> frame, seq -> element
  const order = []; // seqs, ascending
  const used = new Set(); // bot seqs whose quick replies were answered
  const outbox = []; // {client_msg_id, text, el} not yet echoed by the server
  const postbacks = []; // waiting for a connection
  let ws = null, ready = false, attempt = 0, timer = 0, watchdog = 0, errTimer = 0;
  let isOpen = false, unread = 0, stick = true, qrSeq = null, statusText = "";
  let root, panel, launcher, badge, status, scroller, log, pend, hint, input, shadow;

  function mount() {
    const host = h("onethread-widget", { id: "onethread-widget" }); // a custom tag: page `div` rules miss it
    shadow = host.attachShadow({ mode: "open" });
    const t = esc(TITLE);
    shadow.innerHTML = `<style>${CSS}</style><div class="root">
<button class="launcher" type="button" aria-label="Chat with us" aria-expanded="false" aria-controls="ot-panel" data-testid="launcher">${svg("ic-chat", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z")}${ICON_X}<span class="badge" aria-hidden="true" hidden></span></button>
<div class="panel" id="ot-panel" role="dialog" aria-label="${t}" data-testid="panel" hidden>
<div class="hdr"><h2>${t}</h2><button class="x" type="button" aria-label="Close chat" data-testid="close">${ICON_X}</button></div>
<div class="st" role="status" aria-live="polite" data-testid="status"></div>
<div class="scroll"><p class="hint">Ask us anything. We're happy to help.</p>
<div role="log" aria-live="polite" aria-label="Conversation" data-testid="log"></div><div class="pend"></div></div>
<form><label class="sr" for="ot-input">Message</label><textarea id="ot-input" rows="1" placeholder="Type your message\u2026" enterkeyhint="send" data-testid="input"></textarea><button class="send" type="submit" aria-label="Send message" data-testid="send">${svg("", "M3 20l18-8L3 4l2 7 9 1-9 1z")}</button></form>
<div class="pw">Powered by onethread</div></div></div>`;
    const $ = s => shadow.querySelector(s);
    [root, panel, launcher, badge, status, scroller, log, pend, hint, input] =
      [".root", ".panel", ".launcher", ".badge", ".st", ".scroll", "[role=log]", ".pend", ".hint", "textarea"].map($);
    const light = isLight(COLOR);
    root.style.setProperty("--pri", COLOR); // setProperty ignores invalid values: no CSS injection
    root.style.setProperty("--on", light ? "#111" : "#fff");
    root.style.setProperty("--ink", light ? "#1c1f1e" : "var(--pri)");
    if (GREETING) {
      const b = h("div", { class: "b" });
      b.innerHTML = md(GREETING);
      hint.replaceWith(h("div", { class: "e bot" }, b));
      hint = null;
    }
    launcher.onclick = () => (isOpen ? close() : open());
    $(".x").onclick = () => close();
    panel.onkeydown = e => { if (e.key === "Escape") { e.preventDefault(); close(); } };
    $("form").onsubmit = e => { e.preventDefault(); submit(); };
    input.onkeydown = e => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); } };
    input.oninput = grow;
    scroller.onscroll = () => { stick = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60; };
    document.body.append(host);
  }

  const grow = () => { input.style.height = "auto"; input.style.height = Math.min(input.scrollHeight + 3, 120) + "px"; };
  const toBottom = () => { if (stick) scroller.scrollTop = scroller.scrollHeight; };
  function open(focus = true) {
    isOpen = true; panel.hidden = false; root.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    unread = 0; badge.hidden = true;
    if (!ws) connect();
    stick = true; toBottom();
    if (focus) input.focus();
  }
  function close() {
    const inside = panel.contains(shadow.activeElement);
    isOpen = false; panel.hidden = true; root.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    if (inside) launcher.focus();
  }

  // Status line: connection state, or a server error for a few seconds (connection problems win).
  function setStatus(t) {
    statusText = t;
    if (t && errTimer) { clearTimeout(errTimer); errTimer = 0; status.classList.remove("err"); }
    if (!errTimer) status.textContent = t;
  }
  function showError(f) {
    clearTimeout(errTimer);
    status.textContent = String(f.message || f.code || "Something went wrong.");
    status.classList.add("err");
    errTimer = setTimeout(() => { errTimer = 0; status.classList.remove("err"); status.textContent = statusText; }, 6000);
  }
  const wire = obj => { try { ws.send(JSON.stringify(obj)); return true; } catch { return false; } };
  const sendMsg = m => wire({ type: "message", text: m.text, client_msg_id: m.client_msg_id });

  function connect() {
    clearTimeout(timer); timer = 0;
    if (ws) return;
    setStatus(attempt ? RECONNECTING : CONNECTING);
    let sock;
    try { sock = ws = new WebSocket(WS_URL); } catch { retry(); return; }
    clearTimeout(watchdog);
    watchdog = setTimeout(() => { if (ws === sock && !ready) sock.close(); }, 10000);
    sock.onopen = () => {
      const hello = { type: "hello", visitor_id: visitorId() };
      const token = cfg().identityToken || data.identityToken;
      if (token) hello.identity_token = token;
      if (thread.conversation_id != null) {
        hello.conversation_id = thread.conversation_id;
        hello.last_seq = order.length ? order[order.length - 1] : 0; // a fresh page asks for all of it
      }
      sock.send(JSON.stringify(hello));
    };
    sock.onmessage = ev => { if (ws === sock) onFrame(ev.data); };
    sock.onclose = () => { if (ws === sock) { ws = null; ready = false; retry(); } };
  }
  function retry() { // 0.5 s doubling to 15 s, each wait drawn from [d/2, d)
    const d = Math.min(15000, 500 * 2 ** attempt++);
    setStatus(RECONNECTING);
    clearTimeout(timer);
    timer = setTimeout(connect, d / 2 + Math.random() * d / 2);
  }
  const wake = () => { if (timer && document.visibilityState !== "hidden") connect(); };
  addEventListener("online", wake);
  document.addEventListener("visibilitychange", wake);

  function onFrame(raw) {
    let f;
    try { f = JSON.parse(raw); } catch { return; }
    if (f?.type === "welcome") {
      if (String(thread.conversation_id) !== String(f.conversation_id)) {
        if (thread.conversation_id != null) resetLog(); // a new conversation: the server replays it from 0
        thread = { conversation_id: f.conversation_id, last_seq: 0 };
        saveThread();
      }
      ready = true; attempt = 0;
      clearTimeout(watchdog);
      setStatus("");
      outbox.forEach(sendMsg); // same client_msg_id: the server drops what it already has
      while (postbacks.length && wire(postbacks[0])) postbacks.shift();
    } else if (f?.type === "message") addEntry(f);
    else if (f?.type === "error") showError(f);
  }

  function resetLog() {
    entries.clear(); els.clear(); order.length = 0; used.clear(); qrSeq = null;
    log.replaceChildren();
    update();
  }
  const norm = s => String(s ?? "").normalize().replace(/\s+/g, " ").trim();

  function addEntry(f) {
    const seq = Number(f.seq);
    if (!Number.isFinite(seq) || entries.has(seq)) return;
    entries.set(seq, f);
    let i = order.length;
    while (i && order[i - 1] > seq) i--;
    order.splice(i, 0, seq);
    els.set(seq, entryEl(f));
    log.insertBefore(els.get(seq), els.get(order[i + 1]) || null);
    if (seq > (Number(thread.last_seq) || 0)) { thread.last_seq = seq; saveThread(); }
    if (f.from === "customer") {
      const k = outbox.findIndex(m => norm(m.text) === norm(f.text));
      if (k >= 0) outbox.splice(k, 1)[0].el.remove();
      stick = true;
    } else if (!isOpen && seq > seenAtLoad) {
      badge.textContent = ++unread > 9 ? "9+" : unread;
      badge.hidden = false;
    }
    update();
  }

  function entryEl(f) {
    const from = ["customer", "bot", "agent"].includes(f.from) ? f.from : "system";
    const rich = from === "bot" || from === "agent";
    const channel = String(f.channel || "webchat");
    const who = { customer: "You", bot: "Assistant", agent: f.author_name ? String(f.author_name) : "Agent" }[from] || "Notice";
    const b = h("div", { class: "b" });
    if (rich) b.innerHTML = md(f.text); else b.textContent = String(f.text ?? "");
    b.prepend(h("span", { class: "sr" }, `${who}: `));
    const meta = h("div", { class: "meta" });
    if (rich) meta.append(h("span", {}, who));
    if (channel !== "webchat") meta.append(h("span", { class: "via" }, `via ${CHANNELS[channel] || channel}`));
    meta.append(timeEl(f.ts));
    return h("div", { class: `e ${from}`, "data-testid": "entry", "data-seq": f.seq, "data-from": f.from, "data-channel": channel }, b, meta);
  }

  function update() {
    if (hint) hint.hidden = order.length + outbox.length > 0;
    refreshQuickReplies();
    toBottom();
  }

  // Quick replies live under the last bot entry, until the customer says something after it.
  function refreshQuickReplies() {
    let target = null;
    for (let i = order.length - 1; i >= 0; i--) {
      const e = entries.get(order[i]);
      if (e.from === "customer") break;
      if (e.from === "bot") { if (e.quick_replies?.length && !used.has(order[i])) target = order[i]; break; }
    }
    if (target === qrSeq) return;
    const old = els.get(qrSeq)?.querySelector(".qr");
    if (old) {
      const hadFocus = old.contains(shadow.activeElement);
      old.remove();
      if (hadFocus) input.focus();
    }
    if ((qrSeq = target) == null) return;
    const g = h("div", { class: "qr", role: "group", "aria-label": "Suggested replies" });
    for (const q of entries.get(target).quick_replies) {
      const btn = h("button", { type: "button", "data-testid": "quick-reply" }, String(q.title ?? ""));
      btn.onclick = () => { used.add(target); postback(q.payload); refreshQuickReplies(); input.focus(); };
      g.append(btn);
    }
    els.get(target).append(g);
  }

  function submit() {
    if (!input.value.trim()) return;
    send(input.value);
    input.value = ""; grow();
  }
  function send(text) {
    text = String(text ?? "").trim();
    if (!text) return null;
    const m = { client_msg_id: uuid(), text };
    m.el = h("div", { class: "e customer", "data-testid": "pending" }, h("div", { class: "b" }, text), h("div", { class: "meta" }, "Sending\u2026"));
    outbox.push(m);
    pend.append(m.el);
    stick = true; update();
    if (ready) sendMsg(m); else if (!ws) connect();
    return m.client_msg_id;
  }
  function postback(payload) {
    const f = { type: "postback", payload };
    if (!(ready && wire(f))) { postbacks.push(f); if (!ws) connect(); }
  }

  function init() {
    mount();
    if (START_OPEN) open(false); // opened by configuration: don't steal the page's focus
    else if (thread.conversation_id != null) connect(); // returning visitor: count unread replies
  }
  const later = fn => (...a) => {
    if (root) return fn(...a);
    document.addEventListener("DOMContentLoaded", () => fn(...a), { once: true });
    return null;
  };
  window.onethread = Object.freeze({ open: later(() => open()), close: later(() => close()), send: later(send), version: "1" });
  if (document.body) init(); else document.addEventListener("DOMContentLoaded", init, { once: true });
})();
