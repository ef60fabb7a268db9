/*
 * resync.js — the Resync button, shared by the merchant app and the public tracking page.
 * No dependencies, no inline scripts needed (works under a CSP with `script-src 'self'`).
 * Without JavaScript the same markup is a plain form (POST, then the server redirects back).
 *
 * MARKUP (one control; any number per page)
 *
 *   <div data-resync-root>
 *     <form method="post" action="{resync url}" data-resync data-retry-after="{seconds}">
 *       {% csrf_token %}
 *       <button type="submit">Resync</button>
 *     </form>
 *     <div data-resync-status role="status" aria-live="polite"></div>
 *   </div>
 *
 *   Optional data attributes on the form (translated texts; English defaults):
 *     data-label        idle button label                 "Resync"
 *     data-label-busy   while the job runs                "Resyncing…"
 *     data-label-wait   during the cooldown, {time}=m:ss  "Resync — available in {time}"
 *     data-msg-working  status text while the job runs    "Resyncing…"
 *     data-msg-next     after the job, {time}=clock time  "You can resync again at {time}."
 *     data-msg-error    network or unexpected failure     "Something went wrong. Please try again."
 *     data-msg-slow     polling gave up (2 minutes)       "This is taking longer than usual…"
 *     data-time-zone    IANA zone for the {time} of data-msg-next (e.g. the store's);
 *                       default: the browser's zone
 *
 * BEHAVIOUR
 *   - A non-zero data-retry-after starts the countdown on load (so a reload keeps it): the button
 *     is disabled (`disabled` + aria-disabled="true") and reads "Resync — available in 4:12";
 *     at 0 it is enabled again and reads "Resync".
 *   - Submit is intercepted: POST with fetch (Accept: application/json, X-CSRFToken from the
 *     form's csrfmiddlewaretoken or the csrftoken cookie).
 *       202 {"status_url", "retry_after"} → "Resyncing…", poll status_url every ~700 ms until
 *           {"state": "succeeded" | "failed", "message", "changed"}; show the message, start the
 *           countdown from retry_after (counted from the 202), then
 *           document.dispatchEvent(new CustomEvent("resync:done",
 *                                                  {detail: {state, changed, message}})).
 *       429 / 503 {"error", "retry_after"} → show the error, countdown from retry_after.
 *   - Refreshing the page in place (opt-in): after "resync:done", every element with
 *     data-resync-refresh="NAME" is replaced by the response to
 *     GET location.href with the header `X-Fragment: NAME` (the server renders just that element).
 *     Pages that prefer to do it themselves listen for "resync:done" instead.
 *
 * API for other scripts: window.Resync = {Countdown, clock, format, csrfToken, requestJSON,
 *   fetchFragment, replaceFragment, say, init}.
 */
