// Progress of background jobs: <div data-progress-url="..."> holding a <progress> element,
// [data-progress-text] and [data-progress-status]; polled until the jobs are done or failed.
(function () {
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  var status = box.querySelector("[data-progress-status]");
  function poll() {
    fetch(box.getAttribute("data-progress-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (bar) { bar.max = data.total || 1; bar.value = data.done; }
        if (text) { text.textContent = data.done + " / " + data.total; }
        if (status) { status.textContent = data.status_label || data.status; }
        box.setAttribute("data-status", data.status);
        if (data.status === "queued" || data.status === "running") { window.setTimeout(poll, 1500); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  poll();
})();
