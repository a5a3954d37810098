/* The "what applies here" report (/lookup JSON) as popup HTML: plain answers first, warnings in red, the
   source and data date of every section in small print, a サンプル tag where a section holds sample data. */
(function () {
  "use strict";
  var R = (window.GisReport = {});

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function m(v) {
    return v == null ? "" : "約 " + Math.round(v).toLocaleString() + " m";
  }
  function where(z) {
    return z.distance_m === 0 ? "この地点" : m(z.distance_m);
  }
  function pct(v) {
    return v == null ? "—" : esc(v) + "%";
  }

  function sources(sec) {
    var seen = {};
    var parts = [];
    (sec.sources || []).forEach(function (s) {
      var key = s.attribution || s.title;
      if (!key || seen[key]) return;
      seen[key] = true;
      parts.push(esc(key) + (s.data_date ? "（" + esc(s.data_date) + " 時点）" : ""));
    });
    return parts.length ? '<p class="gis-src">出典: ' + parts.join(" ／ ") + "</p>" : "";
  }

  function section(title, body, sec) {
    var tag = sec && sec.sample ? ' <span class="gis-tag">サンプル</span>' : "";
    return (
      '<section class="gis-sec"><h4>' + esc(title) + tag + "</h4>" + body + (sec ? sources(sec) : "") + "</section>"
    );
  }

  function warn(text) {
    return '<p class="gis-warn">' + esc(text) + "</p>";
  }

  function boundaryWarning(sec) {
    if (sec.near_boundary && sec.status !== "area") {
      var d = sec.boundary_distance_m != null ? "（最寄りの境界まで" + m(sec.boundary_distance_m) + "）" : "";
      return warn("境界付近です" + d + "。下のいずれの区域にも当たる可能性があります。市に確認してください。");
    }
    if (sec.confirm_with_city) return warn(sec.message || "市に確認してください。");
    return "";
  }

  function zoneList(zones, fmt) {
    // The same zone kind may appear several times in reach: list each kind once, nearest first.
    var seen = {};
    var items = [];
    zones.slice().sort(function (a, b) { return a.distance_m - b.distance_m; }).forEach(function (z) {
      var text = fmt(z);
      if (seen[text]) return;
      seen[text] = true;
      items.push("<li>" + text + ' <span class="gis-dist">' + where(z) + "</span></li>");
    });
    return items.length ? '<ul class="gis-zones">' + items.join("") + "</ul>" : "";
  }

  function zoning(z, palette) {
    var d = z.designation || {};
    var fmt = function (a) {
      var sw = palette && palette[a.youto_name] ? '<i class="gis-sw" style="background:' + palette[a.youto_name] + '"></i>' : "";
      return sw + esc(a.youto_name) + "（" + pct(a.kenpei) + " / " + pct(a.yoseki) + "）";
    };
    var body = "";
    if (z.answer) {
      var a = z.answer;
      body += '<p class="gis-answer">' + fmt(a).replace(/（.*）$/, "") + "</p>";
      body +=
        '<table class="gis-kv"><tr><th>建ぺい率</th><td>' + pct(a.kenpei) + "</td></tr><tr><th>容積率</th><td>" +
        pct(a.yoseki) + "</td></tr><tr><th>高さの限度</th><td>" +
        (a.height_limit_m != null ? esc(a.height_limit_m) + " m" : "指定なし") + "</td></tr></table>";
    }
    body += boundaryWarning(z);
    if (!z.answer && z.zones && z.zones.length) body += zoneList(z.zones, fmt);
    if (!z.zones || !z.zones.length) {
      if (d.status === "shiroji") {
        body += '<p class="gis-answer">白地（用途地域の指定なし・都市計画区域内）</p>';
        if (d.defaults && d.defaults.note) body += '<p class="gis-note">' + esc(d.defaults.note) + "</p>";
      } else if (d.status === "outside_planning_area") {
        body += '<p class="gis-answer">区域外（都市計画区域外・用途地域の指定なし）</p>';
      } else if (d.status === "unknown") {
        body += '<p class="gis-answer">不明</p>' + warn(d.message);
      }
    }
    return section("用途地域", body, z);
  }

  function simpleZone(title, sec, fmt, none) {
    if (!sec) return "";
    var body = "";
    if (sec.answer) body += '<p class="gis-answer">' + fmt(sec.answer) + "</p>";
    body += boundaryWarning(sec);
    if (!sec.answer && sec.zones && sec.zones.length) body += zoneList(sec.zones, fmt);
    if (!sec.zones || !sec.zones.length) body += "<p>" + esc(none) + "</p>";
    return section(title, body, sec);
  }

  function limits(z) {
    return (z.limits || []).map(function (l) { return esc(l.period) + " " + esc(l.limit_db); }).join("、");
  }

  function regulation(title, sec) {
    if (!sec) return "";
    var fmt = function (z) { return esc(z.zone_class) + "区域"; };
    var body = "";
    if (sec.answer) {
      body += '<p class="gis-answer">' + fmt(sec.answer) + "</p>";
      if (sec.answer.limits && sec.answer.limits.length) {
        body += '<p class="gis-note">特定工場等の規制基準: ' + limits(sec.answer) + "</p>";
      }
    }
    body += boundaryWarning(sec);
    if (!sec.answer && sec.zones && sec.zones.length) body += zoneList(sec.zones, fmt);
    if (sec.message && !sec.confirm_with_city) body += '<p class="gis-note">' + esc(sec.message) + "</p>";
    return section(title, body, sec);
  }

  function construction(c) {
    if (!c) return "";
    var body = "";
    var classes = c.classes_in_reach || [];
    if (c.answer) body += '<p class="gis-answer">' + esc(c.answer) + "区域</p>";
    else if (classes.length) body += '<p class="gis-answer">' + classes.map(esc).join(" または ") + "区域</p>";
    Object.keys(c.limits || {}).forEach(function (k) {
      var l = c.limits[k];
      body +=
        '<p class="gis-note">' + esc(k) + ": 騒音 " + esc(l.noise_db) + " dB・振動 " + esc(l.vibration_db) +
        " dB、作業禁止 " + esc(l.no_work_hours) + "、1日 " + esc(l.max_hours_per_day) + " 時間まで、連続 " +
        esc(l.max_consecutive_days) + " 日まで、日曜・休日 " + esc(l.sundays_holidays) + "</p>";
    });
    if ((c.facilities_within_80m || []).length) {
      body += "<p>80 m 以内の施設: " + c.facilities_within_80m.map(function (f) { return esc(f.name); }).join("、") + "</p>";
    }
    if (c.message) body += c.answer ? '<p class="gis-note">' + esc(c.message) + "</p>" : warn(c.message);
    body += '<p class="gis-note">届出: 作業開始の7日前までに市へ。</p>';
    return section("特定建設作業", body, c);
  }

  function nearest(title, sec, list, fmt, none) {
    if (!sec) return "";
    var items = (list || []).slice(0, 2).map(function (x) { return "<li>" + fmt(x) + "</li>"; });
    return section(title, items.length ? '<ul class="gis-zones">' + items.join("") + "</ul>" : "<p>" + esc(none) + "</p>", sec);
  }

  var SENSOR_STATE = { dry: "冠水なし", wet: "冠水を検知", unknown: "不明（定時通報なし）" };

  function header(r, extra) {
    var city = r.municipality && r.municipality.municipalities && r.municipality.municipalities[0];
    var town = r.town && r.town.nearest && r.town.nearest[0];
    var html = "";
    if (extra) html += '<p class="gis-extra">' + esc(extra) + "</p>";
    html +=
      '<p class="gis-place"><strong>' + esc(city ? city.name : "区域外") + "</strong>" +
      (town ? " " + esc(town.name) + ' <span class="gis-dist">' +
        (town.distance_m >= 1 ? "付近（代表点まで" + m(town.distance_m) + "・おおよそ）" : "（代表点・おおよその位置）") + "</span>" : "") +
      "</p>";
    var p = r.precision || {};
    if (r.message) html += warn(r.message);
    if (p.message) html += '<p class="gis-precision">' + esc(p.message) + "</p>";
    return html;
  }

  R.garbageLink = function (r) {
    // The garbage page finds the same nearest point from the same place (the click, or the address).
    var root = JSON.parse(document.getElementById("gis-config").textContent).urls.lookup.replace(/\/lookup$/, "");
    var q = r.query || {};
    var where = q.address ? "address=" + encodeURIComponent(q.address) : "lat=" + q.lat + "&lon=" + q.lon;
    return esc(root + "/map/garbage?" + where);
  };

  R.render = function (r, opts) {
    opts = opts || {};
    if (!r.municipality) {
      // /lookup?address= could not place the address: its message and candidates only.
      return '<div class="gis-report">' + warn(r.message || "判定できませんでした。") + "</div>";
    }
    var out = header(r, opts.extra);
    out += zoning(r.zoning || {}, opts.palette);
    out += simpleZone("都市計画区域", r.planning_area, function (z) {
      return esc(z.name) + (z.area_classification_text ? "（" + esc(z.area_classification_text) + "）" : "");
    }, "都市計画区域のデータなし（区域外または未整備）");
    out += simpleZone("防火・準防火地域", r.fire_district, function (z) { return esc(z.fire_type); }, "指定なし");
    if (r.special_use_district && r.special_use_district.zones && r.special_use_district.zones.length) {
      out += simpleZone("特別用途地区", r.special_use_district, function (z) { return esc(z.name); }, "指定なし");
    }
    out += regulation("騒音規制地域", r.noise);
    out += regulation("振動規制地域", r.vibration);
    out += construction(r.construction);
    var gp = r.garbage_points || {};
    out += nearest("ごみ集積所（最寄り）・次の収集日", gp, (gp.nearest || []).slice(0, 1), function (g) {
      var days = (g.next || []).map(function (d) {
        var md = d.day.slice(5).replace("-", "/").replace(/^0/, "").replace("/0", "/");
        return esc(d.category) + " " + md + "(" + esc(d.weekday) + ")" + (d.status === "move" ? "振替" : d.status === "extra" ? "臨時" : "");
      });
      return esc(g.name) + ' <span class="gis-dist">' + m(g.distance_m) + "</span>" +
        (g.group_name ? '<br><span class="gis-note">' + esc(g.group_name) + "</span>" : "") +
        (days.length ? '<br><span class="gis-next">' + days.join("、") + "</span>" : "") +
        '<br><a href="' + GisReport.garbageLink(r) + '">ごみ出しナビで見る（カレンダー・通知・分別）</a>';
    }, "近くに登録された集積所はありません");
    var fl = r.farmland || {};
    out += nearest("農地（筆ポリゴン）", fl, fl.at_point, function (f) {
      return "地目 " + esc(f.land_type_name || "—") + (f.oaza ? "・" + esc(f.oaza) : "") + (f.chiban ? " " + esc(f.chiban) : "") +
        (f.area_m2 ? "・" + Math.round(f.area_m2).toLocaleString() + " m²" : "") +
        (f.noushin_kubun ? '<br><span class="gis-note">農振: ' + esc(f.noushin_kubun) + "</span>" : "");
    }, "この地点に農地の区画データはありません");
    var se = r.inundation_sensors || {};
    out += nearest("浸水センサ（最寄り）", se, se.nearest, function (s) {
      var state = SENSOR_STATE[s.state_now] || esc(s.state_now);
      var cls = s.state_now === "wet" ? "gis-wet" : s.state_now === "unknown" ? "gis-unknown" : "gis-dry";
      return esc(s.name) + ' <span class="gis-dist">' + m(s.distance_m) + '</span><br><span class="' + cls + '">' + state +
        "</span>" + (s.last_seen ? ' <span class="gis-note">最終受信 ' + esc(s.last_seen.slice(0, 16).replace("T", " ")) + "</span>" : "");
    }, "近くにセンサはありません");
    var pk = r.parks || {};
    out += nearest("公園（最寄り）", pk, pk.nearest, function (p) {
      return esc(p.name) + (p.park_type ? "（" + esc(p.park_type) + "）" : "") + ' <span class="gis-dist">' + m(p.distance_m) + "</span>";
    }, "近くに公園のデータはありません");
    out += '<p class="gis-note gis-foot">境界付近や敷地単位の判断は必ず市の担当課へご確認ください。</p>';
    return '<div class="gis-report">' + out + "</div>";
  };
})();
