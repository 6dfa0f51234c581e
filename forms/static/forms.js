// wangge forms: live skip logic, calculations and checks in the browser. The page works without this
// file (the server validates every submission); this only makes it quicker to fill in.
// Rules come from rules.js (window.WG_RULES, the pack's expressions compiled to JavaScript) and run on
// the expression runtime W (runtime.js), the same semantics as the server.
(function () {
  "use strict";
  var form = document.querySelector("form[data-wg-form]");
  if (!form || !window.W || !window.WG_RULES) return;
  var R = window.WG_RULES, W = window.W, REQUIRED = "\u6b64\u9879\u4e3a\u5fc5\u586b"; // 此项为必填
  document.documentElement.className += " wg-js";

  function rulesFor(path) { return R[path.replace(/\.\d+\./, ".*.")]; }
  function boxes() { return form.querySelectorAll(".wg-field[data-name]"); }
  function box(path) {
    var all = boxes();
    for (var i = 0; i < all.length; i++) if (all[i].getAttribute("data-name") === path) return all[i];
    return null;
  }
  function idOf(path) { return "f-" + path.replace(/\./g, "-"); }
  function empty(x) { return x === null || x === undefined || x === "" || (Array.isArray(x) && x.length === 0); }
  function own(el) { // inputs of this field, not of fields nested inside it
    return Array.prototype.filter.call(el.querySelectorAll("input,select,textarea"), function (i) {
      return i.closest(".wg-field") === el && i.type !== "hidden" || (i.type === "hidden" && i.name === el.getAttribute("data-name"));
    });
  }
  function read(el) {
    var t = el.getAttribute("data-type"), name = el.getAttribute("data-name"), ins = own(el), x;
    if (t === "note") return null;
    if (t === "repeat") {
      var out = [], items = el.querySelectorAll(":scope > fieldset > fieldset.wg-item");
      for (var k = 0; k < items.length; k++) {
        var obj = {}, kids = items[k].querySelectorAll(":scope > .wg-field");
        for (var j = 0; j < kids.length; j++) {
          var cn = kids[j].getAttribute("data-name").split(".").pop();
          obj[cn] = kids[j].hidden ? null : read(kids[j]);
        }
        out.push(obj);
      }
      return out;
    }
    if (t === "select_multiple") return ins.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
    if (t === "yes_no") { x = ins.filter(function (i) { return i.checked; })[0]; return x ? x.value === "true" : null; }
    if (t === "unit") {
      var code = null;
      ins.forEach(function (s) { if (s.tagName === "SELECT" && s.value) code = s.value; });
      return code;
    }
    if (t === "photo" || t === "file") return ins[0] && ins[0].files && ins[0].files.length ? { name: ins[0].files[0].name } : null;
    if (t === "select_one" && ins[0] && ins[0].type === "radio") {
      x = ins.filter(function (i) { return i.checked; })[0]; return x ? x.value : null;
    }
    x = ins[0] ? ins[0].value.trim() : "";
    if (x === "") return null;
    if (t === "integer" && /^[+-]?\d{1,16}$/.test(x)) return parseInt(x, 10);
    if (t === "decimal" && /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(x)) return Number(x);
    if (t === "datetime" && x.length === 16) return x + ":00";
    if (t === "id_card") return x.toUpperCase();
    return x;
  }
  function value(el) { return !el || el.hidden ? null : read(el); }
  function getter(path, current, extra) {
    var m = /^(\w+)\.(\d+)\.\w+$/.exec(path);
    return function (name) {
      if (name === ".") return current;
      if (extra && name in extra) return extra[name];
      if (m) { var sib = box(m[1] + "." + m[2] + "." + name); if (sib) return value(sib); }
      return value(box(name));
    };
  }
  function setValue(el, x) {
    var s = x === null || x === undefined ? "" : typeof x === "object" ? JSON.stringify(x) : String(x);
    own(el).forEach(function (i) { if (i.tagName !== "SELECT" && i.type !== "radio" && i.type !== "checkbox") i.value = s; });
    var out = document.getElementById(idOf(el.getAttribute("data-name")) + "-out");
    if (out) out.textContent = s;
  }
  function update() {
    for (var pass = 0; pass < 2; pass++) {
      var all = boxes();
      for (var i = 0; i < all.length; i++) {
        var el = all[i], path = el.getAttribute("data-name"), r = rulesFor(path);
        if (!r) continue;
        if (r.rel) el.hidden = !W.t(r.rel(getter(path, read(el)), W));
        if (r.calc && !el.hidden && (r.t === "calculate" || r.ro)) setValue(el, r.calc(getter(path, read(el)), W));
        if (r.cf) filterChoices(el, path, r);
      }
    }
  }
  function filterChoices(el, path, r) {
    var v = read(el);
    r.ch.forEach(function (c, i) {
      var ok = W.t(r.cf(getter(path, v, { choice: c }), W));
      var lab = el.querySelector('[data-choice="' + i + '"]');
      if (lab) lab.hidden = !ok;
      var opt = el.querySelector('option[value="' + CSS.escape(c.value) + '"]');
      if (opt) opt.hidden = opt.disabled = !ok;
    });
  }
  function check(el) {
    var path = el.getAttribute("data-name"), r = rulesFor(path), msg = null;
    if (!r || el.hidden || r.t === "note" || r.t === "calculate") return null;
    var x = read(el), v = getter(path, x);
    if (empty(x)) {
      if (r.req || (r.reqif && W.t(r.reqif(v, W)))) msg = r.rmsg || REQUIRED;
    } else if (r.con && !W.t(r.con(v, W))) msg = r.msg;
    show(el, msg);
    return msg;
  }
  function show(el, msg) {
    var id = idOf(el.getAttribute("data-name")), err = document.getElementById(id + "-error");
    if (!err) return;
    err.textContent = msg || "";
    err.hidden = !msg;
    el.classList.toggle("wg-has-error", !!msg);
    own(el).forEach(function (i) {
      if (msg) i.setAttribute("aria-invalid", "true"); else i.removeAttribute("aria-invalid");
      var d = (i.getAttribute("aria-describedby") || "").split(" ").filter(function (s) { return s && s !== id + "-error"; });
      if (msg) d.push(id + "-error");
      if (d.length) i.setAttribute("aria-describedby", d.join(" ")); else i.removeAttribute("aria-describedby");
    });
  }
  function cascade(sel) {
    var sels = Array.prototype.slice.call(sel.closest(".wg-field").querySelectorAll("select[data-level]"));
    var at = sels.indexOf(sel), next = sels[at + 1];
    sels.slice(at + 1).forEach(function (s) { s.innerHTML = '<option value="">\u8bf7\u5148\u9009\u62e9\u4e0a\u4e00\u7ea7</option>'; });
    if (!next || !sel.value) return;
    fetch(form.getAttribute("data-units") + "?parent=" + encodeURIComponent(sel.value), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (units) {
        next.innerHTML = '<option value="">\u8bf7\u9009\u62e9</option>';
        units.forEach(function (u) { var o = document.createElement("option"); o.value = u.code; o.textContent = u.name; next.appendChild(o); });
      });
  }
  // A field's "change" fires when the next one is pressed; showing or clearing its error then would move
  // the page under the finger and the tap would land on something else. So wait until the tap is over.
  var pressing = false, later = [];
  document.addEventListener("pointerdown", function () { pressing = true; }, true);
  document.addEventListener("pointerup", function () {
    pressing = false;
    setTimeout(function () { later.splice(0).forEach(check); }, 0);
  }, true);
  form.addEventListener("input", update);
  form.addEventListener("change", function (e) {
    if (e.target.matches("select[data-level]")) cascade(e.target);
    update();
    var el = e.target.closest(".wg-field");
    if (el) { if (pressing) later.push(el); else check(el); }
  });
  form.addEventListener("submit", function (e) {
    var s = e.submitter;
    if (s && s.value !== "submit") return; // add/remove an entry, refresh: the server re-renders
    update();
    var bad = [], all = boxes();
    for (var i = 0; i < all.length; i++) {
      if (all[i].closest(".wg-field[hidden]")) continue;
      var msg = check(all[i]);
      if (msg) bad.push([all[i], msg]);
    }
    if (!bad.length) return;
    e.preventDefault();
    var sum = document.getElementById("wg-summary");
    sum.innerHTML = "";
    var h = document.createElement("h2"), ul = document.createElement("ul");
    h.textContent = "\u6709 " + bad.length + " \u5904\u9700\u8981\u4fee\u6539"; // 有 n 处需要修改
    bad.forEach(function (b) {
      var li = document.createElement("li"), a = document.createElement("a"), lab = b[0].querySelector("label,legend");
      var target = own(b[0])[0];
      a.href = "#" + (target ? target.id : idOf(b[0].getAttribute("data-name")));
      a.textContent = (lab ? lab.textContent.replace(/\s*\*\s*\(\u5fc5\u586b\)/, "").trim() : "") + ":" + b[1];
      li.appendChild(a); ul.appendChild(li);
    });
    sum.appendChild(h); sum.appendChild(ul); sum.hidden = false; sum.focus();
  });
  Array.prototype.forEach.call(form.querySelectorAll(".wg-locate"), function (b) {
    if (!navigator.geolocation) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        var i = document.getElementById(b.getAttribute("data-for"));
        i.value = p.coords.latitude.toFixed(6) + " " + p.coords.longitude.toFixed(6);
        i.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  });
  update();
})();
