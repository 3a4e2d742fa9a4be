// Autosave for the expert's questionnaire. The form works without it: the buttons post
// the whole form. With it, changed fields are sent as JSON shortly after typing stops,
// at once when a field loses focus, and one request at a time so that saves never overtake
// each other. The server saves the fields it can and names the others with their errors;
// any field it did not confirm is sent again with the next save. The status line speaks
// only when a save ends, so that a screen reader is not interrupted at every pause in typing.
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
  var RETRY = 15000;
  // How long a submit waits for an autosave on its way before it posts regardless.
  var SUBMIT_WAIT = 10000;

  var dirty = {};
  var timer = null;
  var inFlight = false;
  var again = false;
  var settled = [];
  var submitting = false;

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

  // A field's error sits under it with the id the server's page gives it (name-error),
  // tied to the control by aria-describedby, so a reload and an autosave show it alike.
  function controlsOf(name) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.name === name;
    });
  }

  function showError(name, messages) {
    var controls = controlsOf(name);
    if (!controls.length) {
      return;
    }
    var errorId = name + "-error";
    var error = document.getElementById(errorId);
    if (!error) {
      error = document.createElement("p");
      error.className = "error";
      error.id = errorId;
      var group = document.getElementById(name);
      if (group && group.tagName === "FIELDSET") {
        group.insertBefore(error, group.querySelector(".scale"));
      } else {
        controls[0].parentNode.insertBefore(error, controls[0].nextSibling);
      }
    }
    error.textContent = messages.join(" ");
    controls.forEach(function (control) {
      var ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (ids.indexOf(errorId) < 0) {
        ids.push(errorId);
      }
      control.setAttribute("aria-describedby", ids.join(" "));
      control.setAttribute("aria-invalid", "true");
    });
    var wrapper = controls[0].closest(".field");
    if (wrapper) {
      wrapper.classList.add("has-error");
    }
  }

  function clearError(name) {
    var errorId = name + "-error";
    var error = document.getElementById(errorId);
    if (!error) {
      return;
    }
    error.parentNode.removeChild(error);
    controlsOf(name).forEach(function (control) {
      var ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && id !== errorId;
      });
      if (ids.length) {
        control.setAttribute("aria-describedby", ids.join(" "));
      } else {
        control.removeAttribute("aria-describedby");
      }
      control.removeAttribute("aria-invalid");
      var wrapper = control.closest(".field");
      if (wrapper) {
        wrapper.classList.remove("has-error");
      }
    });
  }

  // Put back every field the server did not confirm, unless it changed again since.
  function requeue(fields, confirmed) {
    Object.keys(fields).forEach(function (name) {
      if (confirmed.indexOf(name) < 0 && !(name in dirty)) {
        dirty[name] = fields[name];
      }
    });
  }

  function flush() {
    window.clearTimeout(timer);
    var names = Object.keys(dirty);
    if (!names.length || submitting) {
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
          return { ok: response.ok, status: response.status, body: body || {} };
        });
      })
      .then(function (result) {
        var body = result.body;
        var confirmed = body.saved || [];
        var errors = body.errors || {};
        confirmed.forEach(clearError);
        Object.keys(errors).forEach(function (name) {
          showError(name, errors[name]);
        });
        requeue(fields, confirmed);
        if (typeof body.answered === "number") {
          showProgress(body.answered, body.total);
        }
        if (result.ok) {
          say(body.message);
        } else {
          say(body.error || status.getAttribute("data-failed"));
          if (result.status >= 500) {
            schedule(RETRY);
          }
        }
      })
      .catch(function () {
        requeue(fields, []);
        say(status.getAttribute("data-failed"));
        schedule(RETRY);
      })
      .then(function () {
        inFlight = false;
        var waiting = settled;
        settled = [];
        waiting.forEach(function (resume) {
          resume();
        });
        if (again) {
          again = false;
          flush();
        }
      });
  }

  // Call back once no autosave is on its way (at once if none is).
  function whenSettled(callback) {
    if (inFlight) {
      settled.push(callback);
    } else {
      callback();
    }
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
  // The buttons post every field, so a pending autosave has nothing left to add. One that is
  // already on its way is let finish first, so that it cannot land after the post and undo
  // newer answers (the server ignores such late saves as well).
  form.addEventListener("submit", function (event) {
    window.clearTimeout(timer);
    dirty = {};
    if (submitting) {
      event.preventDefault();
      return;
    }
    if (!inFlight) {
      return;
    }
    event.preventDefault();
    submitting = true;
    var button = event.submitter;
    var done = false;
    function post() {
      if (done) {
        return;
      }
      done = true;
      if (button && button.name) {
        var action = document.createElement("input");
        action.type = "hidden";
        action.name = button.name;
        action.value = button.value;
        form.appendChild(action);
      }
      form.submit();
    }
    whenSettled(post);
    window.setTimeout(post, SUBMIT_WAIT);
  });
})();
