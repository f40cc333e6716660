/* A photo input drawn as a button in the page's language (templates/_file_pick.html): names
   the chosen photo beside its button, or how many were chosen, or that none is. */
(function () {
  "use strict";
  document.querySelectorAll(".file-pick-input").forEach((input) => {
    const name = input.parentElement.querySelector(".file-pick-name");
    if (!name) { return; }
    const show = () => {
      const files = input.files || [];
      if (files.length === 0) { name.textContent = name.dataset.none; }
      else if (files.length === 1) { name.textContent = files[0].name; }
      else { name.textContent = name.dataset.many.replace("{n}", String(files.length)); }
    };
    input.addEventListener("change", show);
    show();  // a reload may keep a chosen file
  });
})();
