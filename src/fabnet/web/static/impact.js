// fabnet dashboard: while an ECO's impact is being computed, ask the server every few
// seconds whether it is there, and show the page again once it is. Nothing else.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("impact-pending");
  if (!box) return;
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        if (s.done) { window.location.reload(); } else { window.setTimeout(poll, 3000); }
      })
      .catch(function () { window.setTimeout(poll, 6000); });
  }
  window.setTimeout(poll, 3000);
});
