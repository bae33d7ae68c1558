/* A searchable select that works with the keyboard: every
 * <select data-multi-select> becomes a filter box and a list of checkboxes (a
 * multiple select) or radio buttons (a single one): Tab to reach them, Space to
 * tick, typing in the box narrows the list, Enter picks the first match. The
 * select stays in the form, hidden, and is what gets sent; without JavaScript
 * it is the plain select. */
(function () {
  "use strict";

  function enhance(select) {
    if (select.hasAttribute("data-enhanced")) {
      return;
    }
    select.setAttribute("data-enhanced", "");
    var box = document.createElement("div");
    box.className = "multi-select";
    var filter = document.createElement("input");
    filter.type = "search";
    filter.className = "multi-select-filter";
    filter.setAttribute("aria-label", "Filter " + (select.labels && select.labels[0]
      ? select.labels[0].textContent.trim() : "options"));
    filter.setAttribute("placeholder", "Type to filter");
    var list = document.createElement("ul");
    list.className = "multi-select-options";
    Array.prototype.forEach.call(select.options, function (option, index) {
      var item = document.createElement("li");
      var label = document.createElement("label");
      var check = document.createElement("input");
      check.type = select.multiple ? "checkbox" : "radio";
      check.name = select.id + "-choice";
      check.checked = option.selected;
      check.id = select.id + "-option-" + index;
      check.addEventListener("change", function () {
        option.selected = check.checked;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      });
      label.appendChild(check);
      label.appendChild(document.createTextNode(" " + option.textContent));
      item.appendChild(label);
      item.dataset.text = option.textContent.toLowerCase();
      list.appendChild(item);
    });
    filter.addEventListener("input", function () {
      var words = filter.value.toLowerCase().trim();
      Array.prototype.forEach.call(list.children, function (item) {
        item.hidden = words !== "" && item.dataset.text.indexOf(words) === -1;
      });
    });
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // pick the first match, never send the form
        event.preventDefault();
        var first = list.querySelector("li:not([hidden]) input");
        if (first) {
          first.click();
        }
      }
    });
    box.appendChild(filter);
    box.appendChild(list);
    select.classList.add("visually-hidden");
    select.setAttribute("tabindex", "-1");
    select.setAttribute("aria-hidden", "true");
    select.parentNode.insertBefore(box, select.nextSibling);
    if (select.labels && select.labels[0]) {
      select.labels[0].setAttribute("for", filter.id = select.id + "-filter");
    }
  }

  Array.prototype.forEach.call(
    document.querySelectorAll("select[data-multi-select]"), enhance
  );
  // Forms fetched later (the incident page's collapsed actions).
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail && event.detail.elt;
    if (root && root.querySelectorAll) {
      Array.prototype.forEach.call(
        root.querySelectorAll("select[data-multi-select]"), enhance
      );
    }
  });
})();
