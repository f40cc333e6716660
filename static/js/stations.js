// Station, device and drop pages: confirm dangerous actions, switch community when picked,
// and select the one-time device token for copying. No inline scripts (CSP).
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
      // Another community has other stations: drop the filters that belonged to the old one.
      var form = select.form;
      ["station_id", "q", "page"].forEach(function (name) {
        var el = form.elements[name];
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
