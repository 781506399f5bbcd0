// The dossier pages' helpers. Every page works without this script: the procedure search and the
// due-date preview are also buttons that ask the server. With it:
// - the procedure list follows the search box and the receiving unit's level as you type;
// - the due date of a dossier received now is fetched and shown without reloading the page;
// - the postal tracking number shows only for postal dossiers.
(function () {
  "use strict";

  // After a refused submission, start from the list of what to correct.
  var summary = document.querySelector("main .error-summary");
  if (summary) summary.focus();

  function searchKey(text) {
    return (text || "")
      .replace(/Đ/g, "D").replace(/đ/g, "d")
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, " ")
      .trim();
  }

  function showPreview(form, container, params, button) {
    var url = form.getAttribute("data-preview-url") + "?" + params.toString();
    container.setAttribute("aria-busy", "true");
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        container.innerHTML = html;
        container.removeAttribute("aria-busy");
      })
      .catch(function () {
        container.removeAttribute("aria-busy");
        if (button) { // no answer: let the button do its plain job, a page load
          button.setAttribute("data-fallback", "1");
          button.click();
        }
      });
  }

  function bindPreviewButton(form, container, paramsFor) {
    var button = form.querySelector("[data-preview-button]");
    if (!button) return;
    button.addEventListener("click", function (event) {
      if (button.getAttribute("data-fallback")) return;
      var params = paramsFor();
      if (!params) return; // nothing chosen yet: the server explains
      event.preventDefault();
      showPreview(form, container, params, button);
    });
  }

  // Step 1: unit and procedure.
  var choose = document.querySelector(".intake-choose");
  if (choose) {
    var unit = choose.querySelector("select[name=unit]");
    var search = choose.querySelector("input[name=q]");
    var select = choose.querySelector("select[name=procedure]");
    var count = choose.querySelector("[data-procedure-count]");
    var container = document.getElementById("deadline-preview");
    var placeholder = select.options[0] && select.options[0].value === "" ? select.options[0] : null;
    var groups = Array.prototype.map.call(select.querySelectorAll("optgroup"), function (group) {
      return { label: group.label, options: Array.prototype.slice.call(group.querySelectorAll("option")) };
    });
    choose.querySelectorAll("[data-no-script]").forEach(function (el) { el.hidden = true; });

    var filter = function () {
      var words = searchKey(search.value).split(" ").filter(Boolean);
      var level = unit && unit.selectedOptions[0] ? unit.selectedOptions[0].getAttribute("data-level") : "";
      var chosen = select.value;
      var shown = 0;
      while (select.firstChild) select.removeChild(select.firstChild);
      if (placeholder) select.appendChild(placeholder);
      groups.forEach(function (group) {
        var matching = group.options.filter(function (option) {
          if (level && option.getAttribute("data-level") !== level) return false;
          var text = " " + (option.getAttribute("data-search") || "");
          return words.every(function (word) { return text.indexOf(" " + word) !== -1; });
        });
        if (!matching.length) return;
        var optgroup = document.createElement("optgroup");
        optgroup.label = group.label;
        matching.forEach(function (option) { optgroup.appendChild(option); });
        select.appendChild(optgroup);
        shown += matching.length;
      });
      select.value = chosen;
      if (select.value !== chosen && placeholder) select.value = "";
      if (count) {
        var template = shown === 1 ? count.getAttribute("data-one") : count.getAttribute("data-many");
        if (template) count.textContent = template.replace(/\d+/, String(shown));
      }
    };

    var params = function () {
      if (!select.value || !unit) return null;
      return new URLSearchParams({ unit: unit.value, procedure: select.value });
    };
    var refresh = function () {
      var p = params();
      if (p) showPreview(choose, container, p, null);
      else container.innerHTML = "";
    };

    search.addEventListener("input", filter);
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault(); // the list already follows the box
    });
    if (unit) unit.addEventListener("change", function () { filter(); refresh(); });
    select.addEventListener("change", refresh);
    bindPreviewButton(choose, container, params);
    filter();
    // A procedure chosen before this script ran (a quick hand, or the browser restoring the
    // form on "back") fired its change event unheard: show its due date now.
    if (select.value) refresh();
  }

  // Step 2: channel, applicant, documents.
  var intake = document.querySelector(".intake-form");
  if (intake) {
    var postal = intake.querySelector("[data-postal-only]");
    var radios = intake.querySelectorAll("input[name=channel]");
    var toggle = function () {
      var checked = intake.querySelector("input[name=channel]:checked");
      if (postal) postal.hidden = !checked || checked.value !== "postal";
    };
    radios.forEach(function (radio) { radio.addEventListener("change", toggle); });
    toggle();
    bindPreviewButton(intake, document.getElementById("deadline-preview"), function () {
      return new URLSearchParams({
        unit: intake.querySelector("input[name=unit]").value,
        procedure: intake.querySelector("input[name=procedure]").value
      });
    });
  }
})();
