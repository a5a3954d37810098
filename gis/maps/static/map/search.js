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

  S.search = function (q) {
    var conf = cfg();
    var map = GisMap.map;
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
        // A popup opened during the flight would be closed by it: open the report once the map has arrived.
        busyUntil = Date.now() + 2500;
        var opened = false;
        var open = function () {
          if (opened) return;
          opened = true;
          busyUntil = 0;
          var extra = "住所: " + q + " → " + label + "（" + precision + "）";
          GisMap.openReport(latlng, "address=" + encodeURIComponent(q), extra);
        };
        map.flyTo(latlng, zoomFor(g.uncertainty_m), { duration: 0.8 });
        // Listen only after flyTo: stopping a running pan inside it fires a moveend of its own.
        map.once("moveend", open);
        setTimeout(open, 2500);
      })
      .catch(function (e) { GisMap.message("検索できませんでした: " + e.message, true); });
  };

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
