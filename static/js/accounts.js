// Account forms: offer only the areas where the chosen role may be given.
// Each area <option> carries data-roles="resident steward ..." (filled by the server).
(function () {
  'use strict';
  document.querySelectorAll('form[data-role-filter]').forEach(function (form) {
    var role = form.querySelector('select[name="role"]');
    var area = form.querySelector('select[name="area_id"]');
    if (!role || !area) { return; }
    function apply() {
      var chosen = role.value;
      Array.prototype.forEach.call(area.options, function (opt) {
        var roles = (opt.getAttribute('data-roles') || '').split(' ');
        var fits = !opt.value || !chosen || roles.indexOf(chosen) !== -1;
        opt.hidden = !fits;
        opt.disabled = !fits;
      });
      var selected = area.options[area.selectedIndex];
      if (selected && selected.disabled) { area.value = ''; }
    }
    role.addEventListener('change', apply);
    apply();
  });
}());
