// The hours approval list, kept out of the template (the CSP forbids inline scripts): a
// "select all" box for the bulk approval (indeterminate while only some rows are ticked), the
// sticky bar's count of ticked rows, and a confirmation only when the bulk button submits (a
// row's own Approve button submits the same form without asking). The bulk button with
// nothing ticked says "Select at least one shift" at once, with no question first.
(function () {
  "use strict";
  function boxesOf(form, name) {
    return form ? Array.from(form.querySelectorAll('input[type="checkbox"][name="' + name + '"]')) : [];
  }
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var name = all.getAttribute("data-select-all");
    var form = all.form;
    var boxes = boxesOf(form, name);
    var count = form && form.querySelector("[data-testid=hours-selected-count]");
    var none = form && form.querySelector("[data-testid=hours-select-none]");
    function update() {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
      if (count) { count.textContent = count.getAttribute("data-template").replace("__N__", String(ticked)); }
      if (none && ticked) { none.hidden = true; }
    }
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      update();
    });
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();  // a reload may keep ticks
  });
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      var needs = button && button.getAttribute("data-require-selected");
      if (needs && !boxesOf(form, needs).some(function (box) { return box.checked; })) {
        event.preventDefault();
        var none = form.querySelector("[data-testid=hours-select-none]");
        if (none) { none.hidden = false; }
        return;
      }
      var question = button && button.getAttribute("data-confirm-submit");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  });
})();
