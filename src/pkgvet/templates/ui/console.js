// pkgvet triage console: the only script, served as a file (CSP forbids inline scripts).
// It submits the queue filters when a select changes, and asks before blocking.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.filters select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  var decide = document.getElementById("decide");
  if (decide) {
    decide.addEventListener("submit", function (event) {
      var chosen = decide.querySelector("input[name=action]:checked");
      if (chosen && chosen.value === "block" &&
          !window.confirm("Block this file in the proxy for everyone?")) {
        event.preventDefault();
      }
    });
  }
});
