// Filter the page to the failed load tests; the page works (all tests shown) without this script too.
(function () {
  "use strict";
  var box = document.getElementById("lt-failed-only");
  function apply() {
    var only = box.checked;
    document.querySelectorAll("[data-outcome]").forEach(function (node) {
      node.classList.toggle("lt-hidden", only && node.getAttribute("data-outcome") === "passed");
    });
  }
  box.addEventListener("change", apply);
  apply();
  document.documentElement.setAttribute("data-ready", "true");
})();
