/* 地図ページ: draws the layers from our items endpoint (GeoJSON) and vector tiles, keeps the legend and the
   sample banner in step with the visible layers, and opens the "what applies here" report on click or search.
   The map and its layer groups are built by folium; GisMap.init receives them. */
(function () {
  "use strict";
  var G = (window.GisMap = window.GisMap || {});
  var cfg = null;
  var states = {};
  var pending = 0;
  var marks = null;

  function config() {
    if (!cfg) cfg = JSON.parse(document.getElementById("gis-config").textContent);
    return cfg;
  }
  function layerCfg(id) {
    return config().layers.filter(function (l) { return l.id === id; })[0];
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  G.esc = esc;

  function ensurePanes(map) {
    // Vector tiles between the base map and the GeoJSON; points above areas.
    if (!map.getPane("gisTiles")) map.createPane("gisTiles").style.zIndex = 350;
    if (!map.getPane("gisPoints")) map.createPane("gisPoints").style.zIndex = 450;
  }

  function styleFor(lc, props) {
    var s = L.extend({}, lc.style);
    if (lc.by) {
      var c = lc.palette[props && props[lc.by]] || lc.other;
      s.fillColor = c;
      if (lc.geom !== "POINT") s.color = c;
    }
    return s;
  }

  G.tileOptions = function (id, map) {
    var lc = layerCfg(id);
    ensurePanes(map);
    var style = function (props) { return L.extend(styleFor(lc, props), { fill: true }); };
    return {
      // The tile's layer name is up to the tile server: style every layer of this source the same way.
      vectorTileLayerStyles: new Proxy({}, { get: function () { return style; } }),
      rendererFactory: L.canvas.tile,
      interactive: false,
      pane: "gisTiles",
      // Only where the tile server has tiles; from the detail zoom on, the exact GeoJSON takes over.
      minZoom: lc.tileZooms[0],
      maxZoom: Math.min(lc.detailZoom ? lc.detailZoom - 1 : config().maxZoom, lc.tileZooms[1]),
    };
  };

  function fetchJSON(url) {
    pending++;
    return fetch(url, { headers: { Accept: "application/geo+json, application/json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.description || r.status);
          return body;
        });
      })
      .finally(function () { pending--; });
  }
  G.fetchJSON = fetchJSON;

  function fetchFeatures(url, acc) {
    acc = acc || [];
    return fetchJSON(url).then(function (fc) {
      acc.push.apply(acc, fc.features || []);
      var next = (fc.links || []).filter(function (l) { return l.rel === "next"; })[0];
      return next ? fetchFeatures(next.href, acc) : acc;
    });
  }

  function tooltip(lc, f) {
    var p = f.properties || {};
    var text = lc.title + (lc.label && p[lc.label] != null ? ": " + p[lc.label] : "");
    if (lc.id === "zoning" && p.kenpei != null) text += "（" + p.kenpei + "% / " + p.yoseki + "%）";
    if (p.sample) text += "［サンプル］";
    return esc(text);
  }

  function geoLayer(lc) {
    var interactive = lc.geom === "POINT" || lc.style.fillOpacity > 0;
    return L.geoJSON(null, {
      pane: lc.geom === "POINT" ? "gisPoints" : "overlayPane",
      interactive: interactive,
      style: function (f) { return styleFor(lc, f.properties); },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, L.extend(styleFor(lc, f.properties), { pane: "gisPoints" }));
      },
      onEachFeature: function (f, layer) {
        if (interactive) layer.bindTooltip(tooltip(lc, f), { sticky: true, direction: "top" });
      },
    });
  }

  function loadAll(st) {
    if (st.loaded || st.loading) return;
    st.loading = true;
    fetchFeatures(st.cfg.items + "?limit=10000")
      .then(function (features) {
        st.data.addData({ type: "FeatureCollection", features: features });
        st.loaded = true;
      })
      .catch(function (e) { message("「" + st.cfg.title + "」を読み込めませんでした: " + e.message, true); })
      .finally(function () { st.loading = false; });
  }

  function loadDetail(st, map) {
    // Exact geometry around the view at parcel scale (a bbox query); refetched only when the view leaves it.
    var view = map.getBounds();
    if (st.box && st.box.contains(view)) return;
    var box = view.pad(0.5);
    st.box = box;
    var bbox = [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map(function (v) {
      return v.toFixed(6);
    });
    fetchFeatures(st.cfg.items + "?limit=10000&bbox=" + bbox.join(","))
      .then(function (features) {
        if (st.box !== box) return;
        st.data.clearLayers();
        st.data.addData({ type: "FeatureCollection", features: features });
      })
      .catch(function (e) { st.box = null; message("「" + st.cfg.title + "」を読み込めませんでした: " + e.message, true); });
  }

  function refresh(st, map) {
    var on = map.hasLayer(st.group);
    var z = map.getZoom();
    var lc = st.cfg;
    var active = on && z >= (lc.minZoom || 0) && (!lc.tiles || (lc.detailZoom && z >= lc.detailZoom));
    if (active) {
      if (lc.tiles) loadDetail(st, map);
      else loadAll(st);
      if (!st.group.hasLayer(st.data)) st.group.addLayer(st.data);
    } else if (st.group.hasLayer(st.data)) {
      st.group.removeLayer(st.data);
    }
    var item = document.querySelector('.gis-leg[data-layer="' + lc.id + '"]');
    if (item) {
      item.classList.toggle("gis-off", !on);
      item.classList.toggle("gis-zoom", on && z < (lc.minZoom || 0));
    }
  }

  function refreshAll(map) {
    Object.keys(states).forEach(function (id) { refresh(states[id], map); });
    var shown = Object.keys(states)
      .filter(function (id) { return states[id].cfg.sample && map.hasLayer(states[id].group); })
      .map(function (id) { return states[id].cfg.title; });
    var banner = document.getElementById("gis-banner");
    document.getElementById("gis-banner-layers").textContent = shown.join("・");
    var changed = banner.hidden !== !shown.length;
    banner.hidden = !shown.length;
    if (changed) map.invalidateSize();
  }

  function panelControl(id, position) {
    var el = document.getElementById(id);
    var Ctl = L.Control.extend({
      onAdd: function () {
        L.DomEvent.disableClickPropagation(el);
        L.DomEvent.disableScrollPropagation(el);
        return el;
      },
    });
    return new Ctl({ position: position });
  }

  function message(text, isError) {
    var el = document.getElementById("gis-search-msg");
    el.textContent = text || "";
    el.classList.toggle("gis-error", !!isError);
  }
  G.message = message;

  function popupOptions(map) {
    // Keep the popup clear of the controls: below the top ones (zoom, layers), above the bottom ones.
    var size = map.getSize();
    var c = map.getContainer();
    var h = function (sel) { var el = c.querySelector(sel); return el ? el.offsetHeight : 0; };
    var top = Math.max(h(".leaflet-top.leaflet-left"), h(".leaflet-top.leaflet-right")) + 8;
    var bottom = Math.min(Math.max(h(".leaflet-bottom.leaflet-left"), h(".leaflet-bottom.leaflet-right")) + 8, size.y / 4);
    return {
      // Widths of the content: the popup adds about 26 px of margins and border around it.
      maxWidth: Math.min(380, size.x - 70),
      minWidth: Math.min(260, size.x - 70),
      maxHeight: Math.max(160, size.y - top - bottom - 40),
      autoPanPaddingTopLeft: [10, top],
      autoPanPaddingBottomRight: [10, bottom],
      className: "gis-report-popup",
    };
  }

  // On a phone the report is a bottom sheet under the map's controls, not a popup over them.
  function narrowScreen() {
    return G.map.getSize().x < 640;
  }

  function sheet() {
    var el = document.getElementById("gis-sheet");
    if (el) return el;
    el = document.createElement("section");
    el.id = "gis-sheet";
    el.hidden = true;
    el.setAttribute("aria-label", "この場所のルール");
    el.innerHTML =
      '<div class="gis-sheet-bar"><span>この場所のルール</span>' +
      '<button type="button" class="gis-sheet-close" aria-label="閉じる">✕</button></div><div class="gis-sheet-body"></div>';
    el.querySelector(".gis-sheet-close").addEventListener("click", function () { G.closeReport(); remember(null); });
    document.body.appendChild(el);
    return el;
  }

  G.closeReport = function () {
    if (G.map) G.map.closePopup();
    var el = document.getElementById("gis-sheet");
    if (el && !el.hidden) {
      el.hidden = true;
      document.body.classList.remove("gis-sheet-open");
      G.map.invalidateSize();
    }
  };

  function remember(query) {
    // The address bar holds the place: copy it, reload it, or share it (a permalink for any place).
    if (window.history && history.replaceState) history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
  }
  G.remember = remember;

  function wireActions(container) {
    var share = container.querySelector(".gis-share");
    if (!share) return;
    share.addEventListener("click", function () {
      var url = new URL(share.getAttribute("data-url"), location.href).href;
      var done = function () { share.textContent = "リンクをコピーしました"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url).then(done, function () { window.prompt("この場所のリンク", url); });
      } else {
        window.prompt("この場所のリンク", url);
      }
    });
  }

  // Open the report for a point: `query` is the /lookup query string, `extra` an optional header (search).
  G.openReport = function (latlng, query, extra) {
    var map = G.map;
    var loading = '<div class="gis-report"><p class="gis-loading">読み込み中…</p></div>';
    var show, fail;
    G.closeReport();
    if (narrowScreen()) {
      var el = sheet();
      var body = el.querySelector(".gis-sheet-body");
      body.innerHTML = loading;
      el.hidden = false;
      document.body.classList.add("gis-sheet-open");
      el.scrollTop = 0;
      map.invalidateSize();
      map.panTo(latlng, { animate: false });
      show = function (html) { body.innerHTML = html; wireActions(body); };
      fail = show;
    } else {
      var popup = L.popup(popupOptions(map)).setLatLng(latlng).setContent(loading).openOn(map);
      show = function (html) { popup.setContent(html); popup.update(); wireActions(popup.getElement()); };
      fail = function (html) { popup.setContent(html); };
    }
    return fetchJSON(config().urls.lookup + "?" + query)
      .then(function (report) {
        show(GisReport.render(report, { extra: extra, palette: (layerCfg("zoning") || {}).palette }));
        remember(GisReport.placeQuery(report));
      })
      .catch(function (e) {
        fail('<div class="gis-report"><p class="gis-warn">' + esc(e.message) + "</p></div>");
      });
  };

  G.clear = function () {
    marks.clearLayers();
    G.closeReport();
  };

  function locateControl(map) {
    var Ctl = L.Control.extend({
      onAdd: function () {
        var b = L.DomUtil.create("button", "gis-locate");
        b.type = "button";
        b.textContent = "現在地";
        b.title = "現在地のルールを見る";
        L.DomEvent.disableClickPropagation(b);
        L.DomEvent.on(b, "click", function () {
          if (!navigator.geolocation) return message("この端末では現在地を使えません。", true);
          message("現在地を確認中…");
          navigator.geolocation.getCurrentPosition(
            function (pos) {
              var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
              var acc = Math.round(pos.coords.accuracy || 0);
              message("現在地（誤差 約 " + acc.toLocaleString() + " m）");
              G.mark(ll, acc);
              map.setView(ll, acc > 200 ? 15 : 17);
              var q = "lat=" + ll.lat.toFixed(6) + "&lon=" + ll.lng.toFixed(6) + (acc > 10 ? "&uncertainty_m=" + Math.min(acc, 5000) : "");
              G.openReport(ll, q, "現在地");
            },
            function () { message("現在地を取得できませんでした（位置情報の許可を確認してください）。", true); },
            { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
          );
        });
        return b;
      },
    });
    return new Ctl({ position: "topleft" });
  }

  function openFromAddress(map) {
    // A permalink or a search from the landing page: ?q= (search), ?address= (a report), ?lat=&lon= (a place).
    var p = new URLSearchParams(location.search);
    var q = p.get("q") || p.get("address");
    var lat = parseFloat(p.get("lat"));
    var lon = parseFloat(p.get("lon"));
    if (q) {
      document.getElementById("gis-q").value = q;
      GisSearch.search(q);
    } else if (isFinite(lat) && isFinite(lon)) {
      var ll = L.latLng(lat, lon);
      var u = parseFloat(p.get("uncertainty_m"));
      map.setView(ll, parseInt(p.get("z"), 10) || 17, { animate: false });
      G.mark(ll, isFinite(u) ? u : 0);
      G.openReport(ll, "lat=" + lat + "&lon=" + lon + (isFinite(u) ? "&uncertainty_m=" + u : ""));
    }
  }

  G.mark = function (latlng, radius) {
    marks.clearLayers();
    if (radius) {
      L.circle(latlng, { radius: radius, color: "#d7301f", weight: 2, dashArray: "6 4", fill: false, interactive: false })
        .addTo(marks);
    }
    L.circleMarker(latlng, { radius: 6, color: "#fff", weight: 2, fillColor: "#d7301f", fillOpacity: 1, interactive: false })
      .addTo(marks);
  };

  G.idle = function () {
    return !!G.map && pending === 0 && Object.keys(states).every(function (id) { return !states[id].loading; });
  };

  G.init = function (map, groups) {
    G.map = map;
    ensurePanes(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    marks = L.layerGroup().addTo(map);
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    config().layers.forEach(function (lc) {
      var st = { cfg: lc, group: groups[lc.id], data: geoLayer(lc), loaded: false, loading: false, box: null };
      states[lc.id] = st;
      // Child layers' events bubble up to the group: react only to the group itself being toggled.
      st.group.on("add remove", function (e) { if (e.sourceTarget === st.group) refreshAll(map); });
    });
    // folium leaves the zoom range to the layers (vector tiles stop below their detail zoom): set it here.
    map.setMinZoom(7);
    map.setMaxZoom(config().maxZoom);
    var legend = document.querySelector("#gis-legend details");
    if (window.innerWidth < 640) legend.open = false;
    // On a phone an open legend would sit under the report: fold it while a popup is open. The two bottom
    // panels would overlap when both are open on a narrow screen: opening one folds the other.
    var sources = document.querySelector("#gis-sources details");
    var narrow = function () { return map.getSize().x < 640; };
    map.on("popupopen", function () { if (narrow()) legend.open = false; });
    map.on("popupclose", function () { if (!narrowScreen()) remember(null); });
    legend.addEventListener("toggle", function () { if (legend.open && narrow()) sources.open = false; });
    sources.addEventListener("toggle", function () { if (sources.open && narrow()) legend.open = false; });
    panelControl("gis-legend", "bottomleft").addTo(map);
    panelControl("gis-sources", "bottomright").addTo(map);
    map.on("zoomend moveend", function () { refreshAll(map); });
    locateControl(map).addTo(map);
    map.on("click", function (e) {
      if (GisSearch.busy()) return;
      GisSearch.tapped();
      G.mark(e.latlng, 0);
      G.openReport(e.latlng, "lat=" + e.latlng.lat.toFixed(6) + "&lon=" + e.latlng.lng.toFixed(6));
    });
    GisSearch.init();
    map.invalidateSize();
    // A one-layer page framed on a layer drawn only from a closer zoom (farmland): start at that zoom.
    var only = config().single && config().layers[0];
    if (only && map.getZoom() < only.minZoom) map.setZoom(only.minZoom, { animate: false });
    refreshAll(map);
    openFromAddress(map);
    G.ready = true;
  };
})();
