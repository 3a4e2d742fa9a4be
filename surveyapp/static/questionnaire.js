// Autosave for the expert's questionnaire. The form works without it: the buttons post
// the whole form. With it, changed fields are sent as JSON shortly after typing stops,
// at once when a field loses focus, and one request at a time so that saves never overtake
// each other. The status line speaks only when a save ends, so that a screen reader is
// not interrupted at every pause in typing.
(function () {
  "use strict";

  var form = document.getElementById("questionnaire");
  if (!form || !window.fetch) {
    return;
  }
  var status = document.getElementById("save-status");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var url = form.getAttribute("data-autosave-url");
  var roundId = form.getAttribute("data-round-id");
  var DELAY = 1500;

  var dirty = {};
  var timer = null;
  var inFlight = false;
  var again = false;

  function isAnswerField(element) {
    return element && element.name && /^i\d+(_text|_rationale)?$/.test(element.name);
  }

  function valueOf(element) {
    if (element.type === "radio") {
      var checked = form.querySelector('input[name="' + element.name + '"]:checked');
      return checked ? checked.value : null;
    }
    return element.value;
  }

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function showProgress(answered, total) {
    var count = document.querySelector("[data-answered]");
    var bar = document.getElementById("progress");
    if (count) {
      count.textContent = answered;
    }
    if (bar) {
      bar.value = answered;
      bar.max = total;
    }
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(flush, delay);
  }

  function flush() {
    window.clearTimeout(timer);
    var names = Object.keys(dirty);
    if (!names.length) {
      return;
    }
    if (inFlight) {
      again = true;
      return;
    }
    var fields = dirty;
    dirty = {};
    inFlight = true;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrf
      },
      body: JSON.stringify({ round_id: roundId, fields: fields })
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (result.ok) {
          say(result.body.message);
          showProgress(result.body.answered, result.body.total);
        } else {
          say(result.body.error || status.getAttribute("data-failed"));
        }
      })
      .catch(function () {
        // Keep what did not reach the server, unless the field changed again since.
        Object.keys(fields).forEach(function (name) {
          if (!(name in dirty)) {
            dirty[name] = fields[name];
          }
        });
        say(status.getAttribute("data-failed"));
      })
      .then(function () {
        inFlight = false;
        if (again) {
          again = false;
          flush();
        }
      });
  }

  function remember(event) {
    var element = event.target;
    if (!isAnswerField(element)) {
      return;
    }
    var value = valueOf(element);
    if (value === null) {
      return;
    }
    dirty[element.name] = value;
    schedule(element.type === "radio" ? 300 : DELAY);
  }

  form.addEventListener("input", remember);
  form.addEventListener("change", remember);
  form.addEventListener("focusout", function (event) {
    if (isAnswerField(event.target) && event.target.type !== "radio") {
      flush();
    }
  });
  // The buttons post every field; a pending autosave has nothing left to add.
  form.addEventListener("submit", function () {
    window.clearTimeout(timer);
    dirty = {};
  });
})();
