// Live countdown to a deadline and the deadline in the visitor's own time zone.
// <span data-countdown data-target="ISO" data-template="{d} d {h} h {m} min {s} s" data-done="...">
// <span data-local-wrapper hidden>... <span data-local-time="ISO"></span></span>
(function () {
  "use strict";

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var target = Date.parse(el.getAttribute("data-target"));
      if (isNaN(target)) {
        return;
      }
      var left = Math.floor((target - now) / 1000);
      if (left <= 0) {
        el.textContent = el.getAttribute("data-done") || "";
        return;
      }
      var d = Math.floor(left / 86400);
      var h = Math.floor((left % 86400) / 3600);
      var m = Math.floor((left % 3600) / 60);
      var s = left % 60;
      el.textContent = (el.getAttribute("data-template") || "{d} {h}:{m}:{s}")
        .replace("{d}", String(d))
        .replace("{h}", pad(h))
        .replace("{m}", pad(m))
        .replace("{s}", pad(s));
    });
  }

  function localTimes() {
    var lang = document.documentElement.lang || undefined;
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      zone = "";
    }
    document.querySelectorAll("[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("data-local-time"));
      if (isNaN(when.getTime())) {
        return;
      }
      var text;
      try {
        text = when.toLocaleString(lang, { dateStyle: "full", timeStyle: "short" });
      } catch (e) {
        text = when.toLocaleString();
      }
      el.textContent = zone ? text + " (" + zone + ")" : text;
      var wrapper = el.closest("[data-local-wrapper]");
      if (wrapper) {
        wrapper.hidden = false;
      }
    });
  }

  function start() {
    localTimes();
    tick();
    if (document.querySelector("[data-countdown]")) {
      window.setInterval(tick, 1000);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
