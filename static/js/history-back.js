// Error pages: "Back to the previous page" goes back in the browser's history when there is
// one, so a form the user filled in comes back with what they typed (following the link
// would load it empty). Without JavaScript the link opens the previous page's address.
(function () {
  "use strict";
  document.querySelectorAll("a[data-history-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  });
})();
