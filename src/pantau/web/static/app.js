// Keyboard shortcuts and slip guards for the reviewer app. Every element with data-key="x" is activated
// by pressing x (buttons and links are clicked, checkboxes toggled). No inline script anywhere: the CSP
// forbids it. A held-down key (auto-repeat) never acts; takedown and override take a second press (or a
// note); a decision form is sent once; the claim's time left is shown and renewed while the reviewer works.
"use strict";
(function () {
  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && target.type !== "checkbox") ||
      target.isContentEditable;
  }

  // The help is an overlay fixed in the viewport, so "?" shows it wherever the page is scrolled to.
  function toggleHelp(show) {
    var help = document.getElementById("help");
    if (!help) return;
    help.hidden = typeof show === "boolean" ? !show : !help.hidden;
    if (!help.hidden) { var close = document.getElementById("help-close"); if (close) close.focus(); }
  }

  // A takedown (or any override) is sent only when confirmed: a ticked box, a note, or a second press.
  function guardDecision(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }  // one decision per page
      var button = event.submitter;
      var confirmBox = form.querySelector('input[name="confirmed"]');
      var note = form.querySelector('textarea[name="note"]');
      var message = form.querySelector(".confirm-msg");
      if (button && button.dataset.confirm === "1" && confirmBox && !confirmBox.checked &&
          !(note && note.value.trim())) {
        if (form.dataset.armed === button.value) {
          confirmBox.checked = true;  // the second, deliberate press confirms
        } else {
          event.preventDefault();
          form.dataset.armed = button.value;
          if (message) message.hidden = false;
          button.classList.add("armed");
          return;
        }
      }
      form.dataset.sent = "1";
    });
    form.addEventListener("input", function () { renewLease(form.dataset.item); });
  }

  var lastRenewal = 0;
  function renewLease(itemId) {
    var lease = document.getElementById("lease");
    var token = document.querySelector('input[name="csrf_token"]');
    if (!lease || !itemId || !token || Date.now() - lastRenewal < 60000) return;
    lastRenewal = Date.now();
    var body = new URLSearchParams({ csrf_token: token.value });
    fetch("/items/" + itemId + "/lease", { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (data.lease_expires_at) lease.dataset.expires = data.lease_expires_at; })
      .catch(function () {});
  }

  function tick() {
    var lease = document.getElementById("lease");
    if (lease && lease.dataset.expires) {
      var left = Math.max(0, Math.round((Date.parse(lease.dataset.expires) - Date.now()) / 60000));
      var shown = lease.querySelector(".left");
      if (shown) shown.textContent = String(left);
      lease.classList.toggle("ending", left <= 2);
    }
    var undo = document.getElementById("undo-form");
    if (undo && Number(undo.dataset.until) * 1000 < Date.now()) undo.hidden = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("help-toggle");
    if (button) button.addEventListener("click", function () { toggleHelp(); });
    var close = document.getElementById("help-close");
    if (close) close.addEventListener("click", function () { toggleHelp(false); });
    document.querySelectorAll("form.decision").forEach(guardDecision);
    tick();
    setInterval(tick, 15000);
  });

  document.addEventListener("keydown", function (event) {
    if (event.repeat) return;  // a held-down key must not decide item after item
    if (event.key === "Escape") { toggleHelp(false); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "?") { toggleHelp(); event.preventDefault(); return; }
    var key = event.key.length === 1 ? event.key.toLowerCase() : "";
    if (!key) return;
    // Inside the decision form first, so "1".."4" and the action keys act on the item being decided.
    var scope = document.getElementById("decision-form") || document;
    var el = scope.querySelector('[data-key="' + key + '"]') || document.querySelector('[data-key="' + key + '"]');
    if (!el || el.closest("[hidden]")) return;
    event.preventDefault();
    if (el.type === "checkbox") {
      el.checked = !el.checked;
      el.dispatchEvent(new Event("change", { bubbles: true }));
    } else {
      el.click();
    }
  });
})();
