// asynq dashboard: progressive enhancement only. Every action also works without JavaScript.
// - auto-refresh: re-fetch the page and swap <main>, unless the user is selecting rows;
// - confirmation for destructive buttons (data-confirm);
// - select-all checkbox, and "selected" buttons enabled only when rows are selected;
// - a running task's live progress (Server-Sent Events) on its page.
(function () {
  "use strict";
  var KEY = "asynq.refresh";
  var timer = null;
  var progressSource = null;
  var lastProgress = null;

  function showProgress(data) {
    lastProgress = data;
    var el = document.getElementById("progress");  // looked up each time: refreshes replace it
    if (!el) { return; }
    var bar = el.querySelector("progress");
    var p = data.progress;
    if (p && p.fraction !== null) { bar.value = p.fraction; } else { bar.removeAttribute("value"); }
    var parts = [];
    if (p) {
      if (p.message) { parts.push(p.message); }
      parts.push(p.total !== null ? p.done + " / " + p.total : String(p.done));
    }
    parts.push("state: " + data.state);
    el.querySelector(".progress-text").textContent = parts.join(" \u2014 ");
    el.setAttribute("data-state", data.state);
  }

  function watchProgress() {
    var el = document.getElementById("progress");
    if (!el || progressSource || typeof EventSource === "undefined") {
      if (el && lastProgress) { showProgress(lastProgress); }
      return;
    }
    progressSource = new EventSource(el.getAttribute("data-events"));
    progressSource.addEventListener("update", function (e) { showProgress(JSON.parse(e.data)); });
    progressSource.addEventListener("end", function (e) {
      showProgress(JSON.parse(e.data));
      progressSource.close();
    });
  }

  function interval() {
    var stored = window.localStorage ? localStorage.getItem(KEY) : null;
    var base = document.body.getAttribute("data-refresh");
    var value = parseFloat(stored !== null ? stored : base);
    return isNaN(value) ? 0 : value;
  }

  function busy() {
    var content = document.getElementById("content");
    return !!content.querySelector("input[type=checkbox]:checked") ||
      (document.activeElement && document.activeElement.tagName === "SELECT");
  }

  function refresh() {
    if (document.hidden || busy()) { return schedule(); }
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null && !busy()) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("content");
          var flash = fresh && fresh.querySelector(".flash");
          if (flash) { flash.remove(); }
          if (fresh) { document.getElementById("content").replaceChildren.apply(
            document.getElementById("content"), Array.prototype.slice.call(fresh.childNodes)); wire(); }
        }
      })
      .catch(function () { /* keep the current view; try again later */ })
      .then(schedule);
  }

  function schedule() {
    if (timer) { clearTimeout(timer); timer = null; }
    var s = interval();
    if (s > 0) { timer = setTimeout(refresh, s * 1000); }
  }

  function updateSelection(form) {
    var any = !!form.querySelector("input[name=task_id]:checked");
    form.querySelectorAll("[data-needs-selection]").forEach(function (b) { b.disabled = !any; });
  }

  function wire() {
    document.querySelectorAll("form.bulk").forEach(function (form) {
      var all = form.querySelector(".select-all");
      if (all) {
        all.addEventListener("change", function () {
          form.querySelectorAll("input[name=task_id]").forEach(function (c) { c.checked = all.checked; });
          updateSelection(form);
        });
      }
      form.querySelectorAll("input[name=task_id]").forEach(function (c) {
        c.addEventListener("change", function () { updateSelection(form); });
      });
      updateSelection(form);
    });
    watchProgress();
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm"))) { e.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("refresh-select");
    if (select) {
      var current = String(interval());
      var found = false;
      Array.prototype.forEach.call(select.options, function (o) { if (o.value === current) { found = true; } });
      if (!found) { var o = document.createElement("option"); o.value = current; o.textContent = current + "s"; select.appendChild(o); }
      select.value = current;
      select.addEventListener("change", function () {
        if (window.localStorage) { localStorage.setItem(KEY, select.value); }
        schedule();
      });
    }
    wire();
    schedule();
  });
})();
