/* 交通マップ: bus routes in their GTFS colours, the stops (stations, and boarding points without one), and a stop's
   next departures in JST from GET /transit/stops/{id}/departures. Every text from the server goes in with
   textContent. */
(function () {
  "use strict";
  var T = (window.GisTransit = {});
  var conf, map, stopsLayer, chosen;
  var pending = 0;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function message(text, error) {
    var m = $("tr-msg");
    m.textContent = text || "";
    m.classList.toggle("gis-error", !!error);
  }
  function fetchJSON(url) {
    pending++;
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) throw new Error(body.description || "エラー（" + r.status + "）");
        return body;
      });
    }).finally(function () { pending--; });
  }
  T.idle = function () { return pending === 0; };

  // -- departures --------------------------------------------------------------------------------
  function departureList(body, max) {
    var ul = el("ul", "tr-deps");
    body.departures.slice(0, max).forEach(function (d) {
      var li = el("li", "tr-dep");
      li.dataset.trip = d.trip_id;
      li.appendChild(el("span", "tr-time", d.time_jst));
      var sw = el("span", "tr-line");
      sw.style.background = d.color || "#555";
      li.appendChild(sw);
      var what = el("span", "tr-what");
      what.appendChild(el("span", "tr-route", d.route));
      if (d.headsign) what.appendChild(el("span", "tr-head", d.headsign + " 行き"));
      li.appendChild(what);
      ul.appendChild(li);
    });
    return ul;
  }
  function noteBox(body) {
    var text = body.note || (body.departures.length ? "" : "発車時刻がありません。");
    return text ? el("p", "tr-note", text) : null;
  }
  function showStop(props, body) {
    var box = $("tr-stop");
    box.textContent = "";
    var h = el("h2", "tr-title", props.name);
    box.appendChild(h);
    if (props.kana) box.appendChild(el("p", "tr-kana", props.kana));
    var at = body.at_jst.slice(11, 16);
    box.appendChild(el("p", "tr-meta", "次の発車（日本時間 " + body.service_date + " " + at + " から）"
      + (props.routes ? " ・ " + props.routes : "")));
    var note = noteBox(body);
    if (note) box.appendChild(note);
    box.appendChild(departureList(body, 10));
    box.appendChild(el("p", "tr-meta", body.times || ""));
  }
  function popup(layer, props, body) {
    var div = el("div", "tr-popup");
    div.appendChild(el("strong", null, props.name));
    var note = noteBox(body);
    if (note) div.appendChild(note);
    div.appendChild(departureList(body, 5));
    div.appendChild(el("small", null, "時刻は日本時間。佐賀県 GTFS-JP（" + (body.source.data_date || "") + "）"));
    layer.bindPopup(div, { maxWidth: 260, autoPanPaddingTopLeft: L.point(52, 12) }).openPopup();
  }
  function choose(layer, props) {
    if (chosen) chosen.setStyle({ weight: 1.5, radius: 6 });
    chosen = layer;
    layer.setStyle({ weight: 3, radius: 9 });
    message("時刻を取得しています…");
    fetchJSON(conf.urls.departures + encodeURIComponent(props.stop_id) + "/departures?limit=10").then(function (body) {
      message("");
      showStop(props, body);
      popup(layer, props, body);
    }).catch(function (e) { message(e.message, true); });
  }
  T.choose = function (stopId) {
    var found = null;
    stopsLayer.eachLayer(function (l) { if (l.feature.properties.stop_id === stopId) found = l; });
    if (found) { map.setView(found.getLatLng(), Math.max(map.getZoom(), 15)); choose(found, found.feature.properties); }
    return !!found;
  };

  // -- the map -----------------------------------------------------------------------------------
  function drawRoutes() {
    return fetchJSON(conf.urls.routes).then(function (fc) {
      var list = $("tr-routes");
      fc.features.sort(function (a, b) { return a.properties.name < b.properties.name ? -1 : 1; });
      L.geoJSON(fc, {
        style: function (f) { return { color: f.properties.color || "#238b45", weight: 4, opacity: 0.8 }; },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(f.properties.name + (f.properties.agency ? "（" + f.properties.agency + "）" : ""),
            { sticky: true });
        },
      }).addTo(map);
      fc.features.forEach(function (f) {
        var li = el("li");
        var sw = el("span", "tr-swatch");
        sw.style.background = f.properties.color || "#238b45";
        li.appendChild(sw);
        li.appendChild(el("span", null, f.properties.name + (f.properties.agency ? "（" + f.properties.agency + "）" : "")));
        list.appendChild(li);
      });
    });
  }
  function drawStops() {
    return fetchJSON(conf.urls.stops).then(function (fc) {
      // A station stands for its boarding points; a boarding point without one stands alone.
      fc.features = fc.features.filter(function (f) { return !f.properties.parent_station; });
      stopsLayer = L.geoJSON(fc, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 6, color: "#0868ac", weight: 1.5, fillColor: "#fff", fillOpacity: 1 });
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(f.properties.name);
          layer.on("click", function () { choose(layer, f.properties); });
        },
      }).addTo(map);
    });
  }
  function sources() {
    var p = $("tr-sources");
    conf.sources.forEach(function (s) {
      p.appendChild(el("span", null, "出典: " + (s.attribution || s.title) + "（" + (s.publisher || "") + "、"
        + (s.licence || "") + "、" + (s.data_date || "日付不明") + " 時点）"));
      if (s.note) p.appendChild(el("span", null, " " + s.note));
      p.appendChild(el("br"));
    });
  }

  T.init = function (m) {
    map = m;
    conf = JSON.parse($("tr-config").textContent);
    sources();
    Promise.all([drawRoutes(), drawStops()]).then(function () {
      var q = new URLSearchParams(location.search).get("stop");
      if (q) T.choose(q);
    }).catch(function (e) { message(e.message, true); });
  };
})();
