/* Public tracking page: after a resync finishes (resync.js dispatches "resync:done" on the
   document), fetch the live part of this page again and swap it in place, without a reload.
   The server renders the fragment (header "X-Fragment: timeline"), escaping carrier text; the
   new markup is parsed inertly (DOMParser runs no script) and only [data-timeline] is taken. */
(function () {
  "use strict";

  var busy = false;

  function currentTimeline() {
    return document.querySelector("[data-timeline]");
  }

  function refreshTimeline() {
    var target = currentTimeline();
    if (!target || busy) {
      return Promise.resolve(false);
    }
    busy = true;
    target.setAttribute("aria-busy", "true");
    return fetch(window.location.pathname, {
      method: "GET",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-Fragment": "timeline", Accept: "text/html" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("timeline " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-timeline]");
        var old = currentTimeline();
        if (fresh && old) {
          old.replaceWith(document.importNode(fresh, true));
          document.dispatchEvent(new CustomEvent("tracking:refreshed"));
          return true;
        }
        return false;
      })
      .catch(function () {
        return false;
      })
      .finally(function () {
        busy = false;
        var still = currentTimeline();
        if (still) {
          still.removeAttribute("aria-busy");
        }
      });
  }

  // Refresh after every finished resync: even a failed one changes "last updated".
  document.addEventListener("resync:done", function () {
    refreshTimeline();
  });

  window.resyncTracking = { refreshTimeline: refreshTimeline };
})();
