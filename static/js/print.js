// Printed forms (slips, the register, the monthly report): the toolbar's Print button. A file,
// not an inline script, so that the Content Security Policy can refuse every inline script.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
