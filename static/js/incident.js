/* The incident page: a header button that points at a collapsed action
 * (<a href="#act-NAME" data-open>) opens it and moves the focus into its form,
 * so the main actions are one click away from the header. Without JavaScript
 * the link still scrolls to the action. */
(function () {
  "use strict";

  function openTarget(hash) {
    var target = hash && document.getElementById(hash.slice(1));
    if (!target) {
      return;
    }
    if (target.tagName === "DETAILS") {
      target.open = true;
    }
    var field = target.querySelector("textarea, input:not([type=hidden]), select");
    if (field) {
      field.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-open]");
    if (link) {
      openTarget(link.getAttribute("href"));
    }
  });
  if (window.location.hash.indexOf("#act-") === 0) {
    openTarget(window.location.hash);
  }
})();
