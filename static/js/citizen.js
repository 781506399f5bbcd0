// The citizen's pages. Everything works without this script; with it:
// - each chosen file shows its name and size next to its document, and too large a file is
//   pointed out before it is sent;
// - the review of the submission lists the chosen files (and the required ones still missing);
// - a form sends once: its button is disabled while the page is sent (the server also knows
//   a repeated submission by its one-time key).
(function () {
  "use strict";

  var lang = document.documentElement.lang || "vi";

  // After a refused submission, start from the list of what to correct.
  var summary = document.querySelector("main .error-summary");
  if (summary) summary.focus();

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024).toLocaleString(lang) + " KB";
    return (bytes / (1024 * 1024)).toLocaleString(lang, { maximumFractionDigits: 1 }) + " MB";
  }

  function rowName(row) {
    var name = row.querySelector(".upload-name");
    return name ? name.textContent.trim() : "";
  }

  document.querySelectorAll("form").forEach(function (form) {
    var rows = form.querySelectorAll("[data-upload-row]");
    var review = form.querySelector("[data-review-files]");

    function refreshReview() {
      if (!review) return;
      while (review.firstChild) review.removeChild(review.firstChild);
      var listed = 0;
      rows.forEach(function (row) {
        var input = row.querySelector("input[type=file]");
        if (!input) return;
        var file = input.files && input.files[0];
        if (!file && !input.required) return;
        var item = document.createElement("li");
        var label = document.createElement("strong");
        label.textContent = rowName(row) + ": ";
        item.appendChild(label);
        if (file) {
          item.appendChild(document.createTextNode(file.name + " (" + formatSize(file.size) + ")"));
        } else {
          var missing = document.createElement("span");
          missing.className = "error-text";
          missing.textContent = review.getAttribute("data-missing");
          item.appendChild(missing);
        }
        review.appendChild(item);
        listed += 1;
      });
      if (!listed) {
        var none = document.createElement("li");
        none.className = "hint";
        none.textContent = review.getAttribute("data-none");
        review.appendChild(none);
      }
    }

    rows.forEach(function (row) {
      var input = row.querySelector("input[type=file]");
      var info = row.querySelector("[data-file-info]");
      if (!input || !info) return;
      var limit = parseInt(input.getAttribute("data-max-bytes") || "0", 10);
      var show = function () {
        var file = input.files && input.files[0];
        info.hidden = !file;
        info.classList.remove("error-text");
        if (!file) return;
        info.textContent = "✓ " + file.name + " — " + formatSize(file.size);
        if (limit && file.size > limit) {
          info.textContent = "✗ " + file.name + " — " + formatSize(file.size) + " > " + formatSize(limit);
          info.classList.add("error-text");
        }
      };
      input.addEventListener("change", function () { show(); refreshReview(); });
      show();
    });
    refreshReview();

    if (form.hasAttribute("data-submit-once")) {
      form.addEventListener("submit", function () {
        var button = form.querySelector("button[type=submit]");
        if (!button) return;
        // After this event, so that the browser still sends the form.
        window.setTimeout(function () {
          button.disabled = true;
          var busy = button.getAttribute("data-busy-label");
          if (busy) {
            button.setAttribute("data-label", button.textContent);
            button.textContent = busy;
          }
        }, 0);
      });
    }
  });

  // Back to a page kept in the browser's memory: its buttons work again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submit-once] button[disabled]").forEach(function (button) {
      button.disabled = false;
      if (button.getAttribute("data-label")) button.textContent = button.getAttribute("data-label");
    });
  });
})();
