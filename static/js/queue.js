// The console queue's refresh (#queue polls itself with htmx every 30 s).
// - Each poll tells the server which rows the table shows (its signature), so the
//   answer announces itself to screen readers only when the rows changed.
// - While any row is selected the poll is skipped, so a refresh never drops a
//   selection; it resumes by itself once nothing is selected.
// Here rather than in hx-vals / hx-trigger expressions: the Content-Security-Policy
// forbids evaluating code from attributes.
(function () {
  "use strict";

  function isThePoll(event, queue) {
    return event.detail.elt === queue;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var queue = document.getElementById("queue");
    if (!queue) {
      return;
    }
    queue.addEventListener("htmx:beforeRequest", function (event) {
      if (isThePoll(event, queue) && queue.querySelector("input:checked")) {
        event.preventDefault();
      }
    });
    queue.addEventListener("htmx:configRequest", function (event) {
      var table = queue.querySelector("table");
      if (isThePoll(event, queue) && table) {
        event.detail.parameters.shown = table.dataset.signature;
      }
    });
  });
})();
