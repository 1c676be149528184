// The playground page: it keeps who you are, which channel and thread are
// open, sends what you do to the emulator (which signs it and sends it to
// the bot as Slack would), and swaps in the server-rendered parts whenever
// the server says something changed (server-sent events; polling if not).
(function () {
  "use strict";
  var body = document.body;
  var state = {user: body.dataset.user, view: body.dataset.view, thread: body.dataset.thread};
  var $ = function (id) { return document.getElementById(id); };

  function query() {
    var q = new URLSearchParams({user: state.user, view: state.view});
    if (state.thread) q.set("thread", state.thread);
    return q.toString();
  }

  function toast(msg) {
    var t = $("toast");
    t.textContent = msg;
    t.classList.remove("hidden");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.classList.add("hidden"); }, 6000);
  }

  function post(path, data) {
    data.user = state.user;
    return fetch("/playground/" + path, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(data)
    }).then(function (r) { return r.json(); }).then(function (res) {
      if (res.error) toast(res.error);
      refresh();
      return res;
    }).catch(function (e) { toast(String(e)); });
  }

  // Form values survive a re-render of the same modal (e.g. inline errors).
  function modalValues(form) {
    var out = {};
    if (!form) return out;
    form.querySelectorAll("input, textarea, select").forEach(function (el) {
      var k = el.name + "|" + (el.type === "radio" || el.type === "checkbox" ? el.value : "");
      out[k] = (el.type === "radio" || el.type === "checkbox") ? el.checked : el.value;
    });
    return out;
  }
  function restoreValues(form, vals) {
    if (!form) return;
    form.querySelectorAll("input, textarea, select").forEach(function (el) {
      var k = el.name + "|" + (el.type === "radio" || el.type === "checkbox" ? el.value : "");
      if (!(k in vals)) return;
      if (el.type === "radio" || el.type === "checkbox") el.checked = vals[k]; else el.value = vals[k];
    });
  }

  // setHTML replaces an element's content only when it changed, so the
  // nodes under the pointer stay put; it reports whether it replaced.
  function setHTML(el, html) {
    if (el.dataset.last === html) return false;
    el.dataset.last = html;
    el.innerHTML = html;
    return true;
  }

  var pending = false, running = false;
  function refresh() {
    if (running) { pending = true; return; }
    running = true;
    // The page says whose view it shows only once it shows it: a switch of
    // user during the fetch is rendered by the pending refresh.
    var asked = {user: state.user, view: state.view, thread: state.thread || ""};
    fetch("/playground/state?" + query()).then(function (r) { return r.json(); }).then(function (p) {
      if (p.error) { toast(p.error); return; }
      var main = $("main"), atBottom = main.scrollHeight - main.scrollTop - main.clientHeight < 40;
      setHTML($("nav"), p.nav);
      $("title").textContent = p.title;
      $("clock").textContent = p.clock;
      if (setHTML(main, p.main) && atBottom) main.scrollTop = main.scrollHeight;
      var th = $("thread");
      if (p.thread && th.dataset.last === p.thread) {
        // unchanged: keep the nodes (and what is being typed)
      } else if (p.thread) {
        th.dataset.last = p.thread;
        var typed = $("thread-text") ? $("thread-text").value : "";
        var focused = document.activeElement && document.activeElement.id === "thread-text";
        var ts = th.querySelector(".thread-stream");
        var threadAtBottom = !ts || ts.scrollHeight - ts.scrollTop - ts.clientHeight < 40;
        th.innerHTML = p.thread;
        th.classList.remove("hidden");
        ts = th.querySelector(".thread-stream");
        if (threadAtBottom) ts.scrollTop = ts.scrollHeight;
        $("thread-text").value = typed;
        if (focused) $("thread-text").focus();
      } else {
        th.innerHTML = "";
        th.dataset.last = "";
        th.classList.add("hidden");
      }
      var modal = $("modal");
      if (modal.dataset.key !== p.modal_key) {
        var old = modal.querySelector("form.modal");
        var sameView = old && p.modal_key.indexOf(old.dataset.viewId + "/") === 0;
        var vals = sameView ? modalValues(old) : {};
        modal.innerHTML = p.modal;
        modal.dataset.key = p.modal_key;
        restoreValues(modal.querySelector("form.modal"), vals);
      }
      body.dataset.user = asked.user;
      body.dataset.view = asked.view;
      body.dataset.thread = asked.thread;
    }).catch(function (e) { toast(String(e)); }).finally(function () {
      running = false;
      if (pending) { pending = false; refresh(); }
    });
  }

  function go() {
    history.replaceState(null, "", "/?" + query());
    refresh();
    if (state.view === "home") post("home", {});
  }

  // Where an element lives: a message (channel + ts) or a view (modal, Home).
  function container(el) {
    var v = el.closest("[data-view-id]");
    if (v && v.dataset.viewId) return {view_id: v.dataset.viewId};
    var m = el.closest("[data-ts]");
    if (m && m.dataset.ephemeral) { toast("Buttons in ephemeral messages are not emulated."); return null; }
    if (m) return {channel: m.dataset.channel, ts: m.dataset.ts};
    return null;
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("button, a");
    if (!el) return;
    var d = el.dataset;
    if (d.actionId !== undefined && el.tagName === "BUTTON") {
      ev.preventDefault();
      if (d.confirm && !window.confirm(d.confirm)) return;
      var c = container(el);
      if (!c) return;
      c.action_id = d.actionId; c.block_id = d.blockId; c.type = d.type || "button"; c.value = d.value || "";
      post("action", c);
    } else if (d.reaction !== undefined) {
      var m = el.closest("[data-ts]");
      post("react", {channel: m.dataset.channel, ts: m.dataset.ts, name: d.reaction});
    } else if (d.shortcut !== undefined) {
      var sm = el.closest("[data-ts]");
      post("shortcut", {channel: sm.dataset.channel, ts: sm.dataset.ts});
    } else if (d.openThread !== undefined) {
      state.thread = d.openThread; go();
    } else if (d.closeThread !== undefined) {
      state.thread = ""; go();
    } else if (d.nav !== undefined) {
      ev.preventDefault();
      state.view = d.nav; state.thread = ""; go();
    } else if (d.closeModal !== undefined) {
      post("close", {view_id: el.closest("form").dataset.viewId});
    } else if (d.forward !== undefined) {
      post("forward", {duration: d.forward});
    } else if (el.id === "load-samples") {
      el.disabled = true;
      post("samples", {}).finally(function () { el.disabled = false; });
    }
  });

  // Selects in messages and on the Home tab act at once, as in Slack.
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.id === "user") { state.user = el.value; state.thread = ""; $("modal").dataset.key = "-"; go(); return; }
    if (!el.classList.contains("el-select") || !el.value) return;
    var c = container(el);
    if (!c) return;
    var opt = el.options[el.selectedIndex];
    c.action_id = el.dataset.actionId; c.block_id = el.dataset.blockId; c.type = el.dataset.type;
    c.value = el.value; c.text = opt.dataset.text || opt.textContent;
    post("action", c);
  });

  // A modal's state, in the shape of view.state.values.
  function stateValues(form) {
    var values = {};
    form.querySelectorAll("[data-type][data-block-id]").forEach(function (el) {
      var b = el.dataset.blockId, a = el.dataset.actionId, t = el.dataset.type, v = {type: t};
      if (t === "radio_buttons" || t === "checkboxes") {
        var picked = el.querySelectorAll("input:checked");
        var opts = Array.prototype.map.call(picked, function (i) {
          return {text: {type: "plain_text", text: i.dataset.text}, value: i.value};
        });
        if (t === "radio_buttons") { if (opts.length) v.selected_option = opts[0]; } else v.selected_options = opts;
      } else if (t === "static_select") {
        if (el.value) v.selected_option = {text: {type: "plain_text", text: el.options[el.selectedIndex].dataset.text}, value: el.value};
      } else if (t === "users_select") {
        if (el.value) v.selected_user = el.value;
      } else {
        v.value = el.value;
      }
      values[b] = values[b] || {};
      values[b][a] = v;
    });
    return values;
  }

  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    ev.preventDefault();
    if (f.classList.contains("modal")) {
      post("submit", {view_id: f.dataset.viewId, values: stateValues(f)});
    } else if (f.id === "composer" || f.id === "thread-composer") {
      var input = f.querySelector("input[name=text]");
      var text = input.value;
      if (!text.trim()) return;
      input.value = "";
      var ch = state.view === "home" ? body.dataset.triage : state.view;
      post("message", {channel: ch, thread_ts: f.dataset.threadTs || "", text: text});
    } else if (f.id === "new-lead") {
      var out = $("lead-result");
      fetch("/leads", {
        method: "POST",
        headers: {"Authorization": "Bearer " + body.dataset.intakeSecret, "Content-Type": "application/x-www-form-urlencoded"},
        body: new URLSearchParams(new FormData(f))
      }).then(function (r) { return r.json().then(function (j) { return {status: r.status, body: j}; }); })
        .then(function (r) {
          if (r.status === 201 || r.status === 200) { out.textContent = "Created " + r.body.id; f.reset(); }
          else out.textContent = "Refused (" + r.status + "): " + (r.body.error || "") + (r.body.field ? " [" + r.body.field + "]" : "");
        }).catch(function (e) { out.textContent = String(e); });
    }
  });

  // Live: the server says "changed", the page fetches the new parts.
  var timer = null;
  function poll() { if (!timer) timer = setInterval(refresh, 2000); }
  if (window.EventSource) {
    var es = new EventSource("/playground/events");
    es.onmessage = function () { refresh(); };
    es.onerror = poll;
  } else {
    poll();
  }
  if (state.view === "home") post("home", {});
  var main = $("main");
  main.scrollTop = main.scrollHeight;
})();
