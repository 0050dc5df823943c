// fabnet dashboard: while the server computes a page's slow part (an ECO's impact, the
// embargo what-ifs of an exposure), ask it every few seconds how far it is, move the
// page's progress bar, and show the page again once it is there. Nothing else.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-pending-url]");
  if (!box) return;
  var bar = box.querySelector("progress");
  function poll() {
    fetch(box.dataset.pendingUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        if (s.done) { window.location.reload(); return; }
        if (bar && typeof s.progress === "number") bar.value = s.progress;
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 6000); });
  }
  window.setTimeout(poll, 2000);
});
