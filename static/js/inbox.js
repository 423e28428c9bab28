/* The inbox, live: polls the parts of the page that change, counts SMS segments as staff type, and puts
   canned replies into the reply box. No inline scripts (the CSP is script-src 'self'); the page says what to
   do through data attributes. */
(function () {
  "use strict";

  // --- Segments: the same rules as messaging/segments.py (the server counts again when it sends). ---------
  var GSM7_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENSION = "\f^{}\\[~]|€";
  var SINGLE = { "GSM-7": 160, "UCS-2": 70 };
  var CONCATENATED = { "GSM-7": 153, "UCS-2": 67 };

  function segmentInfo(text) {
    var chars = Array.from(text); // code points, so an emoji is one character costing two UTF-16 units
    var gsm = chars.every(function (c) { return GSM7_BASIC.indexOf(c) >= 0 || GSM7_EXTENSION.indexOf(c) >= 0; });
    var encoding = gsm ? "GSM-7" : "UCS-2";
    var costs = chars.map(function (c) {
      if (gsm) return GSM7_EXTENSION.indexOf(c) >= 0 ? 2 : 1;
      return c.codePointAt(0) > 0xFFFF ? 2 : 1;
    });
    var units = costs.reduce(function (a, b) { return a + b; }, 0);
    var single = SINGLE[encoding];
    if (units <= single) {
      return { encoding: encoding, units: units, segments: text ? 1 : 0, perSegment: single, remaining: single - units };
    }
    var per = CONCATENATED[encoding], segments = 1, used = 0;
    costs.forEach(function (cost) {
      if (used + cost > per) { segments += 1; used = 0; }
      used += cost;
    });
    return { encoding: encoding, units: units, segments: segments, perSegment: per, remaining: per - used };
  }

  function describe(info) {
    if (!info.units) return "";
    var text = info.segments + (info.segments === 1 ? " segment" : " segments") + " · " + info.remaining + " left · " + info.encoding;
    if (info.encoding === "UCS-2") text += " (emoji or special characters make texts shorter)";
    return text;
  }

  function wireCounter(input) {
    var form = input.closest("form");
    var out = form && form.querySelector("[data-segment-counter]");
    if (!out) return;
    var update = function () {
      var info = segmentInfo(input.value);
      out.textContent = describe(info);
      out.classList.toggle("warn", info.segments > 1);
    };
    input.addEventListener("input", update);
    update();
  }

  // --- Canned replies: a tap puts the text where the cursor is. ------------------------------------------
  function insertCanned(button) {
    var form = button.closest("form");
    var box = form && form.querySelector("textarea");
    if (!box) return;
    var text = button.getAttribute("data-insert");
    var start = box.selectionStart != null ? box.selectionStart : box.value.length;
    var end = box.selectionEnd != null ? box.selectionEnd : box.value.length;
    var before = box.value.slice(0, start), after = box.value.slice(end);
    var gap = before && !/\s$/.test(before) ? " " : "";
    box.value = before + gap + text + after;
    var caret = (before + gap + text).length;
    box.focus();
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // --- Live: fetch this same URL (or the one the part names), asking for just the changing part. ---------
  // On a desktop the thread scrolls inside its pane; on a phone the page scrolls. Either way a reader at the
  // bottom stays at the bottom when a text arrives, and one reading back is left where they are.
  function scrollsItself(el) {
    var overflow = window.getComputedStyle(el).overflowY;
    return (overflow === "auto" || overflow === "scroll") && el.scrollHeight > el.clientHeight;
  }

  function nearBottom(el) {
    if (scrollsItself(el)) return el.scrollTop + el.clientHeight >= el.scrollHeight - 120;
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  }

  function toBottom(el) {
    if (scrollsItself(el)) el.scrollTop = el.scrollHeight;
    else window.scrollTo(0, document.documentElement.scrollHeight);
  }

  function poll(target) {
    var interval = parseInt(target.getAttribute("data-poll-interval"), 10) || 5000;
    var url = target.getAttribute("data-poll-url") || window.location.href;
    var last = target.innerHTML;
    var busy = false;
    var tick = function () {
      if (busy) return;
      busy = true;
      fetch(url, { headers: { "X-Inbox-Poll": "1" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.redirected || !response.ok) {
            if (response.redirected || response.status === 404) window.location.reload(); // logged out, or gone
            return null;
          }
          return response.text();
        })
        .then(function (html) {
          if (html == null || html === last) return;
          var stick = target.hasAttribute("data-stick-bottom") && nearBottom(target);
          var scrolled = target.scrollTop;
          last = html;
          target.innerHTML = html;
          if (!target.hasAttribute("data-poll-keep-title")) setTitle(target);
          if (stick) toBottom(target);
          else target.scrollTop = scrolled;
        })
        .catch(function () { /* offline for a moment: the next tick tries again */ })
        .then(function () { busy = false; });
    };
    window.setInterval(tick, interval);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
  }

  function setTitle(scope) {
    var titled = scope.querySelector("[data-title]");
    if (titled) document.title = titled.getAttribute("data-title");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-insert]");
    if (button) { event.preventDefault(); insertCanned(button); }
  });

  function start() {
    document.querySelectorAll("[data-segment-input]").forEach(wireCounter);
    document.querySelectorAll("[data-poll]").forEach(poll);
    // A thread opens at its newest message, with the reply box in view.
    var timeline = document.querySelector("[data-stick-bottom]");
    if (timeline && !window.location.hash) toBottom(timeline);
    var open = document.querySelector(".conversation.is-open");
    if (open && open.scrollIntoView) open.scrollIntoView({ block: "nearest" });
  }

  window.textbackSegmentInfo = segmentInfo; // for the browser test that checks it against the server's count
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
