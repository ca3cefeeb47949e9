// 流程规则 form editor (views/templates/admin/rules_form.html): the form is read into JSON, the
// diagram and the errors come back from the server ~400 ms after the last keystroke, and saving
// posts the same JSON with the id of the file the form was loaded from. No framework, no inline script.
(function () {
  "use strict";
  var form = document.getElementById("wf-form");
  if (!form || !window.fetch) return;
  var page = form.dataset, msg = {};  // data-msg-new-stage="…" becomes msg.newStage
  Object.keys(page).forEach(function (name) {
    if (/^msg[A-Z]/.test(name)) msg[name.charAt(3).toLowerCase() + name.slice(4)] = page[name];
  });
  var editable = page.editable === "1";
  var base = parseInt(page.base, 10);
  var dirty = false, timer = null, seq = 0, lastStageMap = null;

  function all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function one(selector, root) { return (root || document).querySelector(selector); }
  function field(root, name) { return root.querySelector('[data-f="' + name + '"]'); }
  function value(root, name) {
    var el = field(root, name);
    if (!el) return "";
    return el.type === "checkbox" ? el.checked : el.value;
  }
  function checked(root, name) {
    return all('[data-f="' + name + '"]', root).filter(function (e) { return e.checked; })
      .map(function (e) { return e.value; });
  }
  function format(text, n) { return text.replace("{n}", n); }
  function stageCards() { return all("#stages > .zt-stage-card"); }

  // --- the form as data ---------------------------------------------------------------------------
  function duration(root, prefix) {
    return {amount: value(root, prefix + ".amount"), unit: value(root, prefix + ".unit"),
            from: value(root, prefix + ".from") || "stage_entry"};
  }
  function collectAction(row) {
    return {id: row.dataset.id, title: value(row, "title"), to: value(row, "to"), role: value(row, "role"),
            require: checked(row, "require"), effect: value(row, "effect"), co_units: value(row, "co_units"),
            after_co_answers: value(row, "after_co_answers"), reopen_to: value(row, "reopen_to")};
  }
  function collectStage(card) {
    var own = one(".zt-stage-own", card);
    var max = duration(own, "extension.max");
    return {id: card.dataset.id, title: value(own, "title"), role: value(own, "role"), unit: value(own, "unit"),
            unit_code: value(own, "unit.fixed"), deadline: duration(own, "deadline"), pausable: value(own, "pausable"),
            extension: {approver: value(own, "extension.approver"), amount: max.amount, unit: max.unit},
            final: value(own, "final"), actions: all(".zt-action", card).map(collectAction)};
  }
  function collect() {
    var proc = one("#procedure"), esc = one("#escalation"), shared = one("#shared");
    var notices = {};
    all('[data-f^="notices."]', shared).forEach(function (el) { notices[el.dataset.f.slice(8)] = el.value; });
    return {
      title: value(proc, "title"), note: value(proc, "note"), effective: value(proc, "effective"),
      start: value(proc, "start"), stages: stageCards().map(collectStage),
      escalation: {remind_before: duration(esc, "remind_before"), red_after: duration(esc, "red_after"),
                   notify: {remind: checked(esc, "notify.remind"), yellow: checked(esc, "notify.yellow"),
                            red: checked(esc, "notify.red")}},
      templates: all(".zt-template").map(function (row) { return {title: value(row, "title"), text: value(row, "text")}; }),
      notices: notices,
      classifications: value(shared, "classifications").split("\n")
    };
  }

  // --- stages chosen by title, kept in step with the stage list ---------------------------------
  function refreshStages() {
    var stages = stageCards().map(function (card, i) {
      one(".zt-stage-num", card).textContent = String(i + 1);
      return [card.dataset.id, value(one(".zt-stage-own", card), "title") || card.dataset.id];
    });
    all(".zt-stage-select", form).forEach(function (select) {
      var current = select.value, blank = select.options.length ? select.options[0].textContent : msg.choose;
      while (select.options.length) select.remove(0);
      select.add(new Option(blank, ""));
      stages.forEach(function (s) { select.add(new Option(s[1], s[0])); });
      select.value = stages.some(function (s) { return s[0] === current; }) ? current : "";
    });
  }
  function freeId(prefix, taken) {
    var n = 1;
    while (taken.indexOf(prefix + "_" + n) >= 0) n++;
    return prefix + "_" + n;
  }
  function fromTemplate(id) { return document.getElementById(id).content.firstElementChild.cloneNode(true); }

  function newStage(after) {
    var card = fromTemplate("tpl-stage");
    card.dataset.id = freeId("stage", stageCards().map(function (c) { return c.dataset.id; }));
    field(one(".zt-stage-own", card), "title").value = msg.newStage;
    var list = one("#stages");
    list.insertBefore(card, after ? after.nextElementSibling : null);
    changed(true);
    var title = field(card, "title");
    title.focus();
    title.select();
  }
  function newAction(card) {
    var row = fromTemplate("tpl-action");
    row.dataset.id = freeId("action", all(".zt-action", card).map(function (r) { return r.dataset.id; }));
    field(row, "title").value = msg.newAction;
    one(".zt-actions", card).appendChild(row);
    changed(true);
    field(row, "title").focus();
    field(row, "title").select();
  }
  function move(el, up, button) {
    var sibling = up ? el.previousElementSibling : el.nextElementSibling;
    if (!sibling) return;
    el.parentNode.insertBefore(el, up ? sibling : sibling.nextElementSibling);
    changed(true);
    button.focus();
  }
  function remove(el) {
    var next = el.nextElementSibling || el.previousElementSibling;
    el.parentNode.removeChild(el);
    changed(true);
    var focus = next && next.querySelector("input, select, textarea");
    if (focus) focus.focus();
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-act]");
    if (!button || !editable) return;
    var act = button.dataset.act, card = button.closest(".zt-stage-card"), row = button.closest(".zt-action");
    if (act === "stage-add") newStage(null);
    else if (act === "stage-insert") newStage(card);
    else if (act === "stage-up" || act === "stage-down") move(card, act === "stage-up", button);
    else if (act === "stage-remove") { if (window.confirm(msg.confirmRemove)) remove(card); }
    else if (act === "action-add") newAction(card);
    else if (act === "action-up" || act === "action-down") move(row, act === "action-up", button);
    else if (act === "action-remove") remove(row);
    else if (act === "template-add") {
      var t = fromTemplate("tpl-template");
      one("#template-rows").appendChild(t);
      changed(false);
      field(t, "title").focus();
    } else if (act === "template-remove") remove(button.closest(".zt-template"));
    else if (act === "save") save(null);
  });
  // The diagram beside the form is small; at full size it covers the page until pressed again.
  one("#diagram-zoom").addEventListener("click", function (event) {
    var on = one(".zt-diagram-side").classList.toggle("zt-zoomed");
    event.currentTarget.setAttribute("aria-pressed", String(on));
    event.currentTarget.textContent = on ? msg.zoomOut : msg.zoomIn;
  });

  document.addEventListener("click", function (event) {  // the panels above the form
    var button = event.target.closest("#stale-panel [data-act], #mapping-panel [data-act]");
    if (!button) return;
    if (button.dataset.act === "reapply") {
      base = parseInt(one("#stale-panel").dataset.latest, 10);
      one("#stale-panel").hidden = true;
      status(msg.reapplied);
      changed(false);
    } else if (button.dataset.act === "save-mapped") {
      var map = {};
      all("#mapping-groups select").forEach(function (s) { map[s.dataset.group] = s.value; });
      save(map);
    }
  });
  form.addEventListener("input", function (event) {
    if (event.target.dataset.f === "title" && event.target.closest(".zt-stage-own")) refreshStages();
    changed(false);
  });
  form.addEventListener("change", function (event) {
    if (event.target.classList.contains("zt-unit-kind")) {
      one(".zt-unit-code", event.target.closest(".zt-stage-own")).hidden = event.target.value !== "fixed";
    }
    changed(false);
  });
  window.addEventListener("beforeunload", function (event) {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = msg.unsaved;
    return msg.unsaved;
  });

  function changed(structure) {
    if (structure) refreshStages();
    if (!editable) return;
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(preview, 400);
  }

  // --- talking to the server ------------------------------------------------------------------------
  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "X-CSRFToken": page.csrf},
                       body: JSON.stringify(body)})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          data.status = response.status;
          return data;
        });
      });
  }
  function status(text) { var el = one("#preview-status"); if (el) el.textContent = text; }

  function preview() {
    var mine = ++seq;
    status(msg.checking);
    post(page.previewUrl, {form: collect(), base: base}).then(function (data) {
      if (mine !== seq) return;  // an older answer arriving late
      if (data.status !== 200) { status(msg.failed); return; }
      if (data.svg) {
        one("#wf-diagram").innerHTML = data.svg;  // drawn by the server, every text escaped there
        one("#wf-diagram").classList.remove("zt-stale");
        one("#diagram-note").textContent = "";
      } else {
        one("#wf-diagram").classList.add("zt-stale");
        one("#diagram-note").textContent = msg.staleDiagram;
      }
      showErrors(data.errors || []);
      status(data.errors && data.errors.length ? "" : msg.ok);
    }, function () { if (mine === seq) status(msg.failed); });
  }

  function locate(path) {
    if (!path) return null;
    var root, rest;
    if (path[0] === "wf") {
      rest = path.slice(1);
      if (rest[0] === "stages" && rest.length > 1) {
        var card = stageCards().filter(function (c) { return c.dataset.id === rest[1]; })[0];
        if (!card) return null;
        root = one(".zt-stage-own", card);
        rest = rest.slice(2);
        if (rest[0] === "actions" && rest.length > 1) {
          var row = all(".zt-action", card).filter(function (r) { return r.dataset.id === rest[1]; })[0];
          if (row) { root = row; rest = rest.slice(2); }
        }
      } else if (rest[0] === "escalation") { root = one("#escalation"); rest = rest.slice(1); }
      else if (rest[0] === "templates") {
        root = all(".zt-template")[parseInt(rest[1], 10)] || one("#templates");
        rest = rest.slice(2);
      } else root = one("#procedure");
    } else { root = one("#shared"); rest = path.slice(1); }
    rest = rest.filter(function (p) { return !/^[0-9]+$/.test(p); });
    while (rest.length) {
      var name = rest.join(".");
      var el = field(root, name) || root.querySelector('[data-f^="' + name + '."]');
      if (el) return el;
      rest.pop();
    }
    return root.querySelector("[data-f]");
  }

  function showErrors(errors) {
    all(".zt-field-error").forEach(function (e) { e.parentNode.removeChild(e); });
    all(".is-invalid").forEach(function (e) { e.classList.remove("is-invalid"); });
    var box = one("#form-errors"), list = one("ul", box);
    list.textContent = "";
    box.hidden = !errors.length;
    one("#form-errors-title").textContent = format(msg.errors, errors.length);
    errors.forEach(function (error) {
      var text = (error.label ? error.label + "：" : "") + error.message;
      var item = document.createElement("li");
      var el = locate(error.field);
      if (el) {
        var link = document.createElement("a");
        link.href = "#";
        link.textContent = text;
        link.addEventListener("click", function (event) { event.preventDefault(); el.focus(); });
        item.appendChild(link);
        el.classList.add("is-invalid");
        var holder = el.closest(".zt-f, .zt-check") || el;
        if (!one(".zt-field-error", holder)) {
          var note = document.createElement("div");
          note.className = "zt-field-error invalid-feedback d-block";
          holder.appendChild(note);
        }
        var notes = one(".zt-field-error", holder);
        notes.textContent = (notes.textContent ? notes.textContent + "；" : "") + error.message;
        if (one("#shared").contains(el)) one("#shared").open = true;
      } else item.textContent = text;
      list.appendChild(item);
    });
  }

  function showStale(data) {
    var panel = one("#stale-panel"), pre = one("#stale-diff");
    panel.dataset.latest = data.latest;
    one("[data-act=reapply]", panel).hidden = !!data.conflict;
    one("#stale-conflict").hidden = !data.conflict;
    one("#stale-message").textContent = data.message;
    pre.textContent = "";
    (data.diff || []).forEach(function (line) {
      var span = document.createElement("span");
      span.className = line.charAt(0) === "+" ? "zt-add" : (line.charAt(0) === "-" ? "zt-del" : "");
      span.textContent = line + "\n";
      pre.appendChild(span);
    });
    panel.hidden = false;
    panel.scrollIntoView();
  }

  function showMapping(groups) {
    var holder = one("#mapping-groups");
    holder.textContent = "";
    groups.forEach(function (group, i) {
      var label = document.createElement("label");
      label.className = "d-block";
      label.htmlFor = "map-" + i;
      label.textContent = group.title + "（" + format(msg.tickets, group.count) + "）" + msg.moveTo + " ";
      var select = document.createElement("select");
      select.id = "map-" + i;
      select.className = "form-control form-control-sm d-inline-block w-auto";
      select.dataset.group = group.id;
      select.add(new Option(msg.choose, ""));
      group.choices.forEach(function (s) { select.add(new Option(s[1], s[0])); });
      if (lastStageMap && lastStageMap[group.id]) select.value = lastStageMap[group.id];
      label.appendChild(select);
      holder.appendChild(label);
      var codes = document.createElement("div");  // the dry run: which tickets move
      codes.className = "small text-muted mb-2";
      codes.textContent = group.tickets.join("、") + (group.count > group.tickets.length ? " …" : "");
      holder.appendChild(codes);
    });
    one("#mapping-panel").hidden = false;
    one("#mapping-panel").scrollIntoView();
  }

  function save(stageMap) {
    clearTimeout(timer);
    lastStageMap = stageMap;
    var button = one("#save-form");
    button.disabled = true;
    status(msg.saving);
    post(page.saveUrl, {form: collect(), base: base, stage_map: stageMap}).then(function (data) {
      button.disabled = false;
      status("");
      if (data.ok) {
        dirty = false;
        window.location.href = data.url;
      } else if (data.stale) showStale(data);
      else if (data.mapping) showMapping(data.mapping);
      else if (data.errors) { showErrors(data.errors); one("#form-errors").scrollIntoView(); }
      else status(msg.failed);
    }, function () { button.disabled = false; status(msg.failed); });
  }

  refreshStages();
  if (editable) one("#save-form").hidden = false;
})();
