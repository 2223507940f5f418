/*!
 * mdm-assistant web widget. One tag embeds it in any page, no build step (plain ES2019):
 *
 *   <script src="https://example.org/widget/mdm-widget.js"
 *           data-server="https://bot.example.org" data-lang="fr" defer></script>
 *
 * Options (data-* attributes of the script tag):
 *   data-server    Base URL of the Rasa server (default: the script's own origin).
 *   data-lang      First language: fr, ar, ary, ary_Latn or en (default: the page's language).
 *   data-channel   "widget" (default: replies, plus the outbox for staff messages) or "rest".
 *   data-position  "right" (default) or "left".
 *   data-open      "true" opens the panel on the first visit.
 *   data-poll      Seconds between outbox polls while the panel is open (default 4).
 *
 * Security: bot and user text only ever reaches the page through textContent and
 * createTextNode; links are built as <a> elements for http(s) URLs only.
 * The conversation (a random 128-bit sender id, the transcript, messages not yet delivered)
 * is kept in localStorage so that it survives reloads.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.MDMWidget) {
    return; // not loaded by a <script> tag, or loaded twice
  }

  // ---------------------------------------------------------------------------------------
  // Configuration
  // ---------------------------------------------------------------------------------------

  var LANGS = ["fr", "ar", "ary", "ary_Latn", "en"];
  var RTL_LANGS = ["ar", "ary"];
  var LANG_NAMES = {
    fr: "Français",
    ar: "العربية",
    ary: "الدارجة",
    ary_Latn: "Darija (3arbizi)",
    en: "English",
  };
  var HTML_LANG = { fr: "fr", ar: "ar", ary: "ary", ary_Latn: "ary-Latn", en: "en" };
  var MAX_ITEMS = 200; // transcript entries kept in localStorage
  var MAX_CHARS = 5000; // longest message a user can type
  var REQUEST_TIMEOUT_MS = 30000;
  var CLOSED_POLL_MS = 30000;
  var SENDER_RE = /^[A-Za-z0-9_-]{22,128}$/;

  var T = {
    fr: {
      title: "Assistant Marocains du Monde",
      heading: "Marocains du Monde",
      open: "Ouvrir la discussion avec l'assistant",
      close: "Fermer la discussion",
      reset: "Nouvelle conversation",
      confirmReset: "Effacer cette conversation et en commencer une nouvelle ?",
      language: "Langue",
      log: "Conversation",
      input: "Votre message",
      placeholder: "Écrivez votre message…",
      send: "Envoyer",
      typing: "L'assistant écrit…",
      offline: "Hors ligne, nouvel essai…",
      retryIn: "dans {s} s",
      retryNow: "Réessayer",
      pending: "En attente d'envoi",
      failed: "Non envoyé",
      you: "Vous :",
      bot: "Assistant :",
      staff: "Message d'un conseiller",
      system: "Notification",
      unread: "nouveau message",
      newTab: "(nouvel onglet)",
    },
    ar: {
      title: "مساعد مغاربة العالم",
      heading: "مغاربة العالم",
      open: "فتح المحادثة مع المساعد",
      close: "إغلاق المحادثة",
      reset: "محادثة جديدة",
      confirmReset: "هل تريد حذف هذه المحادثة وبدء محادثة جديدة؟",
      language: "اللغة",
      log: "المحادثة",
      input: "رسالتك",
      placeholder: "اكتب رسالتك…",
      send: "إرسال",
      typing: "المساعد يكتب…",
      offline: "غير متصل، جارٍ إعادة المحاولة…",
      retryIn: "بعد {s} ث",
      retryNow: "أعد المحاولة",
      pending: "في انتظار الإرسال",
      failed: "لم تُرسَل",
      you: "أنت:",
      bot: "المساعد:",
      staff: "رسالة من موظف",
      system: "إشعار",
      unread: "رسالة جديدة",
      newTab: "(علامة تبويب جديدة)",
    },
    ary: {
      title: "المساعد ديال مغاربة العالم",
      heading: "مغاربة العالم",
      open: "حل الشات مع المساعد",
      close: "سد الشات",
      reset: "محادثة جديدة",
      confirmReset: "نمسحو هاد المحادثة ونبداو وحدة جديدة؟",
      language: "اللغة",
      log: "المحادثة",
      input: "الرسالة ديالك",
      placeholder: "كتب الرسالة ديالك…",
      send: "صيفط",
      typing: "المساعد كيكتب…",
      offline: "ماكاينش الكونيكسيون، كنعاودو…",
      retryIn: "من بعد {s} ث",
      retryNow: "عاود",
      pending: "كتسنى تتصيفط",
      failed: "ماتصيفطاتش",
      you: "نتا:",
      bot: "المساعد:",
      staff: "رسالة من عند موظف",
      system: "إشعار",
      unread: "رسالة جديدة",
      newTab: "(فشي onglet جديد)",
    },
    ary_Latn: {
      title: "L'assistant dyal Mgharba d l3alam",
      heading: "Mgharba d l3alam",
      open: "7ell chat m3a l'assistant",
      close: "Sedd chat",
      reset: "Mo7adata jdida",
      confirmReset: "Nmse7o had lmo7adata w nbdaw wa7da jdida?",
      language: "Logha",
      log: "Lmo7adata",
      input: "Lmessage dyalk",
      placeholder: "Kteb lmessage dyalk…",
      send: "Sift",
      typing: "L'assistant kaykteb…",
      offline: "Makaynach connexion, kan3awdo…",
      retryIn: "mn b3d {s} s",
      retryNow: "3awed",
      pending: "katsenna ttsift",
      failed: "ma tsiftatch",
      you: "Nta:",
      bot: "L'assistant:",
      staff: "Message mn 3nd mowadaf",
      system: "Notification",
      unread: "message jdid",
      newTab: "(onglet jdid)",
    },
    en: {
      title: "Moroccans Abroad Assistant",
      heading: "Moroccans Abroad",
      open: "Open the chat with the assistant",
      close: "Close the chat",
      reset: "New conversation",
      confirmReset: "Delete this conversation and start a new one?",
      language: "Language",
      log: "Conversation",
      input: "Your message",
      placeholder: "Type your message…",
      send: "Send",
      typing: "The assistant is typing…",
      offline: "Offline, retrying…",
      retryIn: "in {s} s",
      retryNow: "Retry now",
      pending: "Waiting to be sent",
      failed: "Not sent",
      you: "You:",
      bot: "Assistant:",
      staff: "Message from an advisor",
      system: "Notification",
      unread: "new message",
      newTab: "(new tab)",
    },
  };

  function normaliseLang(value) {
    if (!value) return null;
    var code = String(value).trim().replace("-", "_");
    for (var i = 0; i < LANGS.length; i++) {
      if (LANGS[i].toLowerCase() === code.toLowerCase()) return LANGS[i];
    }
    var base = code.split("_")[0].toLowerCase();
    return LANGS.indexOf(base) >= 0 ? base : null;
  }

  var data = script.dataset;
  var scriptOrigin = new URL(script.src, location.href).origin;
  var config = {
    server: String(data.server || scriptOrigin).replace(/\/+$/, ""),
    lang:
      normaliseLang(data.lang) ||
      normaliseLang(document.documentElement.lang) ||
      normaliseLang(navigator.language) ||
      "fr",
    channel: data.channel === "rest" ? "rest" : "widget",
    position: data.position === "left" ? "left" : "right",
    openFirst: data.open === "true",
    pollMs: Math.max(1, Number(data.poll) || 4) * 1000,
  };
  var WEBHOOK = config.server + "/webhooks/" + config.channel + "/webhook";
  var OUTBOX = config.server + "/webhooks/widget/outbox";
  var STORAGE_KEY = "mdm-widget:v1:" + config.server;

  // ---------------------------------------------------------------------------------------
  // State, kept in localStorage
  // ---------------------------------------------------------------------------------------

  function randomId() {
    var bytes = new Uint8Array(16); // 128 random bits: the outbox is readable with this id only
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) hex += (bytes[i] + 256).toString(16).slice(1);
    return hex;
  }

  function freshState() {
    return {
      v: 1,
      sender: randomId(),
      lang: config.lang,
      langChosen: false,
      open: config.openFirst,
      after: 0,
      unread: 0,
      items: [],
      queue: [],
    };
  }

  var memoryStore = null; // when localStorage is unavailable (sandboxed frames, privacy modes)

  function readStored() {
    var raw = null;
    try {
      raw = window.localStorage.getItem(STORAGE_KEY);
    } catch (e) {
      raw = memoryStore;
    }
    if (!raw) return null;
    try {
      var s = JSON.parse(raw);
      if (!s || s.v !== 1 || !SENDER_RE.test(s.sender) || !Array.isArray(s.items)) return null;
      s.lang = normaliseLang(s.lang) || config.lang;
      s.queue = Array.isArray(s.queue) ? s.queue : [];
      s.after = Number(s.after) || 0;
      s.unread = Number(s.unread) || 0;
      return s;
    } catch (e) {
      return null;
    }
  }

  var state = readStored() || freshState();
  if (!state.langChosen && normaliseLang(data.lang)) state.lang = config.lang;

  function save() {
    if (state.items.length > MAX_ITEMS) state.items = state.items.slice(-MAX_ITEMS);
    var raw = JSON.stringify(state);
    try {
      window.localStorage.setItem(STORAGE_KEY, raw);
    } catch (e) {
      memoryStore = raw;
      if (state.items.length > 20 && e && e.name === "QuotaExceededError") {
        state.items = state.items.slice(-Math.floor(state.items.length / 2));
        save();
      }
    }
  }

  function t(key) {
    return (T[state.lang] || T.fr)[key];
  }

  // ---------------------------------------------------------------------------------------
  // DOM helpers (no innerHTML anywhere)
  // ---------------------------------------------------------------------------------------

  function el(tag, className, attrs) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        node.setAttribute(name, attrs[name]);
      });
    }
    return node;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat:
      "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 5v2h10V9H7zm0 4v2h7v-2H7z",
    close:
      "M18.3 5.71 12 12.01l-6.3-6.3-1.41 1.41 6.3 6.3-6.3 6.29 1.41 1.42 6.3-6.3 6.29 6.3 1.42-1.42-6.3-6.29 6.3-6.3z",
    send: "M3.4 20.4 21 12 3.4 3.6 3.39 10.1 16 12 3.39 13.9z",
    reset:
      "M12 5V2L7 6l5 4V7a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8z",
    star: "M12 2.5l2.35 7.1h7.4l-6 4.4 2.3 7.1L12 16.7l-6.05 4.4 2.3-7.1-6-4.4h7.4z",
  };

  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  var ARABIC_SCRIPT = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;
  var STRONG_CHAR = /[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;

  /** Direction of a text from its first strong character (as dir="auto" does). */
  function textDir(text) {
    var m = STRONG_CHAR.exec(text || "");
    if (!m) return RTL_LANGS.indexOf(state.lang) >= 0 ? "rtl" : "ltr";
    return ARABIC_SCRIPT.test(m[0]) ? "rtl" : "ltr";
  }

  var URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'«»]+/gi;

  function safeHref(raw) {
    try {
      var url = new URL(/^www\./i.test(raw) ? "https://" + raw : raw);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function count(text, ch) {
    return text.split(ch).length - 1;
  }

  /** Append text to parent, with http(s) URLs as links; text nodes only, never HTML. */
  function appendRichText(parent, text) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var url = match[0];
      // Trailing punctuation belongs to the sentence, and ")" only if it closes nothing.
      while (/[.,;:!?)\]}'"»]$/.test(url)) {
        if (url.slice(-1) === ")" && count(url, "(") >= count(url, ")")) break;
        url = url.slice(0, -1);
      }
      var href = safeHref(url);
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (href) {
        var a = el("a", "mdm-link", { href: href, target: "_blank", rel: "noopener noreferrer nofollow" });
        a.textContent = url;
        var hint = el("span", "mdm-sr");
        hint.textContent = " " + t("newTab");
        a.appendChild(hint);
        a.setAttribute("dir", "ltr");
        parent.appendChild(a);
      } else {
        parent.appendChild(document.createTextNode(url));
      }
      last = match.index + url.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---------------------------------------------------------------------------------------
  // Styles (inside a shadow root: the host page's CSS cannot break the widget, nor the reverse)
  // ---------------------------------------------------------------------------------------

  var CSS = [
    ":host{all:initial;}",
    "*,*::before,*::after{box-sizing:border-box;}",
    "[hidden]{display:none!important;}",
    ".mdm-root{--green:#006233;--green-2:#0b7a46;--green-soft:#e7f3ec;--red:#c1272d;--ink:#1b2420;",
    "--muted:#5b6660;--line:#e3e8e5;--bot:#f2f5f3;",
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans Arabic',",
    "'Helvetica Neue',Arial,sans-serif;font-size:15px;line-height:1.45;color:var(--ink);}",
    ".mdm-sr{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;",
    "clip:rect(0 0 0 0);white-space:nowrap;border:0;}",
    "svg{width:22px;height:22px;fill:currentColor;display:block;}",
    "button,select,textarea{font:inherit;color:inherit;}",
    // launcher
    ".mdm-launcher{position:fixed;bottom:24px;right:24px;z-index:2147483000;width:60px;height:60px;",
    "border:0;border-radius:50%;cursor:pointer;color:#fff;display:grid;place-items:center;",
    "background:linear-gradient(135deg,var(--green),var(--green-2));",
    "box-shadow:0 6px 20px rgba(0,50,25,.35);transition:transform .15s ease,box-shadow .15s ease;}",
    ".mdm-launcher:hover{transform:translateY(-2px);box-shadow:0 10px 26px rgba(0,50,25,.4);}",
    ".mdm-launcher svg{width:28px;height:28px;}",
    ".mdm-launcher .mdm-i-close,.mdm-open .mdm-launcher .mdm-i-chat{display:none;}",
    ".mdm-open .mdm-launcher .mdm-i-close{display:block;}",
    ".mdm-left .mdm-launcher{right:auto;left:24px;}",
    ".mdm-badge{position:absolute;top:-2px;right:-2px;min-width:22px;height:22px;padding:0 6px;",
    "border-radius:11px;background:var(--red);color:#fff;font-size:12px;font-weight:700;",
    "line-height:22px;text-align:center;border:2px solid #fff;}",
    // panel
    ".mdm-panel{position:fixed;bottom:96px;right:24px;z-index:2147483001;width:380px;",
    "height:min(640px,calc(100vh - 120px));display:flex;flex-direction:column;background:#fff;",
    "border-radius:18px;overflow:hidden;box-shadow:0 18px 50px rgba(10,30,20,.25),",
    "0 2px 8px rgba(10,30,20,.12);animation:mdm-in .18s ease-out;}",
    ".mdm-left .mdm-panel{right:auto;left:24px;}",
    "@keyframes mdm-in{from{opacity:0;transform:translateY(12px) scale(.98);}to{opacity:1;transform:none;}}",
    // header
    ".mdm-header{display:flex;align-items:center;gap:10px;padding:14px 12px 14px 16px;color:#fff;",
    "background:linear-gradient(135deg,var(--green),var(--green-2));}",
    ".mdm-avatar{flex:none;width:38px;height:38px;border-radius:50%;display:grid;place-items:center;",
    "background:rgba(255,255,255,.16);color:#fff;}",
    ".mdm-avatar svg{width:20px;height:20px;fill:none;stroke:#fff;stroke-width:1.6;}",
    ".mdm-titles{flex:1;min-width:0;}",
    ".mdm-title{margin:0;font-size:15.5px;font-weight:700;line-height:1.25;white-space:nowrap;",
    "overflow:hidden;text-overflow:ellipsis;}",
    ".mdm-lang{display:block;margin-top:4px;max-width:100%;height:26px;padding:0 4px;border-radius:6px;",
    "cursor:pointer;border:1px solid rgba(255,255,255,.4);background:rgba(255,255,255,.12);color:#fff;",
    "font-size:12.5px;}",
    ".mdm-lang:hover{background:rgba(255,255,255,.2);}",
    ".mdm-lang option{color:var(--ink);background:#fff;}",
    ".mdm-icon{flex:none;width:34px;height:34px;border:0;border-radius:8px;background:transparent;",
    "color:#fff;cursor:pointer;display:grid;place-items:center;}",
    ".mdm-icon:hover{background:rgba(255,255,255,.16);}",
    ".mdm-icon svg{width:20px;height:20px;}",
    // log
    ".mdm-log{flex:1;min-height:0;overflow-y:auto;padding:16px 14px 8px;background:#fff;display:flex;",
    "flex-direction:column;gap:10px;scroll-behavior:smooth;}",
    ".mdm-msg{display:flex;flex-direction:column;max-width:86%;}",
    ".mdm-msg[data-from=user]{align-self:flex-end;align-items:flex-end;}",
    ".mdm-msg:not([data-from=user]){align-self:flex-start;align-items:flex-start;}",
    ".mdm-bubble{padding:9px 13px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;",
    "word-break:normal;}",
    ".mdm-msg[dir=rtl] .mdm-bubble{font-size:16px;line-height:1.7;}", // Arabic script reads small
    ".mdm-msg[data-from=bot] .mdm-bubble{background:var(--bot);border-end-start-radius:5px;}",
    ".mdm-msg[data-from=user] .mdm-bubble{background:var(--green);color:#fff;border-end-end-radius:5px;}",
    ".mdm-msg[data-from=staff] .mdm-bubble,.mdm-msg[data-from=system] .mdm-bubble{background:#fff8e6;",
    "border:1px solid #f1d58a;border-end-start-radius:5px;}",
    ".mdm-tag{font-size:11.5px;font-weight:700;color:#8a5a00;margin:0 4px 3px;}",
    ".mdm-link{color:#0b57a4;text-decoration:underline;text-underline-offset:2px;}",
    ".mdm-msg[data-from=user] .mdm-link{color:#fff;}",
    ".mdm-note{font-size:11.5px;color:var(--muted);margin:3px 4px 0;}",
    ".mdm-note[data-state=failed]{color:var(--red);font-weight:600;}",
    // "waiting to be sent" only shows when delivery is being retried, not during a normal send
    ".mdm-note[data-state=pending]{display:none;}",
    ".mdm-offline .mdm-note[data-state=pending]{display:block;}",
    ".mdm-offline .mdm-msg[data-state=pending] .mdm-bubble{opacity:.7;}",
    ".mdm-buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px;}",
    ".mdm-chip{border:1px solid var(--green);background:#fff;color:var(--green);border-radius:999px;",
    "padding:6px 12px;font-size:13.5px;line-height:1.3;cursor:pointer;text-align:start;",
    "transition:background .12s ease;}",
    ".mdm-chip:hover{background:var(--green-soft);}",
    // typing
    ".mdm-typing{align-self:flex-start;background:var(--bot);border-radius:16px;",
    "border-end-start-radius:5px;padding:12px 14px;display:flex;gap:4px;}",
    ".mdm-typing i{width:7px;height:7px;border-radius:50%;background:#8a958f;display:block;",
    "animation:mdm-dot 1.2s infinite ease-in-out;}",
    ".mdm-typing i:nth-child(2){animation-delay:.15s;}.mdm-typing i:nth-child(3){animation-delay:.3s;}",
    "@keyframes mdm-dot{0%,60%,100%{opacity:.35;transform:translateY(0);}30%{opacity:1;transform:translateY(-3px);}}",
    // status and composer
    ".mdm-status{display:flex;align-items:center;gap:8px;padding:7px 14px;font-size:13px;",
    "background:#fdecea;color:#8c1d18;border-top:1px solid #f5c6c2;}",
    ".mdm-status .mdm-dot{width:8px;height:8px;border-radius:50%;background:var(--red);flex:none;}",
    ".mdm-status .mdm-countdown{color:#a4443e;}",
    ".mdm-retry{margin-inline-start:auto;border:1px solid #c1272d;background:#fff;color:#8c1d18;",
    "border-radius:999px;padding:3px 10px;font-size:12.5px;cursor:pointer;}",
    ".mdm-composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px 12px;",
    "border-top:1px solid var(--line);background:#fff;}",
    ".mdm-input{flex:1;resize:none;min-height:42px;max-height:132px;padding:10px 12px;border-radius:12px;",
    "border:1px solid #cfd8d3;background:#fafcfb;line-height:1.4;font-size:15px;}",
    ".mdm-input::placeholder{color:#7b8680;}",
    ".mdm-input:focus{background:#fff;border-color:var(--green);}",
    ".mdm-send{flex:none;width:42px;height:42px;border:0;border-radius:12px;cursor:pointer;color:#fff;",
    "background:var(--green);display:grid;place-items:center;}",
    ".mdm-send:hover{background:var(--green-2);}",
    "[dir=rtl] .mdm-send svg{transform:scaleX(-1);}",
    // visible focus everywhere (keyboard users)
    ":focus{outline:none;}",
    ":focus-visible{outline:3px solid var(--red);outline-offset:2px;}",
    ".mdm-header :focus-visible,.mdm-launcher:focus-visible{outline-color:#fff;",
    "box-shadow:0 0 0 5px var(--red);}",
    ".mdm-input:focus-visible{outline:3px solid var(--green);outline-offset:1px;}",
    ".mdm-log:focus-visible{outline-offset:-3px;}",
    // phones: the panel takes the whole screen
    "@media (max-width:480px){",
    ".mdm-panel,.mdm-left .mdm-panel{inset:0;width:100%;height:100%;height:100dvh;border-radius:0;}",
    ".mdm-root.mdm-open .mdm-launcher{display:none;}",
    ".mdm-launcher{bottom:16px;right:16px;}.mdm-left .mdm-launcher{left:16px;}",
    ".mdm-input{font-size:16px;}", // no zoom on focus (iOS)
    ".mdm-msg{max-width:90%;}",
    "}",
    "@media (prefers-reduced-motion:reduce){.mdm-panel,.mdm-typing i{animation:none;}",
    ".mdm-log{scroll-behavior:auto;}.mdm-launcher{transition:none;}}",
    "@media (forced-colors:active){.mdm-bubble,.mdm-chip,.mdm-input{border:1px solid CanvasText;}}",
  ].join("");

  // ---------------------------------------------------------------------------------------
  // Build the widget
  // ---------------------------------------------------------------------------------------

  var host = el("div", null, { id: "mdm-widget", "data-mdm-widget": "" });
  var shadow = host.attachShadow({ mode: "open" });
  try {
    var sheet = new CSSStyleSheet(); // not subject to the page's style-src CSP
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (e) {
    var style = document.createElement("style");
    style.textContent = CSS;
    shadow.appendChild(style);
  }

  var root = el("div", "mdm-root" + (config.position === "left" ? " mdm-left" : ""));
  var launcher = el("button", "mdm-launcher", { type: "button", "aria-controls": "mdm-panel" });
  var chatIcon = icon("chat");
  chatIcon.setAttribute("class", "mdm-i-chat");
  var closeIcon = icon("close");
  closeIcon.setAttribute("class", "mdm-i-close");
  launcher.appendChild(chatIcon);
  launcher.appendChild(closeIcon);
  var badge = el("span", "mdm-badge", { "aria-hidden": "true" });
  launcher.appendChild(badge);

  var panel = el("section", "mdm-panel", { id: "mdm-panel", role: "dialog", "aria-modal": "false" });
  var header = el("div", "mdm-header");
  var avatar = el("div", "mdm-avatar", { "aria-hidden": "true" });
  avatar.appendChild(icon("star"));
  var titles = el("div", "mdm-titles");
  var title = el("h2", "mdm-title", { id: "mdm-title" });
  titles.appendChild(title);
  var langLabel = el("label", "mdm-sr", { for: "mdm-lang" });
  var langSelect = el("select", "mdm-lang", { id: "mdm-lang" });
  LANGS.forEach(function (code) {
    var option = el("option", null, {
      value: code,
      lang: HTML_LANG[code],
      dir: RTL_LANGS.indexOf(code) >= 0 ? "rtl" : "ltr",
    });
    option.textContent = LANG_NAMES[code];
    langSelect.appendChild(option);
  });
  var resetButton = el("button", "mdm-icon mdm-reset", { type: "button" });
  resetButton.appendChild(icon("reset"));
  var closeButton = el("button", "mdm-icon mdm-close", { type: "button" });
  closeButton.appendChild(icon("close"));
  titles.appendChild(langLabel);
  titles.appendChild(langSelect);
  [avatar, titles, resetButton, closeButton].forEach(function (n) {
    header.appendChild(n);
  });

  var log = el("div", "mdm-log", { role: "log", "aria-live": "polite", tabindex: "0" });
  var typing = el("div", "mdm-typing", { "aria-hidden": "true" });
  typing.appendChild(el("i"));
  typing.appendChild(el("i"));
  typing.appendChild(el("i"));
  typing.hidden = true;
  log.appendChild(typing);
  var typingStatus = el("div", "mdm-sr", { role: "status" });

  var status = el("div", "mdm-status");
  status.hidden = true;
  var statusLive = el("span", null, { role: "status" });
  var countdown = el("span", "mdm-countdown", { "aria-hidden": "true" });
  var retryButton = el("button", "mdm-retry", { type: "button" });
  status.appendChild(el("span", "mdm-dot", { "aria-hidden": "true" }));
  status.appendChild(statusLive);
  status.appendChild(countdown);
  status.appendChild(retryButton);

  var form = el("form", "mdm-composer");
  var inputLabel = el("label", "mdm-sr", { for: "mdm-input" });
  var input = el("textarea", "mdm-input", {
    id: "mdm-input",
    rows: "1",
    maxlength: String(MAX_CHARS),
    autocomplete: "off",
  });
  var sendButton = el("button", "mdm-send", { type: "submit" });
  sendButton.appendChild(icon("send"));
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendButton);

  [header, log, typingStatus, status, form].forEach(function (n) {
    panel.appendChild(n);
  });
  root.appendChild(launcher);
  root.appendChild(panel);
  shadow.appendChild(root);

  // ---------------------------------------------------------------------------------------
  // Rendering
  // ---------------------------------------------------------------------------------------

  function applyLanguage() {
    var rtl = RTL_LANGS.indexOf(state.lang) >= 0;
    panel.setAttribute("lang", HTML_LANG[state.lang]);
    panel.setAttribute("dir", rtl ? "rtl" : "ltr");
    langSelect.value = state.lang;
    title.textContent = t("heading");
    panel.setAttribute("aria-label", t("title"));
    langLabel.textContent = t("language");
    langSelect.setAttribute("aria-label", t("language"));
    resetButton.setAttribute("aria-label", t("reset"));
    resetButton.title = t("reset");
    closeButton.setAttribute("aria-label", t("close"));
    closeButton.title = t("close");
    log.setAttribute("aria-label", t("log"));
    inputLabel.textContent = t("input");
    input.placeholder = t("placeholder");
    sendButton.setAttribute("aria-label", t("send"));
    sendButton.title = t("send");
    retryButton.textContent = t("retryNow");
    statusLive.textContent = status.hidden ? "" : t("offline");
    renderLauncher();
  }

  function renderLauncher() {
    var label = t("open");
    if (state.unread > 0) label += " (" + state.unread + " " + t("unread") + ")";
    launcher.setAttribute("aria-label", state.open ? t("close") : label);
    launcher.setAttribute("aria-expanded", state.open ? "true" : "false");
    launcher.title = state.open ? t("close") : t("open");
    badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    badge.hidden = state.unread === 0 || state.open;
  }

  function renderItem(item) {
    var from = item.from;
    var row = el("div", "mdm-msg", { "data-from": from, "data-id": item.id });
    row.setAttribute("dir", textDir(item.text || (item.buttons && item.buttons.length ? item.buttons[0].title : "")));
    if (from === "staff" || from === "system") {
      var tag = el("div", "mdm-tag");
      tag.textContent = t(from);
      row.appendChild(tag);
    }
    if (item.text || item.image) {
      var bubble = el("div", "mdm-bubble");
      var who = el("span", "mdm-sr");
      who.textContent = (from === "user" ? t("you") : t("bot")) + " ";
      bubble.appendChild(who);
      if (item.text) appendRichText(bubble, item.text);
      if (item.image) {
        if (item.text) bubble.appendChild(document.createTextNode("\n"));
        appendRichText(bubble, item.image);
      }
      row.appendChild(bubble);
    }
    if (item.state) {
      row.setAttribute("data-state", item.state);
      var note = el("div", "mdm-note", { "data-state": item.state });
      note.textContent = t(item.state);
      row.appendChild(note);
    }
    if (item.buttons && item.buttons.length) {
      var group = el("div", "mdm-buttons", { role: "group" });
      item.buttons.forEach(function (button) {
        var chip = el("button", "mdm-chip", { type: "button", dir: "auto" });
        chip.textContent = String(button.title);
        chip.addEventListener("click", function () {
          pressButton(button);
        });
        group.appendChild(chip);
      });
      row.appendChild(group);
    }
    return row;
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function scrollToBottom() {
    log.scrollTop = log.scrollHeight;
  }

  function appendRow(item, forceScroll) {
    var stick = forceScroll || nearBottom();
    log.insertBefore(renderItem(item), typing);
    if (stick) scrollToBottom();
  }

  function renderAll() {
    Array.prototype.slice.call(log.querySelectorAll(".mdm-msg")).forEach(function (n) {
      n.remove();
    });
    state.items.forEach(function (item) {
      log.insertBefore(renderItem(item), typing);
    });
    scrollToBottom();
  }

  function rerenderItem(item) {
    var old = log.querySelector('.mdm-msg[data-id="' + item.id + '"]');
    if (old) old.replaceWith(renderItem(item));
  }

  function addItem(item, forceScroll) {
    item.id = item.id || randomId().slice(0, 12);
    state.items.push(item);
    appendRow(item, forceScroll);
    if (!state.open && item.from !== "user") {
      state.unread += 1;
      renderLauncher();
    }
    return item;
  }

  /** A bot message from the webhook reply or the outbox, in the REST channel's format. */
  function addBotMessage(message, from, outboxId) {
    var buttons = Array.isArray(message.buttons)
      ? message.buttons
          .filter(function (b) {
            return b && typeof b.title === "string" && typeof b.payload === "string";
          })
          .map(function (b) {
            return { title: b.title, payload: b.payload };
          })
      : [];
    var text = typeof message.text === "string" ? message.text : "";
    var image = typeof message.image === "string" && safeHref(message.image) ? message.image : "";
    if (!text && !image && !buttons.length) return; // custom payloads are not shown
    var item = { from: from || "bot", text: text };
    if (buttons.length) item.buttons = buttons;
    if (image) item.image = image;
    if (outboxId) item.oid = outboxId;
    addItem(item);
  }

  var typingTimer = null;
  function showTyping(on) {
    clearTimeout(typingTimer);
    if (on) {
      // A short delay: quick answers do not flash the indicator.
      typingTimer = setTimeout(function () {
        var stick = nearBottom();
        typing.hidden = false;
        typingStatus.textContent = t("typing");
        if (stick) scrollToBottom();
      }, 250);
    } else {
      typing.hidden = true;
      typingStatus.textContent = "";
    }
  }

  var countdownTimer = null;
  function setOffline(offline, retryAt) {
    clearInterval(countdownTimer);
    status.hidden = !offline;
    root.classList.toggle("mdm-offline", offline);
    if (!offline) {
      statusLive.textContent = "";
      countdown.textContent = "";
      return;
    }
    if (statusLive.textContent !== t("offline")) statusLive.textContent = t("offline");
    function tick() {
      var seconds = retryAt ? Math.max(0, Math.ceil((retryAt - Date.now()) / 1000)) : 0;
      countdown.textContent = seconds ? t("retryIn").replace("{s}", String(seconds)) : "";
    }
    tick();
    if (retryAt) countdownTimer = setInterval(tick, 500);
  }

  // ---------------------------------------------------------------------------------------
  // Sending: a persistent queue, delivered in order, retried with backoff
  // ---------------------------------------------------------------------------------------

  function findItem(id) {
    for (var i = state.items.length - 1; i >= 0; i--) {
      if (state.items[i].id === id) return state.items[i];
    }
    return null;
  }

  /** Queue a message; display is what the transcript shows (null: nothing). */
  function enqueue(message, display) {
    var item = null;
    if (display) item = addItem({ from: "user", text: display, state: "pending" }, true);
    state.queue.push({ id: randomId(), message: message, item: item ? item.id : null, lang: state.lang });
    save();
    pump();
  }

  function settle(job, itemState) {
    var item = job.item ? findItem(job.item) : null;
    if (item) {
      if (itemState) item.state = itemState;
      else delete item.state;
      rerenderItem(item);
    }
  }

  function timeoutSignal() {
    if (typeof AbortController === "undefined") return {};
    var controller = new AbortController();
    setTimeout(function () {
      controller.abort();
    }, REQUEST_TIMEOUT_MS);
    return { signal: controller.signal };
  }

  /** One delivery attempt: "ok" with the replies, "retry" (network, 5xx) or "refused" (4xx). */
  function deliver(job) {
    var options = timeoutSignal();
    options.method = "POST";
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify({
      sender: state.sender,
      message: job.message,
      metadata: { language: job.lang },
    });
    return fetch(WEBHOOK, options).then(
      function (response) {
        if (response.ok) {
          return response.json().then(
            function (replies) {
              return { outcome: "ok", replies: Array.isArray(replies) ? replies : [] };
            },
            function () {
              return { outcome: "ok", replies: [] };
            }
          );
        }
        var transient = response.status >= 500 || response.status === 408 || response.status === 429;
        return { outcome: transient ? "retry" : "refused" };
      },
      function () {
        return { outcome: "retry" }; // network error, offline, timeout
      }
    );
  }

  var pumping = false;
  var attempt = 0;
  var wake = null; // resolves the current retry wait early

  function waitBeforeRetry() {
    attempt += 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, attempt - 1));
    delay = Math.round(delay * (0.8 + Math.random() * 0.4));
    setOffline(true, Date.now() + delay);
    return new Promise(function (resolve) {
      var timer = setTimeout(done, delay);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });
  }

  function retryNow() {
    if (wake) wake();
  }

  function pump() {
    if (pumping) return;
    pumping = true;
    (function next() {
      var job = state.queue[0];
      if (!job) {
        pumping = false;
        showTyping(false);
        return;
      }
      showTyping(true);
      deliver(job).then(function (result) {
        showTyping(false);
        if (result.outcome === "retry") {
          waitBeforeRetry().then(next);
          return;
        }
        attempt = 0;
        setOffline(false);
        state.queue.shift();
        settle(job, result.outcome === "ok" ? null : "failed");
        if (result.outcome === "ok") {
          result.replies.forEach(function (reply) {
            addBotMessage(reply, "bot");
          });
        }
        save();
        next();
      });
    })();
  }

  function submitInput() {
    var text = input.value.replace(/\s+$/, "");
    if (!text.trim()) return;
    input.value = "";
    autosize();
    enqueue(text.slice(0, MAX_CHARS), text.slice(0, MAX_CHARS));
  }

  var CHANGE_LANGUAGE = /^\/change_language\s*(\{.*\})\s*$/;

  function pressButton(button) {
    var m = CHANGE_LANGUAGE.exec(button.payload);
    if (m) {
      try {
        var code = normaliseLang(JSON.parse(m[1]).language);
        if (code) setLanguage(code, false);
      } catch (e) {
        /* not JSON: the assistant will ask */
      }
    }
    enqueue(button.payload, button.title);
  }

  function setLanguage(code, tellAssistant) {
    code = normaliseLang(code);
    if (!code) return;
    var changed = code !== state.lang;
    state.lang = code;
    state.langChosen = true;
    applyLanguage();
    if (changed) renderAll(); // screen-reader prefixes and notes in the new language
    save();
    if (tellAssistant) enqueue('/change_language{"language": "' + code + '"}', null);
  }

  // ---------------------------------------------------------------------------------------
  // Receiving pushed messages: poll the outbox (often while open, rarely while closed)
  // ---------------------------------------------------------------------------------------

  var pollTimer = null;
  var polling = false;

  function schedulePoll(ms) {
    clearTimeout(pollTimer);
    if (config.channel !== "widget") return;
    pollTimer = setTimeout(poll, ms);
  }

  function poll() {
    if (polling) return;
    var active = state.open || state.items.length > 0;
    if (document.hidden || !active) {
      schedulePoll(state.open ? config.pollMs : CLOSED_POLL_MS);
      return;
    }
    polling = true;
    var url = OUTBOX + "?sender=" + encodeURIComponent(state.sender) + "&after=" + state.after;
    var options = timeoutSignal();
    options.cache = "no-store";
    var more = false;
    fetch(url, options)
      .then(function (response) {
        if (!response.ok) return null;
        return response.json();
      })
      .then(
        function (body) {
          if (!body || !Array.isArray(body.messages)) return;
          if (!state.queue.length) setOffline(false);
          body.messages.forEach(function (message) {
            var id = Number(message.id) || 0;
            if (id <= state.after) return; // another tab already showed it
            state.after = id;
            var from = message.author === "staff" || message.author === "system" ? message.author : "bot";
            addBotMessage(message, from, id);
          });
          more = body.messages.length >= 50;
          save();
        },
        function () {
          // Say so when the browser knows it is offline; a retrying send keeps its countdown.
          if (status.hidden && !navigator.onLine) setOffline(true, null);
        }
      )
      .then(function () {
        polling = false;
        schedulePoll(more ? 50 : state.open ? config.pollMs : CLOSED_POLL_MS);
      });
  }

  // ---------------------------------------------------------------------------------------
  // Opening, closing, keyboard
  // ---------------------------------------------------------------------------------------

  function setOpen(open, moveFocus) {
    state.open = open;
    panel.hidden = !open;
    root.classList.toggle("mdm-open", open);
    if (open) {
      state.unread = 0;
      scrollToBottom();
      if (!state.items.length && !state.queue.length) enqueue("/greet", null);
      if (moveFocus) input.focus();
      schedulePoll(0);
    } else if (moveFocus) {
      launcher.focus();
    }
    renderLauncher();
    save();
  }

  function autosize() {
    // Empty: the panel's direction (an Arabic placeholder sits on the right); typed text:
    // its own direction, whatever the interface language.
    if (input.value.trim()) input.setAttribute("dir", "auto");
    else input.removeAttribute("dir");
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 132) + "px";
  }

  function reset() {
    state = freshState();
    state.open = true;
    state.lang = langSelect.value;
    state.langChosen = true;
    attempt = 0;
    setOffline(false);
    renderAll();
    save();
    enqueue("/greet", null);
    input.focus();
  }

  launcher.addEventListener("click", function () {
    setOpen(!state.open, true);
  });
  closeButton.addEventListener("click", function () {
    setOpen(false, true);
  });
  resetButton.addEventListener("click", function () {
    if (window.confirm(t("confirmReset"))) reset();
  });
  retryButton.addEventListener("click", retryNow);
  langSelect.addEventListener("change", function () {
    setLanguage(langSelect.value, true);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitInput();
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitInput();
    }
  });
  input.addEventListener("input", autosize);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.stopPropagation();
      setOpen(false, true);
    }
  });
  window.addEventListener("online", function () {
    retryNow();
    schedulePoll(0);
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) schedulePoll(0);
  });
  // Another tab of the same site spoke: show the same transcript.
  window.addEventListener("storage", function (event) {
    if (event.key !== STORAGE_KEY || !event.newValue) return;
    var other = readStored();
    if (!other) return;
    var queue = state.queue;
    var open = state.open;
    state = other;
    state.queue = queue;
    state.open = open;
    applyLanguage();
    renderAll();
  });

  // ---------------------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------------------

  applyLanguage();
  renderAll(); // before the host is in the page: the restored transcript is not announced
  panel.hidden = !state.open;
  root.classList.toggle("mdm-open", state.open);
  renderLauncher();

  function start() {
    document.body.appendChild(host);
    scrollToBottom();
    if (state.open) setOpen(true, false);
    if (state.queue.length) pump(); // messages left undelivered by the previous page
    schedulePoll(0);
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);

  /** A small API for the host page. */
  window.MDMWidget = {
    open: function () {
      setOpen(true, true);
    },
    close: function () {
      setOpen(false, false);
    },
    send: function (text) {
      if (typeof text === "string" && text.trim()) enqueue(text.slice(0, MAX_CHARS), text.slice(0, MAX_CHARS));
    },
    setLanguage: function (code) {
      setLanguage(code, true);
    },
    reset: reset,
    get sender() {
      return state.sender;
    },
  };
})();
