// The dashboard's and results page's small helpers, both optional: the pages work without them.
// 1. Tables marked data-sortable sort by a column when its title is clicked (data-value holds
//    the raw number or text of each cell).
// 2. A text box marked data-unit-filter hides the units of a list whose names do not match.
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    var raw = cell ? cell.getAttribute("data-value") || cell.textContent : "";
    return numeric ? parseFloat(raw) || 0 : raw.trim().toLocaleLowerCase("vi");
  }

  function sortBy(table, header, index) {
    var numeric = header.getAttribute("data-sort") === "number";
    // Numbers sort largest first on the first click; names from A.
    var ascending = header.getAttribute("aria-sort")
      ? header.getAttribute("aria-sort") !== "ascending"
      : !numeric;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric);
      var y = cellValue(b, index, numeric);
      var order = numeric ? x - y : x.localeCompare(y, "vi");
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      if (!header.hasAttribute("data-sort")) return;
      var button = document.createElement("button");
      button.type = "button";
      while (header.firstChild) button.appendChild(header.firstChild);
      header.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, header, index); });
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-unit-filter]"), function (input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) return;
    input.hidden = false;
    input.addEventListener("input", function () {
      var wanted = input.value.trim().toLocaleLowerCase("vi");
      Array.prototype.forEach.call(list.querySelectorAll("li"), function (item) {
        item.hidden = wanted !== "" && item.textContent.toLocaleLowerCase("vi").indexOf(wanted) === -1;
      });
    });
  });
})();
