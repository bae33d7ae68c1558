/* Drafts: what an agent types into a console form is kept in this browser
 * (localStorage) as it is typed, and given back when the page is opened again
 * with the field empty: after a reload, a lost network, or a session that expired
 * (the form went to the login page; after logging in the page comes back).
 *
 * A form takes part when the server gives it a key: <form data-draft="KEY">, KEY
 * naming the user, the incident (or "new") and the form. A draft is removed only
 * when the server says it saved that form: the page after the save carries an
 * element with data-draft-saved="KEY". Typing a field empty removes it too (no
 * words left to lose). Drafts untouched for DRAFT_DAYS are dropped.
 */
(function () {
  "use strict";

  var PREFIX = "itsm:draft:";
  var DRAFT_DAYS = 14;
  var TEXT_TYPES = ["text", "search", "email", "url"];

  var storage = (function () {
    try {
      var probe = PREFIX + "probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (error) {
      return null; // storage off or full: the forms work as before
    }
  })();
  if (!storage) {
    return;
  }

  function isText(field) {
    return field.tagName === "TEXTAREA" ||
      (field.tagName === "INPUT" && TEXT_TYPES.indexOf(field.type) !== -1);
  }

  /* The fields a draft keeps: everything named that a person sets. */
  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && field.name !== "csrfmiddlewaretoken" &&
        ["hidden", "submit", "button", "reset", "file", "password"].indexOf(field.type) === -1;
    });
  }

  function read(key) {
    try {
      var draft = JSON.parse(storage.getItem(key));
      return draft && typeof draft.fields === "object" ? draft : null;
    } catch (error) {
      return null;
    }
  }

  function write(key, draft) {
    try {
      storage.setItem(key, JSON.stringify(draft));
    } catch (error) {
      /* storage full: nothing better to do than keep the page working */
    }
  }

  function hasText(form) {
    return fieldsOf(form).some(function (field) {
      return isText(field) && field.value.trim() !== "";
    });
  }

  function save(form) {
    var key = form.getAttribute("data-draft");
    if (!hasText(form)) {
      storage.removeItem(key);
      return;
    }
    var fields = {};
    fieldsOf(form).forEach(function (field) {
      if (field.type === "radio") {
        if (field.checked) {
          fields[field.name] = field.value;
        }
      } else if (field.type === "checkbox") {
        fields[field.name] = field.checked;
      } else if (field.type === "select-multiple") {
        fields[field.name] = Array.prototype.filter.call(field.options, function (option) {
          return option.selected;
        }).map(function (option) { return option.value; });
      } else {
        fields[field.name] = field.value;
      }
    });
    write(key, { at: Date.now(), fields: fields });
  }

  /* Put a draft back into a form whose text fields are empty. Choices (a select,
   * a radio, a checkbox) come back only with the text they were made with. */
  function restore(form, draft) {
    var restored = false;
    var fields = fieldsOf(form);
    fields.forEach(function (field) {
      var value = draft.fields[field.name];
      if (isText(field) && field.value === "" && typeof value === "string" && value !== "") {
        field.value = value;
        restored = true;
      }
    });
    if (!restored) {
      return false;
    }
    fields.forEach(function (field) {
      var value = draft.fields[field.name];
      if (isText(field) || value === undefined) {
        return;
      }
      if (field.type === "radio") {
        field.checked = field.value === value;
      } else if (field.type === "checkbox") {
        field.checked = value === true;
      } else if (field.type === "select-multiple" && Array.isArray(value)) {
        Array.prototype.forEach.call(field.options, function (option) {
          option.selected = value.indexOf(option.value) !== -1;
        });
      } else if (typeof value === "string") {
        field.value = value;
      }
      // Whatever listens for the choice (the live priority) hears about it.
      field.dispatchEvent(new Event("change", { bubbles: true }));
    });
    var details = form.closest("details");
    if (details) {
      details.open = true;
    }
    announce(form);
    return true;
  }

  /* Say that the text is a restored draft, with a way to drop it. */
  function announce(form) {
    var note = document.createElement("p");
    note.className = "draft-note";
    note.setAttribute("role", "status");
    note.textContent = "Restored what you typed here before it was sent. ";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link-button";
    discard.textContent = "Discard it";
    discard.addEventListener("click", function () {
      fieldsOf(form).forEach(function (field) {
        if (isText(field)) {
          field.value = "";
        }
      });
      storage.removeItem(form.getAttribute("data-draft"));
      note.remove();
      var first = fieldsOf(form).filter(isText)[0];
      if (first) {
        first.focus();
      }
    });
    note.appendChild(discard);
    form.insertBefore(note, form.firstChild);
  }

  function prune() {
    var oldest = Date.now() - DRAFT_DAYS * 24 * 3600 * 1000;
    for (var i = storage.length - 1; i >= 0; i -= 1) {
      var key = storage.key(i);
      if (key && key.indexOf(PREFIX) === 0) {
        var draft = read(key);
        if (!draft || !(draft.at >= oldest)) {
          storage.removeItem(key);
        }
      }
    }
  }

  function start() {
    // First what the server saved: that text must not come back.
    document.querySelectorAll("[data-draft-saved]").forEach(function (marker) {
      storage.removeItem(marker.getAttribute("data-draft-saved"));
    });
    prune();
    var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-draft]"));
    // A form the server sent back as typed (it failed) holds the text already;
    // its blank twin elsewhere on the page stays blank.
    var held = {};
    forms.forEach(function (form) {
      if (hasText(form)) {
        held[form.getAttribute("data-draft")] = true;
      }
    });
    forms.forEach(function (form) {
      var key = form.getAttribute("data-draft");
      var draft = held[key] ? null : read(key);
      if (draft && restore(form, draft)) {
        held[key] = true;
      } else if (hasText(form)) {
        save(form); // typed before this script ran, or sent back as typed
      }
    });
    function remember(event) {
      var form = event.target.form;
      if (form && form.hasAttribute("data-draft")) {
        save(form);
      }
    }
    document.addEventListener("input", remember);
    document.addEventListener("change", remember);
    // A collapsed form with a draft is opened, so that it is fetched ...
    document.querySelectorAll("[data-draft-lazy]").forEach(function (lazy) {
      var details = lazy.closest("details");
      if (details && !held[lazy.getAttribute("data-draft-lazy")] &&
          read(lazy.getAttribute("data-draft-lazy"))) {
        details.open = true;
      }
    });
    // ... and a fetched form gets its draft back as it arrives.
    document.addEventListener("htmx:load", function (event) {
      var root = event.detail && event.detail.elt;
      if (!root || !root.querySelectorAll) {
        return;
      }
      var fetched = root.matches && root.matches("form[data-draft]") ? [root] : [];
      fetched = fetched.concat(Array.prototype.slice.call(root.querySelectorAll("form[data-draft]")));
      fetched.forEach(function (form) {
        var key = form.getAttribute("data-draft");
        var draft = held[key] ? null : read(key);
        if (draft && restore(form, draft)) {
          held[key] = true;
        }
      });
    });
  }

  // After htmx (loaded before this file) has set the page up, so the change
  // events of restored choices reach it.
  if (document.readyState === "complete") {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
