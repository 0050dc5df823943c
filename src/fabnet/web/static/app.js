// fabnet dashboard: draws the charts a page carries as JSON and follows a job's
// progress. No other script runs on the pages; everything is served by fabnet.
"use strict";

// Each chart is drawn in a task of its own, after the page is shown: its tables and
// figures are readable at once, and the browser paints between two charts.
function drawCharts() {
  if (typeof Plotly === "undefined") return;
  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    var src = document.getElementById(el.dataset.figure);
    if (!src) return;
    window.setTimeout(function () {
      var fig = JSON.parse(src.textContent);
      Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true});
    }, 0);
  });
}

function followJob() {
  var box = document.getElementById("job");
  if (!box) return;
  var bar = document.getElementById("job-progress");
  var label = document.getElementById("job-status");
  var err = document.getElementById("job-error");
  var next = document.getElementById("job-next");
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        bar.value = s.progress;
        label.textContent = s.status + (s.status === "running" ? " (" + Math.round(100 * s.progress) + " %)" : "");
        label.className = "status-" + s.status;
        if (s.status === "done" && s.next) {
          next.hidden = false;
          next.querySelector("a").href = s.next;
          window.location.assign(s.next);
        } else if (s.status === "failed" || s.status === "cancelled") {
          err.hidden = false;
          err.textContent = s.error || s.status;
        } else {
          window.setTimeout(poll, 700);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  poll();
}

document.addEventListener("DOMContentLoaded", function () {
  drawCharts();
  followJob();
});
