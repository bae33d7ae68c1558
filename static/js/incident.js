/* The incident page: a header button that points at a collapsed action
 * (<a href="#act-NAME" data-open>) opens it and moves the focus into its form,
 * so the main actions are one click away from the header. Without JavaScript
 * the link still scrolls to the action.
 *
 * A collapsed action's form is not on the page: its placeholder
 * (<div data-lazy-form="URL">) is replaced by the form, fetched from URL, the
 * first time its <details> opens. Without JavaScript the placeholder's link
 * opens the form on a page of its own. */
(function () {
  "use strict";

  function focusField(within) {
    var field = within.querySelector("textarea, input:not([type=hidden]), select");
    if (field) {
      field.focus();
    }
  }

  function fetchForm(details) {
    var lazy = details.querySelector("[data-lazy-form]");
    if (!lazy || lazy.hasAttribute("data-asked")) {
      return;
    }
    lazy.setAttribute("data-asked", "");
    htmx.ajax("GET", lazy.getAttribute("data-lazy-form"), {
      target: lazy,
      swap: "outerHTML",
    }).then(function () {
      if (details.hasAttribute("data-focus")) {
        details.removeAttribute("data-focus");
        focusField(details);
      }
    });
  }

  function openTarget(hash) {
    var target = hash && document.getElementById(hash.slice(1));
    if (!target) {
      return;
    }
    if (target.tagName === "DETAILS") {
      if (target.querySelector("[data-lazy-form]")) {
        target.setAttribute("data-focus", "");
      }
      target.open = true;
      fetchForm(target);
    }
    focusField(target);
  }

  // "toggle" does not bubble: listen while it goes down (capture).
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (details.tagName === "DETAILS" && details.open) {
      fetchForm(details);
    }
  }, true);

  // A form no longer offered answers 409 with why: show that, not nothing.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status === 409 && target && target.hasAttribute("data-lazy-form")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-open]");
    if (link) {
      openTarget(link.getAttribute("href"));
    }
  });
  if (window.location.hash.indexOf("#act-") === 0) {
    openTarget(window.location.hash);
  }
  document.querySelectorAll("details[open]").forEach(fetchForm);
})();
