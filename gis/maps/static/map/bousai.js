/* 防災マップ: shelters filtered by hazard, flood history, the statutory zones when loaded, sensors when /sensors answers.
   Every value from the API is put into the page as text (textContent / escaped), never as markup. */
var GisBousai = (function () {
  "use strict";
  var cfg, map, shelters = [], hazard = "", groups = {}, sensorsOk = false;

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function say(text, error) {
    var el = document.getElementById("bs-msg");
    el.textContent = text || "";
    el.className = error ? "gis-error" : "";
  }
  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/geo+json, application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  function designated(p) {
    var out = [];
    Object.keys(cfg.hazards).forEach(function (k) { if (p[k]) { out.push(cfg.hazards[k]); } });
    return out;
  }
  function sampleTag(p) { return p.sample ? ' <span class="gis-tag gis-sample">サンプル</span>' : ""; }

  function shelterPopup(p) {
    var d = designated(p);
    var flags = p.kind === "指定緊急避難場所"
      ? (d.length ? d.join("・") : "なし")
      : (p.linked_id ? d.join("・") + "（同一住所の指定緊急避難場所から）" : "不明（指定避難所には災害種別の指定がありません）");
    return "<strong>" + esc(p.name) + "</strong>" + sampleTag(p) + "<br>" + esc(p.kind) +
      "<br>" + esc(p.address || "") + "<br>対応する災害: " + esc(flags);
  }

  function suitable(p) { return !hazard || p[hazard] === true; }

  function drawShelters() {
    if (groups.shelters) { map.removeLayer(groups.shelters); }
    var g = L.layerGroup();
    shelters.forEach(function (f) {
      var p = f.properties, c = f.geometry.coordinates;
      if (!suitable(p)) { return; }
      var emergency = p.kind === "指定緊急避難場所";
      var icon = L.divIcon({
        className: "bs-pin " + (emergency ? "bs-emergency" : "bs-shelter"),
        html: emergency ? "避" : "所", iconSize: [22, 22], iconAnchor: [11, 11]
      });
      L.marker([c[1], c[0]], { icon: icon, title: p.name }).bindPopup(shelterPopup(p)).addTo(g);
    });
    groups.shelters = g;
    if (document.querySelector('.bs-toggle[value="shelters"]').checked) { g.addTo(map); }
    listNearest();
  }

  function distance(a, b) {
    var r = 6371000, t = Math.PI / 180;
    var dl = (b[0] - a[0]) * t, dp = (b[1] - a[1]) * t;
    var x = Math.sin(dp / 2) * Math.sin(dp / 2) + Math.cos(a[1] * t) * Math.cos(b[1] * t) * Math.sin(dl / 2) * Math.sin(dl / 2);
    return 2 * r * Math.asin(Math.sqrt(x));
  }

  function listNearest() {
    var c = map.getCenter(), here = [c.lng, c.lat], ol = document.getElementById("bs-list");
    var rows = shelters.filter(function (f) { return suitable(f.properties); }).map(function (f) {
      return { f: f, d: distance(here, f.geometry.coordinates) };
    }).sort(function (a, b) { return a.d - b.d; }).slice(0, 6);
    ol.textContent = "";
    if (!rows.length) {
      var li0 = document.createElement("li");
      li0.className = "bs-hint";
      li0.textContent = "この災害に指定された避難場所はありません。";
      ol.appendChild(li0);
    }
    rows.forEach(function (r) {
      var p = r.f.properties, li = document.createElement("li");
      var name = document.createElement("strong");
      name.textContent = p.name;
      li.appendChild(name);
      li.appendChild(document.createTextNode("（" + p.kind + "）約 " + (r.d >= 1000 ? (r.d / 1000).toFixed(1) + " km" : Math.round(r.d) + " m")));
      var d = designated(p);
      var small = document.createElement("div");
      small.className = "bs-flags";
      small.textContent = d.length ? "対応: " + d.join("・") : "災害種別: 不明";
      li.appendChild(small);
      li.addEventListener("click", function () { map.setView([r.f.geometry.coordinates[1], r.f.geometry.coordinates[0]], 16); });
      ol.appendChild(li);
    });
  }

  function zonePopup(id, p) {
    if (id === "flood_history") {
      return "<strong>" + esc(p.event) + "</strong>" + sampleTag(p) + "<br>発生日 " + esc(p.event_date || "") +
        "<br>1回の出水の推定範囲（浸水の深さなし）";
    }
    if (id === "flood_risk") {
      return "<strong>想定浸水深 " + esc(p.depth_class) + "</strong>" + sampleTag(p) + "<br>" + esc(p.river_name || "") +
        "（" + esc(p.scenario || "") + "）";
    }
    return "<strong>" + esc(p.zone_type) + "</strong>" + sampleTag(p) + "<br>" + esc(p.phenomenon) + " " + esc(p.zone_name || "");
  }
  var ZONE_STYLE = {
    flood_history: { color: "#1565c0", weight: 0.5, fillOpacity: 0.35 },
    flood_risk: { color: "#6a1b9a", weight: 0.5, fillOpacity: 0.3 },
    landslide_zones: { color: "#c62828", weight: 0.7, fillOpacity: 0.3 }
  };

  function loadZones(id) {
    return getJSON(cfg.urls[id]).then(function (fc) {
      groups[id] = L.geoJSON(fc, {
        style: function () { return ZONE_STYLE[id]; },
        onEachFeature: function (f, layer) { layer.bindPopup(zonePopup(id, f.properties)); }
      });
      if (document.querySelector('.bs-toggle[value="' + id + '"]').checked) { groups[id].addTo(map); }
    });
  }

  function loadSensors() {
    // Shown only when the live endpoint answers; the page never guesses a state.
    return getJSON(cfg.sensors).then(function (fc) {
      sensorsOk = true;
      groups.inundation_sensors = L.geoJSON(fc, {
        pointToLayer: function (f, ll) {
          var s = f.properties.state_now || f.properties.state || "unknown";
          return L.marker(ll, { icon: L.divIcon({ className: "bs-pin bs-sensor bs-sensor-" + esc(s), html: "水", iconSize: [20, 20] }) });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup("<strong>" + esc(p.name || p.sensor_id || "浸水センサ") + "</strong>" + sampleTag(p) +
            "<br>状態: " + esc(p.state_label || p.state_now || p.state || "不明"));
        }
      });
    }).catch(function () {
      var li = document.querySelector('#bs-layers li[data-layer="inundation_sensors"]');
      var box = li && li.querySelector("input");
      if (box) { box.disabled = true; box.checked = false; }
      if (li && !li.querySelector(".bs-nodata")) {
        var span = document.createElement("span");
        span.className = "bs-nodata";
        span.textContent = "現在の状態を取得できません";
        li.appendChild(span);
      }
    });
  }

  function bind() {
    Array.prototype.forEach.call(document.querySelectorAll(".bs-chip"), function (b) {
      b.addEventListener("click", function () {
        hazard = b.getAttribute("data-hazard");
        Array.prototype.forEach.call(document.querySelectorAll(".bs-chip"), function (o) {
          o.setAttribute("aria-pressed", o === b ? "true" : "false");
        });
        drawShelters();
        say(hazard ? cfg.hazards[hazard] + " に指定された避難場所を表示しています" : "");
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll(".bs-toggle"), function (box) {
      box.addEventListener("change", function () {
        var g = groups[box.value];
        if (!g) { return; }
        if (box.checked) { g.addTo(map); } else { map.removeLayer(g); }
      });
    });
    map.on("moveend", listNearest);
  }

  function init(m) {
    map = m;
    cfg = JSON.parse(document.getElementById("bs-config").textContent);
    bind();
    var loaded = {};
    cfg.layers.forEach(function (l) { loaded[l.id] = l.count > 0; });
    var jobs = [];
    if (loaded.shelters) {
      jobs.push(getJSON(cfg.urls.shelters).then(function (fc) { shelters = fc.features || []; drawShelters(); }));
    }
    ["flood_history", "flood_risk", "landslide_zones"].forEach(function (id) { if (loaded[id]) { jobs.push(loadZones(id)); } });
    if (loaded.inundation_sensors) { jobs.push(loadSensors()); }
    Promise.all(jobs).then(function () {
      document.body.setAttribute("data-ready", "1");
    }).catch(function (e) {
      say("読み込めないデータがあります: " + e.message, true);
      document.body.setAttribute("data-ready", "1");
    });
  }

  return { init: init, sensorsOk: function () { return sensorsOk; } };
})();
