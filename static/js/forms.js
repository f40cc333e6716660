// Shared behaviour of the managers' pages, kept out of the templates (the CSP forbids inline
// scripts): confirm dangerous actions, switch community as soon as one is picked (dropping the
// filters named in data-reset, which belong to the old community), select one-time tokens.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      var form = select.form;
      (select.getAttribute("data-reset") || "").split(" ").forEach(function (name) {
        var el = name && form.elements[name];
        if (el) { el.value = ""; }
      });
      form.submit();
    });
  });
  document.querySelectorAll("input[data-copy]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
    input.focus();
  });
})();
