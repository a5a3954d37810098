/* 農地をさがす: filters (the API's own parameter names, kept in the URL hash), the farmland vector tiles with the
   parcels owners want to lend or sell highlighted, the result list synced with the map, a parcel's public items with
   their data dates, favourites in localStorage and the inquiry form to the city's 農業委員会. Talks to /farmland/*
   only; every text from the server goes in with textContent. */
(function () {
  "use strict";
  var F = (window.GisFarmland = {});
  var FAV_KEY = "gis-farmland-favourites";
  var PAGE = 50;
  var FILTERS = ["city", "oaza", "chiban", "land_type", "intention", "area_min", "area_max", "available_from", "crop",
    "noshin", "address", "lat", "lon", "within_m", "sortby"];
  var conf, map, tiles, results, dots, chosen, here, legend;
  var state = { features: {}, order: [], next: null, selected: null, detail: null, seq: 0 };
  var pending = 0;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function message(text, error) {
    var m = $("fl-msg");
    m.textContent = text || "";
    m.classList.toggle("gis-error", !!error);
  }
  function fetchJSON(url, options) {
    pending++;
    return fetch(url, Object.assign({ headers: { Accept: "application/json" } }, options || {})).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) {
          var err = new Error(body.description || "エラーが起きました（" + r.status + "）");
          err.status = r.status;
          err.retryAfter = r.headers.get("Retry-After");
          throw err;
        }
        return body;
      });
    }).finally(function () { pending--; });
  }
  F.idle = function () { return pending === 0; };

  // -- formatting ---------------------------------------------------------------------------------
  function num(x) { return Number(x).toLocaleString("ja-JP"); }
  function area(m2) {
    if (m2 == null) return "面積不明";
    return num(Math.round(m2)) + " m²（" + (m2 / 100).toFixed(1) + " a）";
  }
  function day(s) {
    if (!s) return "";
    var p = String(s).slice(0, 10).split("-");
    return +p[0] + "年" + +p[1] + "月" + +p[2] + "日";
  }
  function asOf(s) { return s ? day(s) + "時点" : "時点不明"; }
  function todayJST() { return new Date(Date.now() + 9 * 3600 * 1000).toISOString().slice(0, 10); }
  function available(s, want) {
    // available_from is the day after the current lease ends (none: no lease, or it has ended).
    var now = !s || s <= todayJST();
    if (want === "sell") return now ? "貸借なし・すぐ使える" : "貸借の満了後 " + day(s) + "から使える";
    return now ? "すぐ借りられる" : day(s) + "から借りられる";
  }
  function distance(m) { return m < 1000 ? "約" + Math.round(m) + " m" : "約" + (m / 1000).toFixed(1) + " km"; }
  function intentionOf(p) {
    if (p.intention) return p.intention;
    return { "貸付希望": "lend", "売渡希望": "sell" }[p.lend_intention] || null;
  }
  function landName(p) { return p.land_type_name || conf.labels.land_type[String(p.land_type)] || ""; }
  function title(p) {
    var where = [p.oaza, p.chiban].filter(Boolean).join(" ");
    return where || "地番なし（台帳と未対応の区画）";
  }
  function sampleTag() { return el("span", "gis-tag", "サンプル"); }

  // -- favourites (this browser only) -------------------------------------------------------------
  function favs() {
    try { return JSON.parse(localStorage.getItem(FAV_KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  function isFav(id) { return !!favs()[id]; }
  function summary(id, p) {
    return { id: id, title: title(p), city_code: p.city_code, intention: intentionOf(p), area_m2: p.area_m2,
      land: landName(p), sample: !!p.sample };
  }
  function toggleFav(id, p) {
    var all = favs();
    if (all[id]) delete all[id];
    else all[id] = summary(id, p);
    try { localStorage.setItem(FAV_KEY, JSON.stringify(all)); } catch (e) { message("お気に入りを保存できませんでした。", true); }
    document.querySelectorAll("[data-fav='" + id + "']").forEach(starState);
    inquiryParcels();
    if ($("fl-fav").checked) search(false);
  }
  function starState(b) {
    var on = isFav(b.dataset.fav);
    b.textContent = on ? "★" : "☆";
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.title = on ? "お気に入りから外す" : "お気に入りに入れる";
  }
  function star(id, p) {
    var b = el("button", "fl-star");
    b.type = "button";
    b.dataset.fav = id;
    starState(b);
    b.addEventListener("click", function (ev) { ev.stopPropagation(); toggleFav(id, p); });
    return b;
  }

  // -- filters and the URL hash -------------------------------------------------------------------
  function formValues() {
    var form = $("fl-filters"), out = {};
    FILTERS.forEach(function (name) {
      var field = form.elements[name];
      var value = field && (field.value != null ? field.value : "");
      if (value && String(value).trim()) out[name] = String(value).trim();
    });
    if (!out.address && !out.lat) delete out.within_m;
    if (!out.oaza) delete out.chiban;
    if ($("fl-fav").checked) out.fav = "1";
    return out;
  }
  function fillForm(values) {
    var form = $("fl-filters");
    form.reset();
    $("fl-lat").value = $("fl-lon").value = "";
    FILTERS.forEach(function (name) {
      if (values[name] == null || !form.elements[name]) return;
      var field = form.elements[name];
      if (field instanceof RadioNodeList) {
        Array.prototype.forEach.call(field, function (r) { r.checked = r.value === values[name]; });
      } else field.value = values[name];
    });
    $("fl-fav").checked = values.fav === "1";
    $("fl-chiban").disabled = !values.oaza;
  }
  function readHash() {
    var out = {};
    new URLSearchParams(location.hash.slice(1)).forEach(function (v, k) { out[k] = v; });
    return out;
  }
  function writeHash() {
    var values = formValues();
    if (state.selected != null) values.parcel = String(state.selected);
    var hash = new URLSearchParams(values).toString();
    history.replaceState(null, "", location.pathname + location.search + (hash ? "#" + hash : ""));
  }
  function describe(values) {
    var L = conf.labels, parts = [];
    if (values.city) parts.push(conf.cities[values.city]);
    if (values.oaza) parts.push(values.oaza + (values.chiban ? " " + values.chiban : ""));
    if (values.land_type) parts.push(L.land_type[values.land_type]);
    if (values.intention) parts.push(L.intention[values.intention]);
    if (values.area_min || values.area_max) parts.push((values.area_min || "") + "〜" + (values.area_max || "") + " m²");
    if (values.available_from) parts.push(day(values.available_from) + "までに");
    if (values.crop) parts.push(values.crop);
    if (values.noshin) parts.push(L.noshin[values.noshin]);
    if (values.address) parts.push(values.address);
    if (values.lat) parts.push("現在地");
    if (values.fav) parts.push("お気に入り");
    return parts.join("・");
  }

  // -- 大字 from /farmland/stats ------------------------------------------------------------------
  function loadOaza(keep) {
    var city = $("fl-city").value, select = $("fl-oaza");
    var url = conf.urls.stats + (city ? "?city=" + encodeURIComponent(city) : "");
    return fetchJSON(url).then(function (body) {
      var names = {};
      (body.by_oaza || []).forEach(function (row) {
        if (!row.oaza) return;
        var cur = names[row.oaza] || { oaza: row.oaza, city: row.city_code, n: 0, avail: 0 };
        cur.n += (row.total || {}).parcels || 0;
        (row.groups || []).forEach(function (g) { if (g.intention) cur.avail += g.parcels || 0; });
        names[row.oaza] = cur;
      });
      select.textContent = "";
      select.appendChild(new Option("すべて", ""));
      Object.keys(names).sort(function (a, b) { return a.localeCompare(b, "ja"); }).forEach(function (k) {
        var x = names[k];
        var label = x.oaza + (city ? "" : "（" + (conf.cities[x.city] || "") + "）") + " " + num(x.n) + "筆"
          + (x.avail ? "・意向あり" + num(x.avail) : "");
        select.appendChild(new Option(label, x.oaza));
      });
      if (keep && names[keep]) select.value = keep;
    }).catch(function (e) { message("大字の一覧を読み込めませんでした: " + e.message, true); });
  }

  // -- the map: tiles, results, selection ---------------------------------------------------------
  function tileStyle(p) {
    var c = conf.colors, want = intentionOf(p);
    if (p.urbanised) return [];
    if (want) return { fill: true, fillColor: c[want].fill, fillOpacity: 0.75, color: c[want].line, weight: 1 };
    var base = String(p.land_type) === "200" ? c.field : c.paddy;
    return { fill: true, fillColor: base.fill, fillOpacity: 0.45, color: base.line, weight: 0.5 };
  }
  function addTiles() {
    if (!L.vectorGrid) return;
    tiles = L.vectorGrid.protobuf(conf.urls.tiles, {
      vectorTileLayerStyles: new Proxy({}, { get: function () { return tileStyle; } }),
      rendererFactory: L.canvas.tile,
      interactive: true,
      // The MVT feature id is the polygon id; kept on the properties so a click knows which parcel it hit.
      getFeatureId: function (f) { f.properties._id = f.id; return f.id; },
      minZoom: conf.tileZooms[0],
      maxNativeZoom: conf.tileZooms[1],
      maxZoom: conf.maxZoom,
      pane: "flTiles",
      attribution: "農地: 筆ポリゴン・農地台帳",
    });
    tiles.on("click", function (ev) {
      var id = ev.layer && ev.layer.properties && ev.layer.properties._id;
      if (id != null) select(id, { fromMap: true, latlng: ev.latlng });
    });
    tiles.addTo(map);
  }
  function resultStyle(f) {
    var want = intentionOf(f.properties || {});
    var c = conf.colors;
    return { color: c.result.line, weight: 2, opacity: 0.9, fillColor: want ? c[want].fill : "#888", fillOpacity: 0.25 };
  }
  function center(f) {
    var p = f.properties || {};
    if (p.point_lat != null && p.point_lng != null) return L.latLng(p.point_lat, p.point_lng);
    return L.geoJSON(f).getBounds().getCenter();
  }
  function drawResults(features, append) {
    if (!append) { results.clearLayers(); dots.clearLayers(); }
    features.forEach(function (f) {
      if (!f.geometry) return;
      var shape = L.geoJSON(f, { style: resultStyle, pane: "flResults" });
      shape.on("click", function (ev) { L.DomEvent.stop(ev); select(f.id, { fromMap: true, latlng: ev.latlng }); });
      results.addLayer(shape);
      var want = intentionOf(f.properties || {});
      var dot = L.circleMarker(center(f), { radius: 6, weight: 2, color: "#fff", fillOpacity: 1, pane: "flResults",
        fillColor: want ? conf.colors[want].fill : conf.colors.result.line });
      dot.on("click", function () { select(f.id, { fromMap: true, fly: true }); });
      dots.addLayer(dot);
    });
    zoomed();
  }
  function zoomed() {
    // Below the tiles' first zoom a parcel is a few pixels: the results are drawn as dots as well.
    var low = map.getZoom() < conf.tileZooms[0];
    if (low && !map.hasLayer(dots)) dots.addTo(map);
    if (!low && map.hasLayer(dots)) map.removeLayer(dots);
    $("fl-zoom-hint") && ($("fl-zoom-hint").hidden = !low);
  }
  function fitResults() {
    var b = results.getBounds();
    if (b.isValid()) map.fitBounds(b.pad(0.1), { maxZoom: 16 });
  }
  function highlight(f) {
    if (chosen) map.removeLayer(chosen);
    chosen = null;
    if (tiles && state.lastTileId != null) tiles.resetFeatureStyle(state.lastTileId);
    if (!f) return;
    var sel = conf.colors.selected.line;
    if (f.geometry) {
      chosen = L.geoJSON(f, { pane: "flChosen", interactive: false,
        style: { color: sel, weight: 4, fill: false, opacity: 1 } }).addTo(map);
    }
    if (tiles) {
      var base = tileStyle(f.properties || {});
      tiles.setFeatureStyle(f.id, L.extend({}, base, { color: sel, weight: 3 }));
      state.lastTileId = f.id;
    }
  }
  function addLegend() {
    legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "gis-panel fl-legend");
      var details = el("details");
      details.open = window.innerWidth >= 700;
      details.appendChild(el("summary", null, "凡例"));
      var ul = el("ul", "fl-legend-list");
      ["lend", "sell", "paddy", "field"].forEach(function (k) {
        var li = el("li"), sw = el("span", "fl-sw");
        sw.style.background = conf.colors[k].fill;
        sw.style.borderColor = conf.colors[k].line;
        li.appendChild(sw);
        li.appendChild(document.createTextNode(conf.colors[k].label));
        ul.appendChild(li);
      });
      ["result", "selected"].forEach(function (k) {
        var li = el("li"), sw = el("span", "fl-sw fl-sw-line");
        sw.style.borderColor = conf.colors[k].line;
        li.appendChild(sw);
        li.appendChild(document.createTextNode(conf.colors[k].label));
        ul.appendChild(li);
      });
      details.appendChild(ul);
      var hint = el("p", "fl-legend-hint", "区画の色はズーム" + conf.tileZooms[0] + "以上で表示。それより広い範囲では条件に合う区画を点で表示します。");
      hint.id = "fl-zoom-hint";
      details.appendChild(hint);
      div.appendChild(details);
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    legend.addTo(map);
  }

  // -- the result list ----------------------------------------------------------------------------
  function row(f) {
    var p = f.properties || {}, want = intentionOf(p);
    var li = el("li", "fl-item" + (want ? " fl-" + want : ""));
    li.dataset.id = f.id;
    var b = el("button", "fl-rowbtn");
    b.type = "button";
    var head = el("span", "fl-row-title", title(p));
    if (p.sample) head.appendChild(sampleTag());
    b.appendChild(head);
    var tags = el("span", "fl-row-tags");
    if (want) tags.appendChild(el("span", "fl-badge fl-badge-" + want, conf.labels.intention[want]));
    tags.appendChild(el("span", "fl-land", landName(p)));
    tags.appendChild(el("span", null, area(p.area_m2)));
    b.appendChild(tags);
    var more = [conf.cities[p.city_code] || p.city, want ? available(p.available_from, want) : "",
      p.crop ? p.crop + (p.crop_year ? "（" + p.crop_year + "年）" : "") : "",
      p.distance_m != null ? distance(p.distance_m) : ""].filter(Boolean);
    b.appendChild(el("span", "fl-row-meta", more.join("・")));
    b.appendChild(el("span", "fl-row-date", "台帳 " + asOf(p.data_date)));
    b.addEventListener("click", function () { select(f.id, { fly: true }); });
    li.appendChild(b);
    li.appendChild(star(f.id, p));
    if (state.selected === f.id) li.classList.add("fl-selected");
    return li;
  }
  function showCount(body, values) {
    var total = body.numberMatched, shown = state.order.length;
    var text = total != null ? num(total) + "筆が見つかりました" : body.numberMatchedAtLeast
      ? num(body.numberMatchedAtLeast) + "筆以上が見つかりました" : num(shown) + "筆";
    if (total == null) total = body.numberMatchedAtLeast;
    if (total != null && total > shown) text += "（" + num(shown) + "筆を表示）";
    $("fl-count").textContent = text;
    $("fl-filter-sum").textContent = describe(values) ? "：" + describe(values) : "";
  }
  function search(append, collapse) {
    var values = formValues();
    writeHash();
    if (values.fav) return showFavourites(values);
    var seq = ++state.seq;
    var url;
    if (append && state.next) url = state.next;
    else {
      var params = new URLSearchParams(values);
      params.delete("fav");
      params.set("limit", PAGE);
      url = conf.urls.parcels + "?" + params.toString();
    }
    message("検索中…");
    return fetchJSON(url).then(function (body) {
      if (seq !== state.seq) return;
      message("");
      var list = $("fl-list");
      if (!append) { list.textContent = ""; state.features = {}; state.order = []; }
      (body.features || []).forEach(function (f) {
        state.features[f.id] = f;
        state.order.push(f.id);
        list.appendChild(row(f));
      });
      var next = (body.links || []).filter(function (l) { return l.rel === "next"; })[0];
      state.next = next ? next.href : null;
      $("fl-more").hidden = !state.next;
      showCount(body, values);
      showLocation(body);
      drawResults(body.features || [], append);
      if (!append) fitResults();
      showSources(body.sources);
      if (!(body.features && body.features.length)) message("条件に合う農地はありませんでした。条件をゆるめてください。");
      // On a phone the panel folds after a search by the button, so the list is in view (not while choosing).
      if (collapse && window.innerWidth < 900 && body.features && body.features.length) {
        $("fl-filter-box").open = false;
      }
    }).catch(function (e) { if (seq === state.seq) message(e.message, true); });
  }
  F.search = search;
  function showLocation(body) {
    var loc = body.location, q = body.query || {};
    if (here) { map.removeLayer(here); here = null; }
    if (!q.lat && !(loc && loc.lat != null)) return;
    var lat = loc && loc.lat != null ? loc.lat : q.lat, lon = loc && loc.lon != null ? loc.lon : q.lon;
    if (lat == null || lon == null) return;
    here = L.layerGroup([
      L.circle([lat, lon], { radius: +(q.within_m || conf.defaultDistance), color: "#0b4f6c", weight: 1, fill: false,
        dashArray: "4 4", interactive: false }),
      L.circleMarker([lat, lon], { radius: 6, color: "#fff", weight: 2, fillColor: "#0b4f6c", fillOpacity: 1 }),
    ]).addTo(map);
    if (loc && loc.message) message(loc.message);
  }
  function showFavourites(values) {
    var all = favs(), ids = Object.keys(all), seq = ++state.seq, list = $("fl-list");
    list.textContent = "";
    state.features = {};
    state.order = [];
    $("fl-more").hidden = true;
    if (!ids.length) {
      $("fl-count").textContent = "お気に入りはまだありません。一覧や地図の ☆ で追加できます（この端末のブラウザにだけ保存）。";
      results.clearLayers();
      dots.clearLayers();
      return Promise.resolve();
    }
    return Promise.all(ids.map(function (id) {
      return fetchJSON(conf.urls.parcels + "/" + encodeURIComponent(id)).then(feature).catch(function (e) {
        // A parcel that is gone (404) stays listed from what was saved, marked as no longer published.
        return { id: +id, gone: e.status === 404, geometry: null, properties: { oaza: all[id].title, sample: all[id].sample } };
      });
    })).then(function (fs) {
      if (seq !== state.seq) return;
      fs.forEach(function (f) {
        state.features[f.id] = f;
        state.order.push(f.id);
        var li = row(f);
        if (f.gone) li.appendChild(el("p", "fl-note", "この農地は現在公開されていません。"));
        list.appendChild(li);
      });
      showCount({ numberMatched: fs.length }, values);
      drawResults(fs, false);
      fitResults();
      message("");
    });
  }

  // -- one parcel: popup and the detail sheet -----------------------------------------------------
  function feature(body) {
    // The detail answer (a Feature with its ledger records, crops and contact) in the list's shape; the dates of
    // the intention and the lease come from the newest linked record that has one.
    var props = body.properties || {};
    (body.records || []).forEach(function (r) {
      var i = r.intention || {}, l = r.lease || {};
      if (i.data_date && (!props.intention_date || i.data_date > props.intention_date)) props.intention_date = i.data_date;
      if (l.data_date && (!props.lease_date || l.data_date > props.lease_date)) props.lease_date = l.data_date;
    });
    return { type: "Feature", id: body.id, geometry: body.geometry || null, properties: props, detail: body };
  }
  function select(id, opts) {
    opts = opts || {};
    id = +id;
    state.selected = id;
    writeHash();
    document.querySelectorAll("#fl-list .fl-item").forEach(function (li) {
      var on = +li.dataset.id === id;
      li.classList.toggle("fl-selected", on);
      if (on && opts.fromMap) li.scrollIntoView({ block: "nearest" });
    });
    var known = state.features[id];
    if (known) {
      highlight(known);
      if (opts.fly && known.geometry) fly(known);
    }
    return fetchJSON(conf.urls.parcels + "/" + id).then(function (body) {
      if (state.selected !== id) return;
      var f = feature(body);
      state.detail = f;
      highlight(f);
      if (!known && opts.fly !== false && f.geometry && !opts.fromMap) {
        fly(f);
      }
      // The popup opens once the map has arrived, so that it can pan itself into view.
      if (state.flying) state.flying.then(function () { if (state.selected === id) popup(f, opts.latlng); });
      else popup(f, opts.latlng);
      GisFarmlandDetail.render($("fl-detail"), f, detailHooks);
      inquiryParcels();
    }).catch(function (e) { message(e.message, true); });
  }
  F.select = select;
  F.feature = function (id) { return state.features[id] || null; };
  function fly(f) {
    pending++;
    state.flying = new Promise(function (done) {
      var finished = false;
      function finish() {
        if (finished) return;
        finished = true;
        pending--;
        state.flying = null;
        done();
      }
      map.once("moveend", finish);
      setTimeout(finish, 3000);  // a fly that never started still ends
    });
    map.flyToBounds(L.geoJSON(f).getBounds(), { maxZoom: 17, duration: 0.6, padding: [20, 20] });
  }
  var detailHooks = {
    conf: function () { return conf; },
    star: star,
    ask: function (id) { ask(id); },
    helpers: { el: el, area: area, day: day, asOf: asOf, available: available, intentionOf: intentionOf,
      landName: landName, title: title, sampleTag: sampleTag },
  };
  function popup(f, latlng) {
    var p = f.properties, want = intentionOf(p), div = el("div", "fl-popup");
    var h = el("strong", null, title(p));
    if (p.sample) h.appendChild(sampleTag());
    div.appendChild(h);
    div.appendChild(star(f.id, p));
    var ul = el("ul", "fl-pop-items");
    [[landName(p) + "・" + area(p.area_m2), asOf(p.data_date)],
      [want ? conf.labels.intention[want] + "（" + available(p.available_from, want) + "）" : "貸したい・売りたいの意向なし",
        asOf(p.intention_date || p.data_date)],
      [p.ledger_count > 1 ? "台帳の地番 " + p.ledger_count + "筆にまたがる区画" : "", ""],
      [p.crop ? "作付: " + p.crop + (p.crop_year ? "（" + p.crop_year + "年）" : "") : "", p.crop_date ? asOf(p.crop_date) : ""],
    ].forEach(function (x) {
      if (!x[0]) return;
      var li = el("li", null, x[0]);
      if (x[1]) li.appendChild(el("small", null, " " + x[1]));
      ul.appendChild(li);
    });
    div.appendChild(ul);
    var more = el("button", "fl-link", "くわしく・問い合わせ");
    more.type = "button";
    more.addEventListener("click", function () {
      map.closePopup();
      $("fl-detail").scrollIntoView({ behavior: "smooth", block: "start" });
    });
    div.appendChild(more);
    var at = latlng || (f.geometry ? center(f) : null);
    if (at) L.popup({ maxWidth: 250, autoPanPaddingTopLeft: L.point(56, 10), className: "fl-popup-wrap" })
      .setLatLng(at).setContent(div).openOn(map);
  }

  // -- the inquiry form (farmland-inquiry.js) ----------------------------------------------------
  function inquiryItems() {
    // The parcel shown now first, then the favourites: what the form offers to ask about.
    var items = [], all = favs();
    if (state.detail) items.push(summary(state.detail.id, state.detail.properties));
    Object.keys(all).forEach(function (id) { if (!state.detail || +id !== state.detail.id) items.push(all[id]); });
    return items;
  }
  function inquiryParcels() { GisFarmlandInquiry.parcels(); }
  function ask(id) { GisFarmlandInquiry.ask(id); }

  // -- sources ------------------------------------------------------------------------------------
  function showSources(list) {
    var box = $("fl-sources"), seen = {}, n = 0;
    list = (list && list.length ? list : conf.sources) || [];
    box.textContent = "出典: ";
    list.forEach(function (s) {
      var key = s.title + "|" + s.data_date;
      if (seen[key]) return;
      seen[key] = true;
      if (n++) box.appendChild(document.createTextNode(" ／ "));
      box.appendChild(document.createTextNode([s.title, s.publisher, s.data_date ? asOf(s.data_date) : "", s.licence]
        .filter(Boolean).join("・")));
      if (s.sample) box.appendChild(sampleTag());
    });
    box.appendChild(el("span", "fl-note", " 所有者・耕作者の氏名は公開していません（農業委員会の窓口でのみ扱います）。"));
  }

  // -- start --------------------------------------------------------------------------------------
  function locate() {
    if (!navigator.geolocation) { message("この端末では現在地が使えません。", true); return; }
    message("現在地を確認中…");
    navigator.geolocation.getCurrentPosition(function (pos) {
      $("fl-lat").value = pos.coords.latitude.toFixed(6);
      $("fl-lon").value = pos.coords.longitude.toFixed(6);
      $("fl-address").value = "";
      var note = $("fl-here-note");
      note.hidden = false;
      note.textContent = "現在地から探します（誤差 約" + Math.round(pos.coords.accuracy) + " m）";
      search(false);
    }, function () { message("現在地を取得できませんでした。住所を入れてください。", true); }, { timeout: 15000 });
  }
  function fromLink() {
    var start = readHash();
    fillForm(start);
    if (start.lat) { $("fl-here-note").hidden = false; $("fl-here-note").textContent = "地図の位置から探します"; }
    state.selected = null;
    inquiryParcels();
    return loadOaza(start.oaza).then(function () {
      if (start.oaza) { $("fl-oaza").value = start.oaza; $("fl-chiban").disabled = false; }
      return search(false);
    }).then(function () { if (start.parcel) select(start.parcel, { fly: true }); });
  }
  F.init = function (m) {
    map = m;
    conf = JSON.parse($("fl-config").textContent);
    [["flTiles", 390], ["flResults", 420], ["flChosen", 640]].forEach(function (x) {
      map.createPane(x[0]).style.zIndex = x[1];
    });
    // Without its own bounds the map would take the tiles' first zoom as its minimum and never show both cities.
    map.setMinZoom(7);
    L.control.scale({ imperial: false }).addTo(map);
    results = L.featureGroup().addTo(map);
    dots = L.featureGroup();
    addTiles();
    addLegend();
    map.on("zoomend", zoomed);
    var form = $("fl-filters");
    form.addEventListener("submit", function (ev) { ev.preventDefault(); search(false, true); });
    form.addEventListener("change", function (ev) {
      var t = ev.target;
      if (t.id === "fl-city") { $("fl-oaza").value = ""; loadOaza(); }
      if (t.id === "fl-oaza") $("fl-chiban").disabled = !t.value;
      if (t.id === "fl-address" && t.value) { $("fl-lat").value = $("fl-lon").value = ""; $("fl-here-note").hidden = true; }
      // Text and numbers are searched on the button (or Enter); choices at once.
      if (t.tagName === "SELECT" || t.type === "radio" || t.type === "checkbox" || t.type === "date") search(false);
    });
    $("fl-reset").addEventListener("click", function () { fillForm({}); loadOaza(); search(false); });
    $("fl-here").addEventListener("click", locate);
    $("fl-more").addEventListener("click", function () { search(true); });
    GisFarmlandInquiry.init({ conf: conf, fetchJSON: fetchJSON, el: el, num: num, sampleTag: sampleTag,
      items: inquiryItems });
    showSources(null);
    fromLink();
    // A link opened in this same page (pasted, or back/forward) is a new search; our own replaceState is not.
    window.addEventListener("hashchange", fromLink);
  };
})();
