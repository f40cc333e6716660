// The hours approval list, kept out of the template (the CSP forbids inline scripts): a
// "select all" box for the bulk approval, and a confirmation only when the bulk button
// submits (a row's own Approve button submits the same form without asking).
(function () {
  "use strict";
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var name = all.getAttribute("data-select-all");
    var boxes = all.form ? all.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]') : [];
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  });
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      var question = button && button.getAttribute("data-confirm-submit");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  });
})();
