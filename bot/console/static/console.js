// MDM staff console: live queue and transcript (polling), suggestion insertion.
// Everything user-provided is put in the page with textContent, never as HTML.
(function () {
  "use strict";
  var body = document.body;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
  }

  // ---------------------------------------------------------------- queue
  function pollQueue() {
    var tbody = document.getElementById("queue-rows");
    if (!tbody) { return; }
    var labels = tbody.dataset;
    function refresh() {
      getJSON("/api/queue" + window.location.search).then(function (data) {
        ["waiting", "active", "high"].forEach(function (k) {
          var node = document.getElementById("count-" + k);
          if (node) { node.textContent = String(data.counts[k]); }
        });
        var rows = document.createDocumentFragment();
        data.rows.forEach(function (r) {
          var tr = el("tr", "prio-" + r.priority + (r.mine ? " mine" : ""));
          var link = el("a", null, r.ref);
          link.href = "/conversations/" + encodeURIComponent(r.ref);
          var first = el("td"); first.appendChild(link); tr.appendChild(first);
          var prio = el("td"); prio.appendChild(el("span", "badge prio-" + r.priority, labels["l" + r.priority.charAt(0).toUpperCase() + r.priority.slice(1)] || r.priority)); tr.appendChild(prio);
          tr.appendChild(el("td", null, labels["l" + r.status.charAt(0).toUpperCase() + r.status.slice(1)] || r.status));
          var lang = el("td"); lang.appendChild(el("span", "badge" + (r.match ? " match" : ""), r.language)); tr.appendChild(lang);
          tr.appendChild(el("td", null, r.topic));
          tr.appendChild(el("td", null, r.channel));
          tr.appendChild(el("td", null, r.waiting + " " + (labels.lMin || "min")));
          tr.appendChild(el("td", null, r.assigned));
          rows.appendChild(tr);
        });
        if (!data.rows.length) {
          var empty = el("tr", "empty"); var td = el("td", null, labels.empty); td.colSpan = 8; empty.appendChild(td); rows.appendChild(empty);
        }
        tbody.replaceChildren(rows);
      }).catch(function () { /* offline for a moment: try again at the next tick */ });
    }
    window.setInterval(refresh, 3000);
  }

  // ---------------------------------------------------------------- conversation
  function pollConversation() {
    var list = document.getElementById("lines");
    if (!list) { return; }
    var labels = list.dataset;
    var last = parseInt(body.dataset.last || "0", 10) || 0;
    var ref = body.dataset.ref;
    var box = list.parentElement;
    box.scrollTop = box.scrollHeight;
    function line(l) {
      if (l.kind === "user" || l.kind === "bot" || l.kind === "staff") {
        var li = el("li", "msg " + l.kind);
        li.dataset.id = String(l.id);
        var meta = el("div", "meta");
        meta.appendChild(el("span", "who", l.kind === "staff" ? l.staff : (l.kind === "user" ? labels.lUser : labels.lBot)));
        meta.appendChild(el("time", null, new Date(l.at).toLocaleString([], { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" })));
        if (l.intent) { meta.appendChild(el("span", "chip", l.intent + (l.confidence !== null ? " " + Number(l.confidence).toFixed(2) : ""))); }
        if (l.language) { meta.appendChild(el("span", "chip", l.language)); }
        li.appendChild(meta);
        var p = el("p", null, l.text); p.dir = "auto"; li.appendChild(p);
        if (l.buttons && l.buttons.length) {
          var bp = el("p", "buttons");
          l.buttons.forEach(function (b) { var s = el("span", "btnlabel", b); s.dir = "auto"; bp.appendChild(s); });
          li.appendChild(bp);
        }
        return li;
      }
      var key = "l" + l.kind.split("_").map(function (w) { return w.charAt(0).toUpperCase() + w.slice(1); }).join("");
      var marker = el("li", "marker", labels[key] || l.kind);
      marker.dataset.id = String(l.id);
      return marker;
    }
    function refresh() {
      getJSON("/api/conversations/" + encodeURIComponent(ref) + "/events?after=" + last).then(function (data) {
        var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
        data.lines.forEach(function (l) { list.appendChild(line(l)); last = Math.max(last, l.id); });
        if (data.lines.length && atBottom) { box.scrollTop = box.scrollHeight; }
      }).catch(function () { /* try again at the next tick */ });
    }
    window.setInterval(refresh, 2000);
  }

  function suggestionButtons() {
    var area = document.getElementById("reply-text");
    document.querySelectorAll("button.insert").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!area) { return; }
        area.value = (area.value ? area.value + "\n\n" : "") + button.dataset.text;
        area.focus();
      });
    });
  }

  if (body.dataset.poll === "queue") { pollQueue(); }
  if (body.dataset.poll === "conversation") { pollConversation(); suggestionButtons(); }
}());
