// Tables that fit (issue 19): under 640 px every table in a .table-wrap (or marked
// .table-cards) shows each row as a card, each cell on a line with its column's heading
// (static/css/app.css). The heading comes from the cell's data-label; a template that gives
// none gets it here from the table's header row (colspans counted), so no page needs its
// own copy of the headings.
(function () {
  "use strict";
  function label(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) { return; }
    var names = [];
    Array.prototype.forEach.call(head.cells, function (th) {
      var text = (th.textContent || "").replace(/\s+/g, " ").trim();
      for (var i = 0; i < (th.colSpan || 1); i += 1) { names.push(text); }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && names[col] && cell.colSpan === 1) {
            cell.setAttribute("data-label", names[col]);
          }
          col += cell.colSpan || 1;
        });
      });
    });
  }
  function run() {
    document.querySelectorAll(".table-wrap > table, table.table-cards").forEach(label);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
}());
