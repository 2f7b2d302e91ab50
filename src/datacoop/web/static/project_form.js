// The new-project form: show only the settings of the chosen task type, and the hourly rate
// that the pay and the estimate imply, as they are typed, with the currency's decimals. The
// server computes the same rate (integer minor units, rounded down) on preview, so the page
// works without this script.
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

  // The currency's decimals, as the server formats money (from the CLDR via Babel): each
  // choice of the currency list carries them; an unknown code reads as 2, as on the server.
  function decimalsOf(code) {
    var choices = document.getElementById("currency-choices");
    var found = choices && Array.prototype.find.call(choices.options, function (o) {
      return o.value === code;
    });
    var n = found ? parseInt(found.dataset.decimals, 10) : NaN;
    return isNaN(n) ? 2 : n;
  }

  function grouped(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // Minor units as the server's money filter prints them: "36,000 JPY", "25.20 USD".
  function money(minor, code) {
    var places = decimalsOf(code);
    var scale = Math.pow(10, places);
    var units = grouped(String(Math.floor(minor / scale)));
    if (places === 0) { return units + " " + code; }
    return units + "." + String(minor % scale).padStart(places, "0") + " " + code;
  }

  function showHourly() {
    var p = whole(pay), s = whole(seconds);
    if (p === null || s === null || s < 1) { out.textContent = "—"; return; }
    // Integer arithmetic as on the server: minor units per hour, rounded down.
    var minor = Math.floor(p * 3600 / s);
    out.textContent = money(minor, (currency.value || "USD").trim().toUpperCase());
  }

  type.addEventListener("change", showTypeFields);
  [pay, seconds, currency].forEach(function (el) { el.addEventListener("input", showHourly); });
  showTypeFields();
})();
