// The new-project form: show only the settings of the chosen task type, and the hourly rate
// that the pay and the estimate imply, as they are typed. The server computes the same rate
// (integer minor units, rounded down) on preview, so the page works without this script.
(function () {
  "use strict";
  var form = document.querySelector(".project-form");
  if (!form) { return; }
  var type = form.querySelector("#task_type");
  var pay = form.querySelector("#pay_per_item");
  var seconds = form.querySelector("#estimated_seconds");
  var currency = form.querySelector("#currency");
  var out = document.getElementById("hourly");

  function showTypeFields() {
    form.querySelectorAll(".type-field").forEach(function (el) {
      var on = el.dataset.types.split(" ").indexOf(type.value) !== -1;
      el.hidden = !on;
      el.querySelectorAll("input, textarea, select").forEach(function (c) { c.disabled = !on; });
    });
  }

  function whole(input) {
    return /^\s*\d{1,12}\s*$/.test(input.value) ? parseInt(input.value, 10) : null;
  }

  function showHourly() {
    var p = whole(pay), s = whole(seconds);
    if (p === null || s === null || s < 1) { out.textContent = "—"; return; }
    // Integer arithmetic as on the server; 2 decimals covers the usual currencies.
    var cents = Math.floor(p * 3600 / s);
    var code = (currency.value || "USD").toUpperCase();
    out.textContent = Math.floor(cents / 100) + "." + String(cents % 100).padStart(2, "0") + " " + code;
  }

  type.addEventListener("change", showTypeFields);
  [pay, seconds, currency].forEach(function (el) { el.addEventListener("input", showHourly); });
  showTypeFields();
})();
