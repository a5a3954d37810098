/* 浸水センサ（ライブ）: every sensor by state from GET /sensors, polled with If-None-Match (304: nothing to redraw),
   the flooded and silent lists, the latest events, and a 24 h sparkline in each popup. Every time is formatted here
   in JST from the ISO time with its offset, whatever the device's zone; every text from the server goes in with
   textContent. A failed poll is said at once; after `staleAfter` failures the markers turn grey (「古い情報」). */
(function () {
  "use strict";
  var G = (window.GisSensors = {});
  var JST_MS = 9 * 3600 * 1000;
  var EVENT_KINDS = { flooded: "浸水", receded: "解消", silent: "途絶", back: "復帰" };
  var conf, map, interval, timer, ticker;
  var markers = {}, feats = {}, popups = {};
  var fc = null, etag = null, eventsEtag = null, rules = {};
  var failures = 0, stale = false, lastOk = null, skew = 0, polls = 0, loaded = false, pending = 0, fitted = false;
  var flying = 0; // focus() fly-tos under way (the page is not idle while one runs)

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // -- time, always in JST ------------------------------------------------------------------------
  function ms(iso) { var t = iso == null ? NaN : Date.parse(iso); return isNaN(t) ? null : t; }
  function pad(n) { return String(n).padStart(2, "0"); }
  function jst(t) { return new Date(t + JST_MS); } // read with getUTC*: the wall clock in Japan
  function clockJST(t, seconds) {
    var d = jst(t);
    return d.getUTCHours() + ":" + pad(d.getUTCMinutes()) + (seconds ? ":" + pad(d.getUTCSeconds()) : "");
  }
  function dateTimeJST(t) {
    if (t == null) return "—";
    var d = jst(t);
    return (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日 " + clockJST(t, false);
  }
  function now() { return Date.now() + skew; } // the server's clock, learned from each answer's Date header
  function span(minutes) {
    minutes = Math.max(0, Math.floor(minutes));
    if (minutes < 60) return minutes + "分";
    var h = Math.floor(minutes / 60), m = minutes % 60;
    if (h < 24) return h + "時間" + (m ? m + "分" : "");
    var d = Math.floor(h / 24);
    return d + "日" + (h % 24 ? (h % 24) + "時間" : "");
  }
  function ago(t) {
    if (t == null) return "";
    var minutes = (now() - t) / 60000;
    return minutes < 1 ? "1分以内" : span(minutes) + "前";
  }
  function learnClock(r) {
    var d = ms(r.headers.get("Date"));
    if (d != null) skew = d - Date.now();
  }

  // -- fetching -----------------------------------------------------------------------------------
  function request(url, options) {
    pending++;
    var ctrl = window.AbortController ? new AbortController() : null;
    var limit = setTimeout(function () { if (ctrl) ctrl.abort(); }, Math.max(8000, interval * 1000));
    return fetch(url, Object.assign({ cache: "no-store", signal: ctrl && ctrl.signal }, options || {}))
      .finally(function () { clearTimeout(limit); pending--; });
  }
  function getJSON(url) {
    return request(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }
  G.idle = function () { return loaded && pending === 0 && flying === 0; };

  // -- states and markers -------------------------------------------------------------------------
  function stateOf(p) {
    // Anything the page does not know (or no state at all) is drawn as unknown, never as dry.
    return p && conf.states[p.state] ? p.state : "unknown";
  }
  function label(state) { return conf.states[state].label; }
  function note(state) {
    var text = conf.states[state].note;
    return rules.wet_minutes ? text.replace("10分", rules.wet_minutes + "分") : text;
  }
  // The state's symbol: its shape (CSS), its glyph and, for screen readers, its name.
  function symbol(state) {
    var i = el("i", "sn-sym sn-" + state);
    i.appendChild(el("b", null, conf.states[state].glyph));
    i.setAttribute("aria-hidden", "true");
    return i;
  }
  var Z_ORDER = { flooded: 3000, wet: 2000, unknown: 1000, dry: 0 }; // the urgent ones on top
  function iconFor(state) {
    var size = conf.states[state].size;
    return L.divIcon({
      className: "sn-mk sn-mk-" + state, html: symbol(state), iconSize: [size, size],
      popupAnchor: [0, -size / 2], tooltipAnchor: [0, -size / 2],
    });
  }
  function idOf(f) { return String(f.id != null ? f.id : f.properties.sensor_id); }
  function latLngOf(f) {
    var g = f.geometry;
    return g && g.type === "Point" && g.coordinates ? L.latLng(g.coordinates[1], g.coordinates[0]) : null;
  }

  function restyle() {
    Object.keys(markers).forEach(function (id) {
      var m = markers[id], p = feats[id].properties, st = stateOf(p);
      if (m.snState !== st) {
        m.setIcon(iconFor(st));
        m.setZIndexOffset(Z_ORDER[st]);
        m.snState = st;
      }
      var e = m.getElement();
      if (e) e.setAttribute("aria-label", (p.name || id) + "：" + label(st) + (stale ? "（古い情報）" : ""));
    });
  }

  function drawMarkers() {
    var seen = {};
    fc.features.forEach(function (f) {
      var id = idOf(f), ll = latLngOf(f);
      feats[id] = f;
      if (!ll) return;
      seen[id] = true;
      var m = markers[id];
      if (!m) {
        m = markers[id] = L.marker(ll, { pane: "sn-sensors", icon: iconFor("unknown"), keyboard: true });
        // Padding keeps an auto-panned popup clear of the zoom (left) and layer (right) controls.
        m.bindPopup(function () { return popupFor(id); }, {
          maxWidth: 300, minWidth: 220, className: "sn-popup",
          autoPanPaddingTopLeft: [46, 8], autoPanPaddingBottomRight: [54, 8],
        });
        m.bindTooltip(function () {
          return (feats[id].properties.name || id) + "：" + label(m.snState || "unknown");
        }, { direction: "top" });
        m.on("popupopen", function (e) { fitPopup(e.popup); loadHistory(id); });
        m.addTo(map);
      } else {
        m.setLatLng(ll);
      }
    });
    Object.keys(markers).forEach(function (id) {
      if (!seen[id]) { map.removeLayer(markers[id]); delete markers[id]; delete popups[id]; }
    });
    var listed = {};
    fc.features.forEach(function (f) { listed[idOf(f)] = true; });
    Object.keys(feats).forEach(function (id) { if (!listed[id]) delete feats[id]; });
    restyle();
  }

  // -- the popup ----------------------------------------------------------------------------------
  function popupFor(id) {
    var box = popups[id];
    if (!box) {
      box = popups[id] = el("div", "sn-pop");
      box.appendChild(el("div", "sn-pop-info"));
      var hist = el("div", "sn-pop-hist");
      box.appendChild(hist);
      var a = el("a", "sn-pop-link", "履歴データ（24時間・JSON）");
      a.href = historyUrl(id);
      a.target = "_blank";
      a.rel = "noopener";
      box.appendChild(a);
    }
    fillInfo(id);
    return box;
  }
  function row(table, key, value) {
    var tr = el("tr");
    tr.appendChild(el("th", null, key));
    tr.appendChild(el("td", null, value));
    table.appendChild(tr);
  }
  function fillInfo(id) {
    var box = popups[id];
    if (!box || !feats[id]) return;
    var p = feats[id].properties, st = stateOf(p), info = box.querySelector(".sn-pop-info");
    var since = ms(p.since), last = ms(p.last_seen);
    info.textContent = "";
    info.appendChild(el("h3", null, p.name || id));
    if (stale) info.appendChild(el("p", "sn-pop-stale", "古い情報：更新できていません（下の状態は最新ではありません）"));
    var state = el("p", "sn-pop-state sn-st-" + st);
    state.appendChild(symbol(st));
    state.appendChild(el("strong", null, label(st)));
    info.appendChild(state);
    info.appendChild(el("p", "sn-pop-note-state", note(st)));
    if (st === "unknown") state.appendChild(el("span", "sn-pop-for", last == null ? "通報の記録なし" : span((now() - last) / 60000) + " 通報なし"));
    else if (since != null) state.appendChild(el("span", "sn-pop-for", span((now() - since) / 60000) + "前から"));
    var t = el("table", "gis-kv sn-kv");
    if (st !== "unknown" && since != null) row(t, "この状態から", dateTimeJST(since));
    row(t, "最終受信", last == null ? "—" : dateTimeJST(last) + "（" + ago(last) + "）");
    var level = p.level_cm != null ? p.level_cm + " cm" : "—";
    row(t, st === "unknown" ? "浸水深（途絶前）" : "浸水深", level);
    row(t, "電池", p.battery_v != null ? Number(p.battery_v).toFixed(2) + " V" : "—");
    info.appendChild(t);
    var city = conf.cities[p.city_code];
    var foot = [id + (city ? "（" + city + "）" : ""), [p.vendor, p.sensor_type].filter(Boolean).join("・")];
    var footer = el("p", "sn-pop-foot", foot.filter(Boolean).join("・"));
    if (p.sample) footer.appendChild(el("span", "sn-pop-note", "・サンプルデータ（架空）"));
    info.appendChild(footer);
  }

  // Contents change in place (a popup grows upwards from its marker): no pan on a routine refresh, a refit when
  // the open popup changed height (e.g. the 「古い情報」 line came or went).
  function refreshPopups() {
    Object.keys(popups).forEach(function (id) {
      var open = markers[id] && markers[id].isPopupOpen(), before = open ? popups[id].offsetHeight : 0;
      fillInfo(id);
      if (open && popups[id].offsetHeight !== before) fitPopup(markers[id].getPopup());
    });
  }
  // A popup never taller than the map (phones): the rest scrolls inside it.
  function fitPopup(popup) {
    var size = map.getSize();
    popup.options.maxHeight = Math.max(160, size.y - 50);
    popup.options.maxWidth = Math.max(200, Math.min(300, size.x - 110));
    popup.options.minWidth = Math.min(220, popup.options.maxWidth);
    popup.update();
  }
  function fitOpenPopups() {
    Object.keys(markers).forEach(function (id) { if (markers[id].isPopupOpen()) fitPopup(markers[id].getPopup()); });
  }

  function historyUrl(id, from, to) {
    var url = conf.urls.history.replace("{id}", encodeURIComponent(id));
    return from ? url + "?from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to) : url;
  }
  // The history answer ({datastreams: [{kind, observations: [{phenomenon_time, result}]}]}) as [{kind, t, v}].
  function historyRows(body) {
    var rows = [];
    (body.datastreams || []).forEach(function (d) {
      (d.observations || []).forEach(function (o) {
        var t = ms(o.phenomenon_time), v = o.result === true ? 1 : o.result === false ? 0 : o.result;
        if (t != null && v != null && !isNaN(+v)) rows.push({ kind: d.kind, t: t, v: +v });
      });
    });
    return rows.sort(function (a, b) { return a.t - b.t; });
  }
  function loadHistory(id) {
    var box = popups[id] && popups[id].querySelector(".sn-pop-hist");
    if (!box) return;
    var to = now(), from = to - 24 * 3600 * 1000;
    box.textContent = "過去24時間を読み込み中…";
    getJSON(historyUrl(id, new Date(from).toISOString(), new Date(to).toISOString())).then(function (body) {
      box.textContent = "";
      box.appendChild(sparkline(historyRows(body), from, to));
      if (markers[id] && markers[id].isPopupOpen()) fitPopup(markers[id].getPopup());
    }).catch(function () { box.textContent = "過去24時間の記録を読み込めませんでした。"; });
  }
  function svg(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }
  // Wet periods as amber bands, the depth steps as a red line, over the last 24 h.
  function sparkline(rows, from, to) {
    var W = 240, H = 34, wrap = el("figure", "sn-spark");
    var wet = rows.filter(function (r) { return r.kind === "wet"; });
    var depth = rows.filter(function (r) { return r.kind === "depth"; });
    var x = function (t) { return Math.max(0, Math.min(W, ((t - from) / (to - from)) * W)); };
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img" });
    s.appendChild(svg("rect", { x: 0, y: 0, width: W, height: H, fill: "#f5f9fb", stroke: "#ccd" }));
    var wetMinutes = 0;
    wet.forEach(function (r, i) {
      if (r.v < 0.5) return;
      var end = i + 1 < wet.length ? wet[i + 1].t : to;
      wetMinutes += (Math.min(end, to) - Math.max(r.t, from)) / 60000;
      s.appendChild(svg("rect", { x: x(r.t), y: 0, width: Math.max(1.5, x(end) - x(r.t)), height: H, fill: "#ffb300", opacity: 0.55 }));
    });
    var maxDepth = depth.reduce(function (a, r) { return Math.max(a, r.v); }, 0);
    var top = Math.max(40, maxDepth);
    if (depth.length) {
      var pts = [], prev = H;
      depth.forEach(function (r) {
        var y = H - 2 - (r.v / top) * (H - 6);
        pts.push(x(r.t) + "," + prev, x(r.t) + "," + y);
        prev = y;
      });
      pts.push(W + "," + prev);
      s.appendChild(svg("polyline", { points: pts.join(" "), fill: "none", stroke: "#c62828", "stroke-width": 1.6 }));
    }
    wrap.appendChild(s);
    var axis = el("div", "sn-spark-axis");
    axis.appendChild(el("span", null, "前日 " + clockJST(from, false)));
    axis.appendChild(el("span", null, "過去24時間"));
    axis.appendChild(el("span", null, "今 " + clockJST(to, false)));
    wrap.appendChild(axis);
    var cap = !rows.length ? "この24時間の受信記録はありません。"
      : (wetMinutes >= 1 ? "冠水検知 計" + span(wetMinutes) : "冠水の検知なし")
        + (maxDepth ? "・最大 " + maxDepth + " cm" : "") + "（受信 " + rows.length + " 件）";
    wrap.appendChild(el("figcaption", null, cap));
    return wrap;
  }

  // -- the panel ----------------------------------------------------------------------------------
  function focus(id) {
    var m = markers[id];
    if (!m) return;
    var done = false;
    flying++;
    function open() {
      if (done) return;
      done = true;
      flying--;
      map.off("moveend", open);
      m.openPopup();
    }
    map.on("moveend", open);
    map.flyTo(m.getLatLng(), Math.max(map.getZoom(), 15), { duration: 0.6 });
    setTimeout(open, 1500);
  }
  G.focus = focus;

  function item(id, cls, title, detail) {
    var li = el("li", cls);
    li.dataset.sensor = id;
    var b = el("button", "sn-item");
    b.type = "button";
    b.appendChild(symbol(stateOf(feats[id] && feats[id].properties)));
    b.appendChild(el("span", "sn-item-name", title));
    b.appendChild(el("span", "sn-item-detail", detail));
    b.addEventListener("click", function () { focus(id); });
    li.appendChild(b);
    return li;
  }

  function drawPanel() {
    var counts = { flooded: 0, wet: 0, dry: 0, unknown: 0 };
    var flooded = [], silent = [];
    Object.keys(feats).forEach(function (id) {
      var p = feats[id].properties, st = stateOf(p);
      counts[st]++;
      if (st === "flooded" || st === "wet") flooded.push(id);
      if (st === "unknown") silent.push(id);
    });
    document.querySelectorAll("#sn-counts li").forEach(function (li) {
      li.querySelector(".sn-count").textContent = counts[li.dataset.state] + " 台";
      li.querySelector(".sn-count").setAttribute("aria-label", label(li.dataset.state) + " " + counts[li.dataset.state] + " 台");
    });
    document.querySelectorAll("#sn-sheet [data-state] .sn-state-note").forEach(function (n) {
      n.textContent = note(n.closest("[data-state]").dataset.state);
    });
    var early = function (key) {
      return function (a, b) {
        var ta = ms(feats[a].properties[key]), tb = ms(feats[b].properties[key]);
        return (ta == null ? -Infinity : ta) - (tb == null ? -Infinity : tb);
      };
    };
    flooded.sort(early("since"));
    silent.sort(early("last_seen"));
    var ul = $("sn-flooded");
    ul.textContent = "";
    flooded.forEach(function (id) {
      var p = feats[id].properties, since = ms(p.since), st = stateOf(p);
      var detail = label(st) + (since != null ? "・" + dateTimeJST(since) + "から（" + span((now() - since) / 60000) + "）" : "")
        + (p.level_cm != null ? "・" + p.level_cm + " cm" : "");
      ul.appendChild(item(id, "sn-li sn-li-" + st, p.name || id, detail));
    });
    if (!flooded.length) ul.appendChild(el("li", "sn-hint", "冠水を検知しているセンサはありません。"));
    ul = $("sn-silent");
    ul.textContent = "";
    silent.forEach(function (id) {
      var p = feats[id].properties, last = ms(p.last_seen);
      var detail = last == null ? "通報の記録なし" : span((now() - last) / 60000) + " 通報なし（最終 " + dateTimeJST(last) + "）";
      ul.appendChild(item(id, "sn-li sn-li-unknown", p.name || id, detail));
    });
    if (!silent.length) ul.appendChild(el("li", "sn-hint", "通報が途絶えているセンサはありません。"));
    var wm = rules.wet_minutes || 10, sf = rules.silence_factor || 2;
    $("sn-rules").textContent = "冠水を検知すると「" + label("wet") + "」、" + wm + "分以上続くと「" + label("flooded")
      + "」、定時通報が間隔の" + sf + "倍の時間届かないと「" + label("unknown") + "」になります（「" + label("dry")
      + "」とは表示しません）。時刻はすべて日本時間（JST）です。";
  }

  function drawEvents(list) {
    var ul = $("sn-events");
    ul.textContent = "";
    list.forEach(function (e) {
      var t = ms(e.at), id = e.sensor_id;
      var li = item(id, "sn-li sn-ev sn-ev-" + e.kind, e.name || id, "");
      li.dataset.kind = e.kind;
      var b = li.firstChild, detail = b.querySelector(".sn-item-detail");
      b.replaceChild(el("span", "sn-ev-kind", EVENT_KINDS[e.kind] || e.kind), b.querySelector(".sn-sym"));
      detail.textContent = dateTimeJST(t);
      detail.classList.add("sn-ev-time");
      li.title = (EVENT_KINDS[e.kind] || e.kind) + " " + dateTimeJST(t);
      ul.appendChild(li);
    });
    if (!list.length) ul.appendChild(el("li", "sn-hint", "記録された出来事はありません。"));
  }

  // The sources of the states (from /sensors) and of the context layers (from the page), each with its data date.
  function drawSources(list) {
    var seen = {}, items = [];
    (list || []).concat(conf.sources).forEach(function (s) {
      var name = typeof s === "string" ? s : s.attribution || s.title || s.publisher;
      if (!name) return;
      var text = name + (s.data_date ? "（" + s.data_date + " 時点）" : "") + (s.sample ? "［サンプル］" : "");
      if (!seen[text]) { seen[text] = true; items.push(text); }
    });
    $("sn-sources").textContent = items.length ? "出典: " + items.join(" / ") : "";
  }

  // -- status -------------------------------------------------------------------------------------
  function setStale(on) {
    if (stale === on) return;
    stale = on;
    document.body.classList.toggle("sn-is-stale", on);
    $("sn-stale").hidden = !on;
    if (fc) restyle();
  }
  function showStatus(error) {
    var upd = $("sn-updated"), err = $("sn-error");
    upd.textContent = lastOk == null ? "まだ読み込めていません"
      : "最終更新 " + clockJST(lastOk, true) + " JST" + (stale ? "（古い情報）" : "（自動更新中）");
    err.hidden = !error;
    err.textContent = error || "";
    // The status line and the banner take room from the map: tell Leaflet, and refit an open popup.
    var size = map.getSize();
    map.invalidateSize();
    if (!map.getSize().equals(size)) fitOpenPopups();
  }

  function draw(body) {
    fc = body;
    fc.features = fc.features || [];
    rules = fc.rules || {};
    drawMarkers();
    drawPanel();
    $("gis-banner").hidden = !fc.sample;
    drawSources(fc.sources);
    if (!fitted) {
      fitted = true;
      var params = new URLSearchParams(location.search), want = params.get("sensor");
      if (want && markers[want]) { map.setView(markers[want].getLatLng(), 15); markers[want].openPopup(); }
      else {
        var ids = Object.keys(markers);
        if (ids.length) map.fitBounds(L.latLngBounds(ids.map(function (i) { return markers[i].getLatLng(); })).pad(0.08), { maxZoom: 15 });
      }
    }
  }

  function pollEvents() {
    var headers = { Accept: "application/json" };
    if (eventsEtag) headers["If-None-Match"] = eventsEtag;
    return request(conf.urls.events, { headers: headers }).then(function (r) {
      if (r.status === 304) return;
      if (!r.ok) throw new Error("HTTP " + r.status);
      eventsEtag = r.headers.get("ETag");
      return r.json().then(function (b) { drawEvents(b.events || []); });
    }).catch(function () {
      if (!$("sn-events").querySelector(".sn-li")) $("sn-events").textContent = "出来事を読み込めませんでした。";
    });
  }

  var inflight = null;
  function poll() {
    if (inflight) return inflight; // one poll at a time (a tab coming back asks at once)
    clearTimeout(timer);
    var headers = { Accept: "application/geo+json, application/json" };
    if (etag && fc) headers["If-None-Match"] = etag;
    inflight = request(conf.urls.sensors, { headers: headers }).then(function (r) {
      learnClock(r);
      if (r.status === 304) return null; // nothing changed since our copy: nothing to redraw
      if (!r.ok) throw new Error(r.status >= 500 ? "サーバーエラー " + r.status : "エラー " + r.status);
      etag = r.headers.get("ETag");
      return r.json();
    }).then(function (body) {
      failures = 0;
      lastOk = now();
      setStale(false);
      if (body) draw(body);
      else if (fc) drawPanel();
      showStatus(null);
      refreshPopups();
      return pollEvents();
    }, function (e) {
      failures++;
      if (failures >= conf.staleAfter) setStale(true);
      var why = e && e.message && /エラー/.test(e.message) ? e.message : "通信エラー";
      showStatus("更新できません（" + why + "）" + (failures > 1 ? " " + failures + "回連続" : ""));
      refreshPopups();
    }).finally(function () {
      polls++;
      loaded = true;
      inflight = null;
      clearTimeout(timer);
      timer = setTimeout(poll, interval * 1000);
    });
    return inflight;
  }
  G.poll = poll;
  G.status = function () {
    return { polls: polls, failures: failures, stale: stale, interval: interval, etag: etag, lastOk: lastOk };
  };
  G.marker = function (id) {
    var m = markers[id];
    if (!m) return null;
    // What is drawn, read back from the page: the symbol's glyph, colours and border (dashed for unknown).
    var sym = m.getElement() && m.getElement().querySelector(".sn-sym");
    if (!sym) return null;
    var cs = getComputedStyle(sym);
    return {
      state: m.snState, glyph: sym.textContent, label: m.getElement().getAttribute("aria-label"),
      fill: cs.backgroundColor, color: cs.borderTopColor, border: cs.borderTopStyle,
      size: m.options.icon.options.iconSize[0], z: m.options.zIndexOffset, stale: stale,
    };
  };

  // -- context layers (2021 flood extent, shelters) when they are declared ------------------------
  function drawContext() {
    if (!conf.context.length) return;
    var control = L.control.layers(null, null, { collapsed: true, position: "topright" }).addTo(map);
    conf.context.forEach(function (c) {
      var group = L.layerGroup().addTo(map);
      control.addOverlay(group, c.title);
      getJSON(c.items).then(function (body) {
        L.geoJSON(body, {
          style: function () { return c.style; },
          pointToLayer: function (f, ll) {
            if (!c.glyph) return L.circleMarker(ll, Object.assign({ pane: "sn-context-points" }, c.style));
            var badge = el("i", "sn-ctx-pt");
            badge.appendChild(el("b", null, c.glyph));
            var icon = L.divIcon({ className: "sn-ctx-mk", html: badge, iconSize: [16, 16], tooltipAnchor: [0, -8] });
            return L.marker(ll, { icon: icon, pane: "sn-context-points", keyboard: false });
          },
          onEachFeature: function (f, layer) {
            var name = c.label && f.properties ? f.properties[c.label] : null;
            layer.bindTooltip((name ? name + "（" + c.title + "）" : c.title));
          },
        }).addTo(group);
      }).catch(function () { /* context only: the sensors do not depend on it */ });
    });
  }

  G.init = function (leafletMap) {
    map = leafletMap;
    conf = JSON.parse($("sn-config").textContent);
    var asked = parseFloat(new URLSearchParams(location.search).get("poll"));
    interval = isFinite(asked) ? Math.min(conf.poll.max, Math.max(conf.poll.min, asked)) : conf.poll.seconds;
    map.createPane("sn-context-points").style.zIndex = 450;
    map.createPane("sn-sensors").style.zIndex = 620;
    L.control.scale({ imperial: false }).addTo(map);
    drawSources([]);
    drawContext();
    document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
    // "○分前" and the lists' durations move on between polls.
    ticker = setInterval(function () {
      if (!fc) return;
      // Timers sleep with the device: an answer this old is not shown as fresh, whatever the failure count.
      if (lastOk != null && now() - lastOk > Math.max(3 * interval, 60) * 1000 && !stale) {
        setStale(true);
        showStatus("更新が止まっています（再接続中）");
        poll();
      }
      drawPanel();
      refreshPopups();
    }, 15000);
    poll();
  };
})();
