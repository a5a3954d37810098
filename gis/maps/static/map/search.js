/* 住所検索: /geocode → fly to the result → the report for that address (/lookup?address=), candidates when
   the address is ambiguous. */
(function () {
  "use strict";
  var S = (window.GisSearch = {});
  var busyUntil = 0;

  function cfg() {
    return JSON.parse(document.getElementById("gis-config").textContent);
  }

  function showCandidates(list, cities) {
    var ul = document.getElementById("gis-candidates");
    ul.innerHTML = "";
    list.forEach(function (c) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = (cities[c.city_code] || "") + c.town + (c.koaza ? " " + c.koaza : "");
      b.addEventListener("click", function () {
        // A place candidate searches its name within its city (the label's kind in brackets is not part of it).
        var text = c.layer ? (cities[c.city_code] || "") + c.town : b.textContent;
        ul.hidden = true;
        document.getElementById("gis-q").value = text;
        S.search(text);
      });
      li.appendChild(b);
      ul.appendChild(li);
    });
    ul.hidden = !list.length;
    if (GisMap.map) GisMap.map.invalidateSize();
  }

  function zoomFor(uncertainty) {
    // Fit the uncertainty circle; an exact (parcel) point gets street scale.
    if (!uncertainty || uncertainty < 50) return 17;
    return Math.max(11, Math.min(17, Math.round(16 - Math.log2(uncertainty / 150))));
  }

  // Cemeteries by name (墓地台帳): /cemeteries?q= reads kana and kanji and forgives small typos, which the
  // geocoder's exact place names do not. A close match (score ≥ FUZZY_OK) is taken when the address search found
  // nothing; a whole name (score ≥ NAME_OK) wins over a 大字-level address match.
  var NAME_OK = 95;
  var FUZZY_OK = 55;
  var CLEAR_BY = 5;

  function findCemeteries(q) {
    var conf = cfg();
    var url = conf.urls.cemeteries || conf.urls.geocode.replace(/\/geocode$/, "/cemeteries");
    return GisMap.fetchJSON(url + "?limit=5&q=" + encodeURIComponent(q))
      .then(function (body) { return body.cemeteries || []; })
      .catch(function () { return []; });
  }

  function asCandidates(list) {
    return list.map(function (o) {
      return { city_code: o.city_code, town: o.name, koaza: "（墓地" + (o.sample ? "・サンプル" : "") + "）", layer: "cemeteries" };
    });
  }

  // Land on a cemetery and open the report there: its section lists the ledger items (operator, contact route).
  function landOnCemetery(c, q, others) {
    var conf = cfg();
    var latlng = L.latLng(c.lat, c.lon);
    var label = (conf.cities[c.city_code] || "") + " " + c.name;
    showCandidates(asCandidates(others || []), conf.cities);
    GisMap.closeReport();
    GisMap.mark(latlng, 0);
    GisMap.remember("q=" + encodeURIComponent(q));
    GisMap.message(label + "（墓地" + (c.sample ? "・サンプル" : "") + "）");
    flyAndOpen(latlng, 17, "lat=" + c.lat + "&lon=" + c.lon, "墓地: " + q + " → " + c.name);
  }

  function flyAndOpen(latlng, zoom, query, extra) {
    var map = GisMap.map;
    // A popup opened during the flight would be closed by it: open the report once the map has arrived.
    busyUntil = Date.now() + 2500;
    var opened = false;
    var open = function () {
      if (opened) return;
      opened = true;
      busyUntil = 0;
      GisMap.openReport(latlng, query, extra);
    };
    map.flyTo(latlng, zoom, { duration: 0.8 });
    // Listen only after flyTo: stopping a running pan inside it fires a moveend of its own.
    map.once("moveend", open);
    setTimeout(open, 2500);
  }

  S.search = function (q) {
    var conf = cfg();
    q = (q || "").trim();
    if (!q) return Promise.resolve();
    GisMap.message("検索中…");
    showCandidates([], conf.cities);
    showTapHint(false);
    return GisMap.fetchJSON(conf.urls.geocode + "?q=" + encodeURIComponent(q))
      .then(function (g) {
        var levelOk = g.lat != null && ["none", "pref", "city"].indexOf(g.match_level) < 0;
        if (g.outside_service_area) {
          GisMap.clear();
          GisMap.message("伊万里市・武雄市の区域外の住所です。", true);
          return;
        }
        if (g.match_level === "parcel" || (g.place && g.place.layer !== "cemeteries")) return showPlace(g, q, levelOk);
        // A cemetery the geocoder knows by its exact name is looked up by that name (with its ledger items).
        var name = g.place && g.place.layer === "cemeteries" ? g.place.name : q;
        return findCemeteries(name).then(function (found) {
          var best = found[0];
          var good = found.filter(function (c) { return c.score >= FUZZY_OK; });
          // A clear winner is landed on; several as close (「墓地」, 「寺」) are offered to choose from.
          var clear = best && (best.score >= NAME_OK || !found[1] || best.score - found[1].score >= CLEAR_BY);
          if (best && (best.score >= NAME_OK || (!levelOk && best.score >= FUZZY_OK))) {
            if (clear) return landOnCemetery(best, q, good.slice(1));
            GisMap.clear();
            GisMap.message("墓地の候補が複数あります。候補から選んでください。", true);
            showCandidates(asCandidates(good), conf.cities);
            return;
          }
          return showPlace(g, q, levelOk);
        });
      })
      .catch(function (e) { GisMap.message("検索できませんでした: " + e.message, true); });
  };

  function showPlace(g, q, levelOk) {
    var conf = cfg();
    var map = GisMap.map;
    if (!levelOk) {
      // A failed search leaves nothing of the previous one on the map.
      GisMap.clear();
      GisMap.message(
        g.candidates && g.candidates.length
          ? "場所を特定できませんでした。候補から選んでください。"
          : "見つかりませんでした。大字・町名、施設名、郵便番号などで探してください。",
        true
      );
      showCandidates(g.candidates || [], conf.cities);
      return;
    }
    var latlng = L.latLng(g.lat, g.lon);
    var label = (g.city || "") + (g.place ? " " + g.place.name : (g.town || "") + (g.rest ? " " + g.rest : ""));
    var precision = g.match_level === "parcel" ? "地番の位置" : g.place ? g.place.layer_title : "大字・町の範囲";
    if (g.candidates && g.candidates.length) showCandidates(g.candidates, conf.cities);
    GisMap.closeReport();
    GisMap.mark(latlng, g.uncertainty_m || 0);
    GisMap.remember("q=" + encodeURIComponent(q));
    if (g.match_level !== "parcel") {
      // Never a many-zone report as if it were the answer: show the area and ask for the lot.
      map.fitBounds(L.latLng(g.lat, g.lon).toBounds(Math.max(2 * (g.uncertainty_m || 300), 300)), { animate: false });
      GisMap.message(
        label + "（" + precision + (g.place && g.place.sample ? "・サンプル" : "") + "）を表示しています。" +
          "敷地（建物の場所）を地図でタップすると、その場所のルールを表示します。"
      );
      showTapHint(true);
      return;
    }
    GisMap.message(label + "（" + precision + "）");
    var extra = "住所: " + q + " → " + label + "（" + precision + "）";
    flyAndOpen(latlng, zoomFor(g.uncertainty_m), "address=" + encodeURIComponent(q), extra);
  }

  function showTapHint(on) {
    var el = document.getElementById("gis-tap-hint");
    if (!el) {
      el = document.createElement("div");
      el.id = "gis-tap-hint";
      el.setAttribute("role", "status");
      el.textContent = "敷地をタップしてください";
      GisMap.map.getContainer().appendChild(el);
    }
    el.hidden = !on;
  }

  // A tap on the map answers the hint.
  S.tapped = function () {
    showTapHint(false);
  };

  S.busy = function () {
    return Date.now() < busyUntil;
  };

  S.init = function () {
    var form = document.getElementById("gis-search");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var input = document.getElementById("gis-q");
      input.blur();
      S.search(input.value);
    });
  };
})();
