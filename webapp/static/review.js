// The reviewer's scoring form: the weighted total, computed live as the server computes it
// (sum of score x weight over the criteria, divided by the sum of the weights), shown only when
// every criterion has a score; and a confirmation before the final submission.
(function () {
  var form = document.querySelector("[data-review-form]");
  if (!form) { return; }
  var output = form.querySelector("[data-weighted-total]");

  function recompute() {
    var fieldsets = form.querySelectorAll("[data-criterion]");
    var total = 0, weights = 0, complete = fieldsets.length > 0;
    fieldsets.forEach(function (fieldset) {
      var weight = parseFloat(fieldset.getAttribute("data-weight")) || 0;
      var checked = fieldset.querySelector("input[type=radio]:checked");
      if (!checked) { complete = false; return; }
      total += parseFloat(checked.value) * weight;
      weights += weight;
    });
    if (output) {
      output.textContent = complete && weights > 0 ? (Math.round(total / weights * 100) / 100).toFixed(2) : "—";
    }
  }

  form.addEventListener("change", recompute);
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm-submit");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  recompute();
})();
