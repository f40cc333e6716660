// Household pages: confirm card revoke/reissue, and switch community as soon as it is picked.
// Kept out of the templates: the Content-Security-Policy forbids inline scripts.
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
      // A new community has other buildings: drop the filters that belong to the old one.
      var form = select.form;
      ["q", "building", "status", "card", "page"].forEach(function (name) {
        var el = form.elements[name];
        if (el) { el.value = ""; }
      });
      form.submit();
    });
  });
})();
