// Honour board (manager page): the Print button prints the board (the CSP forbids inline
// onclick handlers, so the button is wired here).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
