/*
 * merchant.js — the merchant app's enhancements on top of resync.js (load resync.js first).
 *
 *   [data-resync-menu]   The Shipment tab's bulk Resync menu: a disclosure button
 *                        ([data-resync-menu-toggle]) opening a form of window buttons
 *                        ([data-resync-menu-list]). Keyboard: Enter/Space/ArrowDown open and
 *                        focus the first choice, ArrowUp/ArrowDown/Home/End move, Escape closes
 *                        and returns focus to the button; Tab away or a click outside closes.
 *                        Choosing POSTs with fetch; 202 shows the run in the sync panel.
 *   [data-sync-panel]    The sync status of the latest bulk run. While the run is active
 *                        (data-active="true") it polls data-sync-run (JSON) every second,
 *                        updates the progress bar and counts in place, and once the run is over
 *                        swaps in the server's final panel (X-Fragment: panel) and the table
 *                        ([data-shipment-table], X-Fragment: table) and the run history
 *                        ([data-run-history], X-Fragment: history), then stops. Each poll
 *                        dispatches "resync:run" (detail: the run's JSON, with retry_after).
 *   [data-copy]          A button copying the value of the input its selector names.
 */
(function () {
  "use strict";

  var R = window.Resync;
  if (!R) return;
  var PANEL_POLL_MS = 1000;
  var watching = 0; // generation of the panel poller: a newer panel stops an older loop

  // --- Sync status panel ------------------------------------------------------------------------

  function updatePanel(panel, run) {
    var progress = panel.querySelector("[data-progress]");
    if (progress) {
      progress.max = Math.max(run.total, 1);
      progress.value = run.total ? run.done : 1;
    }
    var text = panel.querySelector("[data-progress-text]");
    if (text && text.dataset.template) {
      var next = R.format(text.dataset.template, {
        done: run.done, total: run.total, percent: run.percent
      });
      if (text.textContent !== next) text.textContent = next;
    }
    ["changed", "unchanged", "failed", "state_label"].forEach(function (field) {
      var element = panel.querySelector('[data-field="' + field + '"]');
      if (element && String(run[field]) !== element.textContent) element.textContent = run[field];
    });
    var state = panel.querySelector('[data-field="state_label"]');
    if (state) state.className = "state state-" + run.state;
  }

  function refreshTable() {
    var table = document.querySelector("[data-shipment-table]");
    if (!table) return;
    R.fetchFragment("table").then(function (html) { R.replaceFragment(table, html); })
      .catch(function () { /* the next reload shows it */ });
  }

  // The run history (X-Fragment: history) keeps its disclosure open or closed.
  function refreshHistory() {
    var history = document.querySelector("[data-run-history]");
    if (!history) return;
    var details = history.querySelector("details");
    var open = details && details.open;
    R.fetchFragment("history").then(function (html) {
      var fresh = R.replaceFragment(history, html);
      var freshDetails = fresh.querySelector("details");
      if (freshDetails) freshDetails.open = !!open;
    }).catch(function () { /* the next reload shows it */ });
  }

  /** The server's "started" notices (no-JS POST, then this page) go with the run. */
  function removeRunNotices() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-run-notice]"), function (item) {
      var list = item.parentNode;
      item.remove();
      if (list && !list.children.length) list.remove();
    });
  }

  function watchPanel(panel) {
    if (!panel || panel.dataset.active !== "true" || !panel.dataset.syncRun) return;
    var generation = ++watching;
    var url = panel.dataset.syncRun;

    function finish() {
      removeRunNotices();
      R.fetchFragment("panel", url).then(function (html) {
        var current = document.querySelector("[data-sync-panel]");
        if (current) R.replaceFragment(current, html);
      }).catch(function () { /* keep the last numbers */ });
      refreshTable();
      refreshHistory();
    }

    function loop() {
      window.setTimeout(function () {
        if (generation !== watching) return;
        R.requestJSON(url).then(function (res) {
          if (generation !== watching) return;
          if (res.status !== 200 || !res.data) { loop(); return; }
          var current = document.querySelector("[data-sync-panel]") || panel;
          updatePanel(current, res.data);
          document.dispatchEvent(new CustomEvent("resync:run", { detail: res.data }));
          if (res.data.active) loop();
          else finish();
        }, loop);
      }, PANEL_POLL_MS);
    }
    loop();
  }

  function showRun(statusUrl) {
    var panel = document.querySelector("[data-sync-panel]");
    if (!panel) return;
    R.fetchFragment("panel", statusUrl).then(function (html) {
      var fresh = R.replaceFragment(panel, html);
      if (fresh && fresh.dataset.active !== "true") {
        // The run ended before its panel came back (a fast worker): nothing to poll, but say
        // so as the poller would, so "… started" goes and the table shows the outcome.
        removeRunNotices();
        document.dispatchEvent(new CustomEvent("resync:run", { detail: { active: false } }));
        refreshTable();
        refreshHistory();
        return;
      }
      watchPanel(fresh);
    }).catch(function () { /* the reload shows it */ });
    refreshTable(); // it says "The table is being updated…" while the run goes
    refreshHistory();
  }

  // --- Bulk Resync menu -------------------------------------------------------------------------

  function initMenu(menu) {
    var toggle = menu.querySelector("[data-resync-menu-toggle]");
    var list = menu.querySelector("[data-resync-menu-list]");
    var status = menu.querySelector("[data-resync-status]");
    if (!toggle || !list) return;
    var items = list.querySelectorAll("button[name=window]");
    var labels = R.labelsOf(menu);
    var countdown = new R.Countdown(toggle, labels, items);
    var sending = false;
    var started = false; // the status region shows the run's "started" message
    var retryAfter = parseInt(menu.dataset.retryAfter || "0", 10);
    var panel = document.querySelector("[data-sync-panel]");
    var runActive = panel && panel.dataset.active === "true";

    if (retryAfter > 0) countdown.start(retryAfter);
    else if (!runActive) countdown.release();
    if (status && !status.hasAttribute("tabindex")) status.setAttribute("tabindex", "-1");

    // The run's poller reports the store's cooldown once the run is over.
    document.addEventListener("resync:run", function (event) {
      var run = event.detail || {};
      if (!run.active && !sending && typeof run.retry_after === "number") {
        countdown.start(run.retry_after);
      }
      // "Resync … started" is not true any more once the run is over: the panel says how it went.
      if (!run.active && started) {
        started = false;
        R.say(status, "", "");
      }
    });

    function isOpen() { return !list.hidden; }

    function open(focusFirst) {
      if (toggle.disabled) return;
      list.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      if (focusFirst && items.length) items[0].focus();
    }

    function close(returnFocus) {
      if (!isOpen()) return;
      list.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      if (returnFocus && !toggle.disabled) toggle.focus();
    }

    function move(delta, absolute) {
      var enabled = Array.prototype.filter.call(items, function (b) { return !b.disabled; });
      if (!enabled.length) return;
      var index = enabled.indexOf(document.activeElement);
      if (absolute === "first") index = 0;
      else if (absolute === "last") index = enabled.length - 1;
      else index = (index + delta + enabled.length) % enabled.length;
      enabled[index].focus();
    }

    toggle.addEventListener("click", function (event) {
      event.preventDefault();
      if (isOpen()) close(false);
      else open(event.detail === 0); // keyboard activation (detail 0): focus the first choice
    });

    toggle.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); open(true); }
      else if (event.key === "ArrowUp") { event.preventDefault(); open(false); move(0, "last"); }
      else if (event.key === "Escape") { close(true); }
    });

    list.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(true); }
      else if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Home") { event.preventDefault(); move(0, "first"); }
      else if (event.key === "End") { event.preventDefault(); move(0, "last"); }
    });

    menu.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !menu.contains(event.relatedTarget)) close(false);
    });

    document.addEventListener("click", function (event) {
      if (!menu.contains(event.target)) close(false);
    });

    list.addEventListener("submit", function (event) {
      event.preventDefault();
      var choice = event.submitter;
      if (sending || !choice || choice.disabled) return;
      sending = true;
      var body = new FormData(list);
      body.append(choice.name, choice.value);
      close(false);
      countdown.busy();
      R.say(status, labels.labelBusy, "info");
      R.requestJSON(list.action, {
        method: "POST",
        body: body,
        headers: { "X-CSRFToken": R.csrfToken(list) }
      }).then(function (res) {
        sending = false;
        var data = res.data || {};
        if (res.status === 202) {
          R.say(status, data.message || "", "success");
          started = true;
          countdown.start(Number(data.retry_after) || 1);
          showRun(data.status_url);
          return;
        }
        R.say(status, data.error || labels.msgError, "error");
        countdown.start(Number(data.retry_after) || res.retryAfter || 0);
      }, function () {
        sending = false;
        R.say(status, labels.msgError, "error");
        countdown.release();
      }).then(function () {
        if (document.activeElement === document.body && status) status.focus();
      });
    });
  }

  // --- Copy buttons -----------------------------------------------------------------------------

  function initCopy(button) {
    var input = document.querySelector(button.getAttribute("data-copy"));
    var root = button.closest("[data-copy-root]");
    var feedback = root && root.querySelector("[data-copy-feedback]");
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () { R.say(feedback, feedback && feedback.dataset.done, "success"); };
      var failed = function () {
        input.select();
        R.say(feedback, feedback && feedback.dataset.failed, "error");
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, failed);
      } else {
        input.select();
        try { if (document.execCommand("copy")) done(); else failed(); } catch (e) { failed(); }
      }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-resync-menu]"), initMenu);
    watchPanel(document.querySelector("[data-sync-panel]"));
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), initCopy);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
