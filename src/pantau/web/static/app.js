// Keyboard shortcuts for the reviewer app. Every element with data-key="x" is activated by pressing x
// (buttons and links are clicked, checkboxes toggled). No inline script anywhere: the CSP forbids it.
"use strict";
(function () {
  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && target.type !== "checkbox") ||
      target.isContentEditable;
  }

  function toggleHelp() {
    var help = document.getElementById("help");
    if (help) help.hidden = !help.hidden;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("help-toggle");
    if (button) button.addEventListener("click", toggleHelp);
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "?") { toggleHelp(); event.preventDefault(); return; }
    var key = event.key.length === 1 ? event.key.toLowerCase() : "";
    if (!key) return;
    // Inside the decision form first, so "1".."4" and the action keys act on the item being decided.
    var scope = document.getElementById("decision-form") || document;
    var el = scope.querySelector('[data-key="' + key + '"]') || document.querySelector('[data-key="' + key + '"]');
    if (!el) return;
    event.preventDefault();
    if (el.type === "checkbox") {
      el.checked = !el.checked;
      el.dispatchEvent(new Event("change", { bubbles: true }));
    } else {
      el.click();
    }
  });
})();
