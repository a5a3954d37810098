/* ごみ出しナビ: my collection point → its next days, the month calendar, .ics and push reminders, notices, item
   search. Talks to /garbage/* only; every text from the server goes in with textContent. */
(function () {
  "use strict";
  var G = (window.GisGarbage = {});
  var WEEK = ["日", "月", "火", "水", "木", "金", "土"];
  var conf, map, pointsLayer, chosenLayer, here;
  var state = { point: null, group: null, city: null, month: null };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function message(text, error) {
    var m = $("gb-msg");
    m.textContent = text || "";
    m.classList.toggle("gis-error", !!error);
  }
  var pending = 0;
  function fetchJSON(url, options) {
    pending++;
    return fetch(url, Object.assign({ headers: { Accept: "application/json" } }, options || {})).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) throw new Error(body.description || "エラー（" + r.status + "）");
        return body;
      });
    }).finally(function () { pending--; });
  }
  G.idle = function () { return pending === 0; };
  function parseDay(s) { var p = s.split("-"); return new Date(+p[0], +p[1] - 1, +p[2]); }
  function iso(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }
  function dayText(s) {
    var d = parseDay(s);
    return (d.getMonth() + 1) + "月" + d.getDate() + "日（" + WEEK[d.getDay()] + "）";
  }
  function todayJST() {
    // The calendar is in Japan time whatever the phone's zone is.
    var now = new Date(Date.now() + 9 * 3600 * 1000);
    return new Date(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  }
  function relative(s) {
    var days = Math.round((parseDay(s) - todayJST()) / 86400000);
    return days === 0 ? "今日" : days === 1 ? "明日" : days === 2 ? "あさって" : days + "日後";
  }
  function statusNote(d) {
    if (d.status === "move") return "振替" + (d.planned_day ? "（本来 " + dayText(d.planned_day) + "）" : "");
    if (d.status === "extra") return "臨時";
    return "";
  }

  // -- the map ------------------------------------------------------------------------------------
  function drawAllPoints() {
    fetchJSON(conf.urls.allPoints).then(function (fc) {
      pointsLayer = L.geoJSON(fc, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 6, color: "#b35900", weight: 1.5, fillColor: "#ff7f00", fillOpacity: 0.85 });
        },
        onEachFeature: function (f, layer) {
          layer.on("click", function (ev) { choose(ev.latlng.lat, ev.latlng.lng, null); });
        },
      }).addTo(map);
    }).catch(function () { message("集積所を読み込めませんでした。", true); });
  }
  function markHere(lat, lon, radius) {
    if (here) map.removeLayer(here);
    here = L.layerGroup([
      L.circle([lat, lon], { radius: Math.max(radius || 0, 10), color: "#0b4f6c", weight: 1, fillOpacity: 0.08 }),
      L.circleMarker([lat, lon], { radius: 5, color: "#fff", weight: 2, fillColor: "#0b4f6c", fillOpacity: 1 }),
    ]).addTo(map);
  }

  // -- points and their next days -----------------------------------------------------------------
  function choose(lat, lon, address) {
    message("検索中…");
    var q = address ? "address=" + encodeURIComponent(address) : "lat=" + lat + "&lon=" + lon;
    return fetchJSON(conf.urls.points + "?" + q + "&limit=3").then(function (body) {
      var pts = body.points || [];
      if (!pts.length) { message((body.precision && body.precision.message) || "近くに集積所が見つかりませんでした。", true); return; }
      var p = body.precision || {};
      message(p.message || "");
      if (address && body.query && body.query.lat != null) markHere(body.query.lat, body.query.lon, p.uncertainty_m);
      state.sample = !!body.sample;
      showPoint(pts[0]);
      showNear(pts.slice(1));
      var bounds = L.latLngBounds(pts.map(function (x) { return [x.lat, x.lon]; }));
      if (here) bounds.extend(here.getLayers()[1].getLatLng());
      map.fitBounds(bounds.pad(0.3), { maxZoom: 17 });
      showSources(body.sources || []);
    }).catch(function (e) { message(e.message, true); });
  }
  G.choose = choose;

  function nextList(point) {
    var ul = el("ul", "gb-next");
    (point.next || []).forEach(function (d) {
      var li = el("li", "gb-next-item");
      li.dataset.category = d.category;
      li.appendChild(el("span", "gb-cat", d.category));
      var when = el("span", "gb-when", dayText(d.day) + " " + relative(d.day));
      li.appendChild(when);
      var note = statusNote(d);
      if (note || d.reason) li.appendChild(el("span", "gb-note", [note, d.reason].filter(Boolean).join(" ")));
      ul.appendChild(li);
    });
    if (!ul.children.length) ul.appendChild(el("li", "gb-hint", "この先の収集日のデータがありません。"));
    return ul;
  }

  function showPoint(point) {
    state.point = point;
    state.group = point.group_id;
    state.city = point.group_id.split("-")[0];
    var box = $("gb-point");
    box.innerHTML = "";
    var h = el("h2", "gb-title", point.name);
    if (state.sample) h.appendChild(el("span", "gis-tag", "サンプル"));
    box.appendChild(h);
    box.appendChild(el("p", "gb-meta", [point.group_name, point.district, point.distance_m != null ? "約" + Math.round(point.distance_m) + " m" : ""].filter(Boolean).join("・")));
    if (point.accessibility) box.appendChild(el("p", "gb-meta", point.accessibility));
    box.appendChild(el("h3", null, "次の収集日"));
    box.appendChild(nextList(point));
    if (chosenLayer) map.removeLayer(chosenLayer);
    chosenLayer = L.circleMarker([point.lat, point.lon], { radius: 11, color: "#d7191c", weight: 3, fill: false }).addTo(map);
    showNotices();
    state.month = todayJST();
    showCalendar();
    showSubscribe();
  }

  function showNear(points) {
    var box = $("gb-near");
    box.innerHTML = "";
    if (!points.length) return;
    box.appendChild(el("h3", null, "ほかの近くの集積所"));
    var ul = el("ul", "gb-near-list");
    points.forEach(function (p) {
      var b = el("button", "gb-link", p.name + "（約" + Math.round(p.distance_m) + " m・" + p.group_name + "）");
      b.type = "button";
      b.addEventListener("click", function () { showPoint(p); map.setView([p.lat, p.lon], Math.max(map.getZoom(), 16)); });
      var li = el("li");
      li.appendChild(b);
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  // -- the month calendar -------------------------------------------------------------------------
  function showCalendar() {
    var box = $("gb-cal");
    var first = new Date(state.month.getFullYear(), state.month.getMonth(), 1);
    var last = new Date(first.getFullYear(), first.getMonth() + 1, 0);
    var url = conf.urls.groups + "/" + encodeURIComponent(state.group) + "/calendar?from=" + iso(first) + "&to=" + iso(last);
    fetchJSON(url).then(function (cal) {
      var colors = {};
      (cal.categories || []).forEach(function (c) { colors[c.category] = c.color || "#888"; });
      var byDay = {};
      (cal.days || []).forEach(function (d) { (byDay[d.day] = byDay[d.day] || []).push(d); });
      var off = {};
      (cal.cancelled || []).forEach(function (d) { off[d.day] = d.reason || "収集なし"; });
      box.innerHTML = "";
      var nav = el("div", "gb-cal-nav");
      var prev = el("button", null, "‹ 前の月"), next = el("button", null, "次の月 ›");
      prev.type = next.type = "button";
      prev.onclick = function () { state.month = new Date(first.getFullYear(), first.getMonth() - 1, 1); showCalendar(); };
      next.onclick = function () { state.month = new Date(first.getFullYear(), first.getMonth() + 1, 1); showCalendar(); };
      nav.appendChild(prev);
      nav.appendChild(el("strong", null, first.getFullYear() + "年" + (first.getMonth() + 1) + "月"));
      nav.appendChild(next);
      box.appendChild(nav);
      var table = el("table", "gb-cal-table");
      var head = el("tr");
      WEEK.forEach(function (w) { head.appendChild(el("th", null, w)); });
      table.appendChild(head);
      var row = el("tr");
      for (var i = 0; i < first.getDay(); i++) row.appendChild(el("td", "gb-empty"));
      for (var d = 1; d <= last.getDate(); d++) {
        var date = new Date(first.getFullYear(), first.getMonth(), d), key = iso(date);
        var td = el("td");
        td.dataset.day = key;
        td.appendChild(el("span", "gb-daynum", String(d)));
        (byDay[key] || []).forEach(function (x) {
          var chip = el("span", "gb-chip", x.category.slice(0, 4));
          chip.title = x.category + (statusNote(x) ? "（" + statusNote(x) + "）" : "");
          chip.style.background = colors[x.category] || "#888";
          td.appendChild(chip);
        });
        if (off[key]) { td.classList.add("gb-off"); td.appendChild(el("span", "gb-offnote", off[key])); }
        if (key === iso(todayJST())) td.classList.add("gb-today");
        row.appendChild(td);
        if (date.getDay() === 6) { table.appendChild(row); row = el("tr"); }
      }
      if (row.children.length) table.appendChild(row);
      box.appendChild(table);
      var legend = el("p", "gb-legend");
      (cal.categories || []).forEach(function (c) {
        var s = el("span", "gb-chip", c.category);
        s.style.background = c.color || "#888";
        legend.appendChild(s);
      });
      box.appendChild(legend);
    }).catch(function (e) { box.textContent = e.message; });
  }

  // -- calendar subscription and push -------------------------------------------------------------
  function showSubscribe() {
    var box = $("gb-sub");
    box.innerHTML = "";
    var row = el("p", "gb-ics");
    var time = el("select");
    time.setAttribute("aria-label", "前日の通知時刻");
    ["18:00", "19:00", "20:00", "21:00"].forEach(function (t) { var o = el("option", null, t); o.value = t; if (t === "19:00") o.selected = true; time.appendChild(o); });
    var a = el("a", "gb-button", "カレンダーに登録（.ics）");
    function href() { a.href = conf.urls.groups + "/" + encodeURIComponent(state.group) + "/calendar.ics?alarm=" + time.value; }
    time.onchange = href;
    href();
    row.appendChild(el("span", null, "前日 "));
    row.appendChild(time);
    row.appendChild(el("span", null, " にお知らせ "));
    row.appendChild(a);
    box.appendChild(row);
    var push = el("p", "gb-push");
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      push.textContent = "この端末のブラウザーでは通知（Web Push）を使えません。カレンダー登録をご利用ください。";
    } else {
      var b = el("button", "gb-button", "前日の夜に通知を受け取る");
      b.type = "button";
      b.onclick = function () { subscribe(time.value, push); };
      push.appendChild(b);
      var saved = localStorage.getItem("gb-sub-" + state.group);
      if (saved) {
        var u = el("button", "gb-link", "通知をやめる");
        u.type = "button";
        u.onclick = function () { unsubscribe(JSON.parse(saved), push); };
        push.appendChild(u);
      }
    }
    box.appendChild(push);
  }

  function b64ToBytes(s) {
    var pad = "=".repeat((4 - (s.length % 4)) % 4), raw = atob((s + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  }

  function subscribe(alarm, box) {
    var group = state.group;
    navigator.serviceWorker.register(conf.urls.serviceWorker)
      .then(function (reg) { return fetchJSON(conf.urls.pushKey).then(function (k) { return [reg, k]; }); })
      .then(function (rk) {
        return rk[0].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64ToBytes(rk[1].public_key || rk[1].key) });
      })
      .then(function (sub) {
        return fetchJSON(conf.urls.subscriptions, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ subscription: sub.toJSON(), group_id: group, remind_hour: parseInt(alarm, 10) }),
        });
      })
      .then(function (saved) {
        localStorage.setItem("gb-sub-" + group, JSON.stringify({ id: saved.id, token: saved.removal_token }));
        box.textContent = "登録しました。収集日の前日 " + alarm + " ごろに通知します。";
      })
      .catch(function (e) { box.appendChild(el("span", "gis-error", " 登録できませんでした: " + e.message)); });
  }

  function unsubscribe(saved, box) {
    fetch(conf.urls.subscriptions + "/" + saved.id, { method: "DELETE", headers: { Authorization: "Bearer " + saved.token } })
      .then(function () { localStorage.removeItem("gb-sub-" + state.group); box.textContent = "通知をやめました。"; });
  }

  // -- notices, items, sources --------------------------------------------------------------------
  function showNotices() {
    var box = $("gb-notices");
    var q = "?city=" + encodeURIComponent(state.city || "") + (state.group ? "&group=" + encodeURIComponent(state.group) : "");
    fetchJSON(conf.urls.notices + q).then(function (body) {
      box.innerHTML = "";
      (body.notices || []).forEach(function (n) {
        var d = el("div", "gb-notice");
        d.appendChild(el("strong", null, n.title));
        d.appendChild(el("p", null, n.body));
        box.appendChild(d);
      });
    }).catch(function () { box.innerHTML = ""; });
  }

  function searchItems(q) {
    var ul = $("gb-items");
    ul.innerHTML = "";
    q = (q || "").trim();
    if (!q) return Promise.resolve();
    var city = state.city ? "&city=" + state.city : "";
    return fetchJSON(conf.urls.items + "?q=" + encodeURIComponent(q) + city).then(function (body) {
      (body.items || []).slice(0, 8).forEach(function (it) {
        var li = el("li", "gb-item");
        li.appendChild(el("strong", null, it.name));
        li.appendChild(el("span", "gb-cat", it.category));
        if (it.notice) li.appendChild(el("p", "gb-note", it.notice));
        ul.appendChild(li);
      });
      if (!ul.children.length) ul.appendChild(el("li", "gb-hint", "見つかりませんでした。別の言い方でお試しください。"));
    }).catch(function (e) { ul.appendChild(el("li", "gis-error", e.message)); });
  }
  G.searchItems = searchItems;

  function showSources(list) {
    var p = $("gb-sources");
    var items = (list.length ? list : conf.sources).map(function (s) {
      return s.attribution || s.title;
    }).filter(function (v, i, a) { return v && a.indexOf(v) === i; });
    p.textContent = items.length ? "出典: " + items.join(" / ") : "";
  }

  G.init = function (leafletMap) {
    map = leafletMap;
    conf = JSON.parse($("gb-config").textContent);
    L.control.scale({ imperial: false }).addTo(map);
    drawAllPoints();
    showSources([]);
    $("gb-search").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = $("gb-q").value.trim();
      if (q) choose(null, null, q);
    });
    $("gb-here").addEventListener("click", function () {
      if (!navigator.geolocation) { message("現在地を使えません。住所を入れてください。", true); return; }
      message("現在地を確認中…");
      navigator.geolocation.getCurrentPosition(function (pos) {
        markHere(pos.coords.latitude, pos.coords.longitude, pos.coords.accuracy);
        choose(pos.coords.latitude, pos.coords.longitude, null);
      }, function () { message("現在地を取得できませんでした。住所を入れてください。", true); }, { enableHighAccuracy: true, timeout: 10000 });
    });
    $("gb-items-form").addEventListener("submit", function (ev) { ev.preventDefault(); searchItems($("gb-item-q").value); });
    var params = new URLSearchParams(location.search);
    if (params.get("address")) { $("gb-q").value = params.get("address"); choose(null, null, params.get("address")); }
    else if (params.get("lat") && params.get("lon")) choose(+params.get("lat"), +params.get("lon"), null);
  };
})();
