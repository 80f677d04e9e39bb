// The proposal editor: live character counters and autosave of drafts.
// <textarea data-limit="2000"> + <div data-counter-for="ID" data-template="{n} of {limit}" data-over="...">
// <form data-autosave="URL" data-autosave-saved="... {time}" data-autosave-failed="...">: every 15 s,
// if something changed, the form is posted to URL (same fields, same CSRF token); the answer's
// version goes into the form, so the next save (automatic or not) is not taken for a conflict.
(function () {
  "use strict";

  function counters() {
    document.querySelectorAll("textarea[data-limit]").forEach(function (area) {
      var out = document.querySelector('[data-counter-for="' + area.id + '"]');
      var limit = parseInt(area.getAttribute("data-limit"), 10);
      if (!out || !limit) {
        return;
      }
      var update = function () {
        var n = area.value.replace(/\r\n/g, "\n").length;
        var over = n > limit;
        out.textContent = (out.getAttribute(over ? "data-over" : "data-template") || "")
          .replace("{n}", String(n)).replace("{limit}", String(limit));
        out.classList.toggle("text-danger", over);
      };
      area.addEventListener("input", update);
      update();
    });
  }

  function autosave(form) {
    var url = form.getAttribute("data-autosave");
    var status = form.querySelector("[data-autosave-status]");
    var dirty = false;
    var busy = false;
    var stopped = false;
    var submitting = false;

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }

    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    form.addEventListener("submit", function () { submitting = true; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty && !submitting) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    function save() {
      if (!dirty || busy || stopped || submitting) {
        return;
      }
      busy = true;
      dirty = false;
      fetch(url, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) { return { status: response.status, data: data }; });
      }).then(function (answer) {
        busy = false;
        if (answer.data.ok) {
          var version = form.querySelector('input[name="version"]');
          if (version && answer.data.version) {
            version.value = String(answer.data.version);
          }
          var time = new Date().toLocaleTimeString(document.documentElement.lang || undefined,
            { hour: "2-digit", minute: "2-digit" });
          say((form.getAttribute("data-autosave-saved") || "").replace("{time}", time));
          form.setAttribute("data-autosaved", "1");
          return;
        }
        dirty = true;
        if (answer.status === 409 || answer.status === 403) {
          stopped = true;
        }
        say(answer.data.message || form.getAttribute("data-autosave-failed") || "");
      }).catch(function () {
        busy = false;
        dirty = true;
        say(form.getAttribute("data-autosave-failed") || "");
      });
    }

    var every = parseInt(form.getAttribute("data-autosave-every") || "15000", 10);
    window.setInterval(save, every);
  }

  counters();
  document.querySelectorAll("form[data-autosave]").forEach(autosave);
})();