(function () {
  "use strict";

  var POLL_MS = 700;
  var POLL_LIMIT_MS = 120000;
  var DEFAULTS = {
    label: "Resync",
    labelBusy: "Resyncing…",
    labelWait: "Resync — available in {time}",
    msgWorking: "Resyncing…",
    msgNext: "You can resync again at {time}.",
    msgError: "Something went wrong. Please try again.",
    msgSlow: "This is taking longer than usual. Reload the page in a minute to see the result."
  };

  /** 252 → "4:12" */
  function clock(seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    var m = Math.floor(s / 60);
    var rest = s % 60;
    return m + ":" + (rest < 10 ? "0" : "") + rest;
  }

  /** format("in {time}", {time: "4:12"}) → "in 4:12" */
  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i++) {
      var pair = parts[i].trim();
      if (pair.indexOf(name + "=") === 0) return decodeURIComponent(pair.slice(name.length + 1));
    }
    return "";
  }

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return (input && input.value) || cookie("csrftoken");
  }

  /** fetch → Promise<{status, data, retryAfter}>; data is null when the body is not JSON. */
  function requestJSON(url, options) {
    options = options || {};
    var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    return fetch(url, {
      method: options.method || "GET",
      body: options.body,
      headers: headers,
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      var retryAfter = parseInt(response.headers.get("Retry-After") || "0", 10) || 0;
      return response.json().then(
        function (data) { return { status: response.status, data: data, retryAfter: retryAfter }; },
        function () { return { status: response.status, data: null, retryAfter: retryAfter }; }
      );
    });
  }

  /** GET the current page's fragment NAME as HTML text (see "Refreshing the page in place"). */
  function fetchFragment(name, url) {
    return fetch(url || window.location.href, {
      headers: { Accept: "text/html", "X-Fragment": name },
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text();
    });
  }

  /** Replace `element` by the first element of `html` (server-rendered, already escaped). */
  function replaceFragment(element, html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.firstElementChild;
    if (fresh && element.parentNode) element.replaceWith(fresh);
    return fresh || element;
  }

  /** Show a message in a status region; kind = "info" | "success" | "error". */
  function say(region, text, kind) {
    if (!region) return;
    region.textContent = text || "";
    region.classList.remove("info", "success", "error");
    if (kind && text) region.classList.add(kind);
  }

  function labelsOf(element) {
    var d = element.dataset;
    return {
      label: d.label || DEFAULTS.label,
      labelBusy: d.labelBusy || DEFAULTS.labelBusy,
      labelWait: d.labelWait || DEFAULTS.labelWait,
      msgWorking: d.msgWorking || DEFAULTS.msgWorking,
      msgNext: d.msgNext || DEFAULTS.msgNext,
      msgError: d.msgError || DEFAULTS.msgError,
      msgSlow: d.msgSlow || DEFAULTS.msgSlow,
      msgUpdated: d.msgUpdated || ""
    };
  }

  /**
   * The button's states: idle, busy, cooling down (live countdown to a deadline).
   * `others` are further controls disabled along with the button (e.g. a menu's items).
   */
  function Countdown(button, labels, others) {
    this.button = button;
    this.labels = labels;
    this.others = others || [];
    this.timer = null;
    this.deadline = 0;
  }

  Countdown.prototype.setLabel = function (text) {
    var target = this.button.querySelector("[data-resync-label]") || this.button;
    target.textContent = text;
  };

  Countdown.prototype.setDisabled = function (disabled) {
    var controls = [this.button].concat(Array.prototype.slice.call(this.others));
    controls.forEach(function (control) {
      control.disabled = disabled;
      if (disabled) control.setAttribute("aria-disabled", "true");
      else control.removeAttribute("aria-disabled");
    });
  };

  Countdown.prototype.stop = function () {
    if (this.timer) window.clearTimeout(this.timer);
    this.timer = null;
  };

  Countdown.prototype.busy = function () {
    this.stop();
    this.setDisabled(true);
    this.setLabel(this.labels.labelBusy);
  };

  Countdown.prototype.release = function () {
    this.stop();
    this.deadline = 0;
    this.setDisabled(false);
    this.setLabel(this.labels.label);
  };

  /** Count down to `deadline` (ms since the epoch); release at 0. */
  Countdown.prototype.until = function (deadline) {
    var self = this;
    self.stop();
    self.deadline = deadline;
    function tick() {
      var left = (self.deadline - Date.now()) / 1000;
      if (left <= 0) {
        self.release();
        return;
      }
      self.setDisabled(true);
      self.setLabel(format(self.labels.labelWait, { time: clock(left) }));
      var wait = (self.deadline - Date.now()) % 1000;
      self.timer = window.setTimeout(tick, wait > 20 ? wait : 1000);
    }
    tick();
  };

  /** Count down `seconds` from now (0 or less: enabled right away). */
  Countdown.prototype.start = function (seconds) {
    seconds = Number(seconds) || 0;
    if (seconds <= 0) this.release();
    else this.until(Date.now() + seconds * 1000);
  };

  /** The deadline as a wall-clock time ("14:05"), in `timeZone` when given (else the browser's). */
  function clockTime(deadline, timeZone) {
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (timeZone) options.timeZone = timeZone;
    try {
      return new Date(deadline).toLocaleTimeString(document.documentElement.lang || [], options);
    } catch (e) {
      delete options.timeZone; // an unknown zone name: fall back to the browser's
      return new Date(deadline).toLocaleTimeString([], options);
    }
  }

  function refreshFragments() {
    var elements = document.querySelectorAll("[data-resync-refresh]");
    Array.prototype.forEach.call(elements, function (element) {
      fetchFragment(element.getAttribute("data-resync-refresh"))
        .then(function (html) { replaceFragment(element, html); })
        .catch(function () { /* the page still shows the message; a reload shows the rest */ });
    });
  }

  function initControl(root) {
    var form = root.querySelector("form[data-resync]");
    if (!form || form.dataset.resyncReady) return;
    form.dataset.resyncReady = "1";
    var button = form.querySelector("button[type=submit], button:not([type])");
    var status = root.querySelector("[data-resync-status]");
    if (!button) return;
    if (status && !status.hasAttribute("tabindex")) status.setAttribute("tabindex", "-1");
    var labels = labelsOf(form);
    var countdown = new Countdown(button, labels);
    var working = false;

    countdown.start(parseInt(form.dataset.retryAfter || "0", 10));

    function keepFocus() {
      // A focused button that becomes disabled drops focus: hand it to the message instead.
      if (document.activeElement === button && status) status.focus();
    }

    function finish(job, deadline) {
      working = false;
      // A page may word a resync that brought news its own way (the shopper's tracking page
      // does: `data-msg-updated`); otherwise the job's message is shown as the server wrote it.
      var text = (job.state === "succeeded" && job.changed && labels.msgUpdated) || job.message || "";
      if (deadline > Date.now()) {
        var at = clockTime(deadline, form.dataset.timeZone);
        text += (text ? " " : "") + format(labels.msgNext, { time: at });
      }
      say(status, text, job.state === "succeeded" ? "success" : "error");
      countdown.until(deadline);
      document.dispatchEvent(new CustomEvent("resync:done", {
        detail: { state: job.state, changed: job.changed, message: job.message }
      }));
      refreshFragments();
    }

    function poll(url, deadline, startedAt) {
      window.setTimeout(function () {
        requestJSON(url).then(function (res) {
          var job = res.data || {};
          if (res.status === 200 && (job.state === "succeeded" || job.state === "failed")) {
            finish(job, deadline);
          } else if (Date.now() - startedAt > POLL_LIMIT_MS) {
            working = false;
            say(status, labels.msgSlow, "info");
            countdown.until(deadline);
          } else {
            poll(url, deadline, startedAt);
          }
        }, function () {
          if (Date.now() - startedAt > POLL_LIMIT_MS) {
            working = false;
            say(status, labels.msgError, "error");
            countdown.until(deadline);
          } else {
            poll(url, deadline, startedAt);
          }
        });
      }, POLL_MS);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (working || button.disabled) return;
      working = true;
      countdown.busy();
      keepFocus();
      say(status, labels.msgWorking, "info");
      requestJSON(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-CSRFToken": csrfToken(form) }
      }).then(function (res) {
        var data = res.data || {};
        if (res.status === 202 && data.status_url) {
          var deadline = Date.now() + (Number(data.retry_after) || 0) * 1000;
          poll(data.status_url, deadline, Date.now());
          return;
        }
        working = false;
        say(status, data.error || labels.msgError, "error");
        countdown.start(Number(data.retry_after) || res.retryAfter || 0);
      }, function () {
        working = false;
        say(status, labels.msgError, "error");
        countdown.release();
      });
    });
  }

  function init(scope) {
    var roots = (scope || document).querySelectorAll("[data-resync-root]");
    Array.prototype.forEach.call(roots, initControl);
  }

  window.Resync = {
    Countdown: Countdown,
    clock: clock,
    format: format,
    csrfToken: csrfToken,
    requestJSON: requestJSON,
    fetchFragment: fetchFragment,
    replaceFragment: replaceFragment,
    say: say,
    labelsOf: labelsOf,
    init: init
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(); });
  } else {
    init();
  }
})();
