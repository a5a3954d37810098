/* The "what applies here" report (/lookup JSON): the summary first (the server's rows: 用途地域, 建ぺい率/容積率,
   高さ, 防火, 騒音・振動, 都市計画区域), one notice, then short sections by task, folded, each with its source and
   data date. Plain Japanese; the few terms that must stay are explained in 用語の説明. */
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
    return z.distance_m === 0 ? "この場所" : m(z.distance_m);
  }
  function pct(v) {
    return v == null ? "—" : esc(v) + "%";
  }
  function root() {
    return JSON.parse(document.getElementById("gis-config").textContent).urls.lookup.replace(/\/lookup$/, "");
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

  // A folded section: the title line says the answer, the body the details and the source.
  function section(key, title, line, body, secs) {
    secs = (secs || []).filter(Boolean);
    var sample = secs.some(function (s) { return s.sample; }) ? ' <span class="gis-tag">サンプル</span>' : "";
    return (
      '<details class="gis-sec" data-sec="' + key + '"><summary><span class="gis-sec-t">' + esc(title) + sample +
      '</span><span class="gis-sec-a">' + esc(line || "") + "</span></summary>" + body +
      secs.map(sources).join("") + "</details>"
    );
  }

  function zoneList(zones, fmt) {
    // The same zone kind may appear several times in reach: list each kind once, nearest first.
    var seen = {};
    var items = [];
    (zones || []).slice().sort(function (a, b) { return a.distance_m - b.distance_m; }).forEach(function (z) {
      var text = fmt(z);
      if (seen[text]) return;
      seen[text] = true;
      items.push("<li>" + text + ' <span class="gis-dist">' + where(z) + "</span></li>");
    });
    return items.length ? '<ul class="gis-zones">' + items.join("") + "</ul>" : "";
  }

  function note(text) {
    return text ? '<p class="gis-note">' + esc(text) + "</p>" : "";
  }

  function zoneBody(sec, fmt, none) {
    if (!sec) return "";
    if (sec.status === "no_data") return note(sec.message);
    if (sec.answer) return '<p class="gis-answer">' + fmt(sec.answer) + "</p>";
    if (sec.zones && sec.zones.length) return "<p>候補（位置で決まります）:</p>" + zoneList(sec.zones, fmt);
    return "<p>" + esc(none) + "</p>";
  }

  function summary(r) {
    var s = r.summary || {};
    var rows = (s.rows || []).map(function (row) {
      var tag = row.sample ? ' <span class="gis-tag">サンプル</span>' : "";
      return (
        '<tr class="gis-st-' + esc(row.status) + '"><th>' + esc(row.item) + "</th><td>" + esc(row.value) + tag + "</td></tr>"
      );
    });
    return rows.length ? '<table class="gis-sum">' + rows.join("") + "</table>" : "";
  }

  function building(r, palette) {
    var z = r.zoning || {};
    var sw = function (a) {
      return palette && palette[a.youto_name] ? '<i class="gis-sw" style="background:' + palette[a.youto_name] + '"></i>' : "";
    };
    var fmt = function (a) { return sw(a) + esc(a.youto_name) + "（" + pct(a.kenpei) + " / " + pct(a.yoseki) + "）"; };
    var body = "<h5>用途地域（建ぺい率 / 容積率）</h5>" + zoneBody(z, fmt, "指定なし");
    var d = z.designation || {};
    if (d.defaults && d.defaults.note) body += note(d.defaults.note + "（" + (d.defaults.legal_ref || "") + "）");
    else if (d.message) body += note(d.message);
    body += "<h5>防火・準防火地域</h5>" + zoneBody(r.fire_district, function (f) { return esc(f.fire_type); }, "指定なし");
    body += "<h5>都市計画区域</h5>" + zoneBody(r.planning_area, function (p) {
      return esc(p.name) + (p.area_classification_text ? "（" + esc(p.area_classification_text) + "）" : "");
    }, "都市計画区域のデータなし");
    var su = r.special_use_district;
    if (su && su.zones && su.zones.length) {
      body += "<h5>特別用途地区</h5>" + zoneBody(su, function (x) { return esc(x.name); }, "指定なし");
    }
    if (r.lot && r.lot.basis) body += note(r.lot.basis);
    body += note("問い合わせ: 市の都市計画・建築担当課");
    var line = z.answer ? z.answer.youto_name : "";
    return section("build", "建てるとき", line, body, [z, r.fire_district, r.planning_area]);
  }

  function limits(z) {
    return (z.limits || []).map(function (l) { return esc(l.period) + " " + esc(l.limit_db); }).join("、");
  }

  function works(c) {
    var body = "";
    var classes = c.classes_in_reach || [];
    if (c.answer) body += '<p class="gis-answer">特定建設作業: ' + esc(c.answer) + "区域</p>";
    else if (classes.length) body += "<p>特定建設作業: " + classes.map(esc).join(" または ") + "区域（位置で決まります）</p>";
    Object.keys(c.limits || {}).forEach(function (k) {
      var l = c.limits[k];
      body +=
        note(k + ": 騒音 " + l.noise_db + " dB・振動 " + l.vibration_db + " dB まで、" + l.no_work_hours + " は作業できません。1日 " +
          l.max_hours_per_day + " 時間・連続 " + l.max_consecutive_days + " 日まで、日曜・休日は" + l.sundays_holidays);
    });
    if (c.precise_enough === false) body += note(c.facilities_message);
    if ((c.facilities_within_80m || []).length) {
      body += "<p>80 m 以内の学校・病院など: " + c.facilities_within_80m.map(function (f) { return esc(f.name); }).join("、") + "</p>";
    }
    if ((c.works || []).length) {
      body += "<details class='gis-inner'><summary>特定建設作業にあたる作業</summary><ul class='gis-zones'>" +
        c.works.map(function (w) { return "<li>" + esc(w) + "</li>"; }).join("") + "</ul></details>";
    }
    body += '<p><a class="gis-link" href="' + esc(root() + "/map/construction_1go_areas") + '">学校・病院等の周囲 約80 m（1号区域）を地図で見る</a></p>';
    if (c.message && !c.answer) body += note(c.message);
    (c.notes || []).forEach(function (n) { body += note(n); });
    if (c.office) body += note("届出・問い合わせ: " + c.office + (c.form ? "。様式: " + c.form : ""));
    return body;
  }

  function construction(r) {
    var fmt = function (z) {
      return esc(z.zone_class) + "区域" + (z.limits && z.limits.length ? '<br><span class="gis-note">工場等の基準: ' + limits(z) + "</span>" : "");
    };
    var body = "<h5>騒音規制地域</h5>" + zoneBody(r.noise, fmt, "規制地域外");
    if (r.noise && r.noise.message) body += note(r.noise.message);
    body += "<h5>振動規制地域</h5>" + zoneBody(r.vibration, fmt, "規制地域外");
    if (r.construction) body += "<h5>工事（特定建設作業）</h5>" + works(r.construction);
    var c = r.construction || {};
    var line = c.answer ? c.answer + "区域" : "";
    return section("works", "工事をするとき", line, body, [r.noise, r.vibration, r.construction]);
  }

  function day(d) {
    var md = d.day.slice(5).replace("-", "/").replace(/^0/, "").replace("/0", "/");
    return esc(d.category) + " " + md + "(" + esc(d.weekday) + ")" + (d.status === "move" ? "振替" : d.status === "extra" ? "臨時" : "");
  }

  function garbage(r) {
    var gp = r.garbage_points;
    if (!gp) return "";
    var g = (gp.nearest || [])[0];
    if (!g) return section("garbage", "ごみの日", "近くの集積所なし", "<p>近くに登録された集積所はありません。</p>", [gp]);
    var days = (g.next || []).map(day);
    var body =
      "<p>最寄りの集積所: " + esc(g.name) + ' <span class="gis-dist">' + m(g.distance_m) + "</span></p>" +
      (g.group_name ? note(g.group_name) : "") +
      (days.length ? '<p class="gis-next">' + days.join("、") + "</p>" : "") +
      '<p><a class="gis-link" href="' + R.garbageLink(r) + '">ごみ出しナビで見る（カレンダー・通知・分別）</a></p>';
    return section("garbage", "ごみの日", days[0] ? days[0].replace(/<[^>]+>/g, "") : "", body, [gp]);
  }

  var SENSOR_STATE = { dry: "冠水なし", wet: "冠水を検知（確認中）", flooded: "冠水（10分以上継続）", unknown: "不明（定時通報なし）" };

  function sensorLine(s) {
    var state = SENSOR_STATE[s.state] || esc(s.state);
    var cls = s.state === "wet" || s.state === "flooded" ? "gis-wet" : s.state === "unknown" ? "gis-unknown" : "gis-dry";
    return esc(s.name) + ' <span class="gis-dist">' + m(s.distance_m) + '</span><br><span class="' + cls + '">' + state +
      "</span>" + (s.last_seen_jst ? ' <span class="gis-note">最終受信 ' + esc(s.last_seen_jst) + "</span>" : "");
  }

  function shelterItems(list) {
    return (list || []).slice(0, 3).map(function (s) {
      return "<li>" + esc(s.name) + ' <span class="gis-dist">' + m(s.distance_m) + "</span></li>";
    }).join("");
  }

  function safety(r) {
    var body = "";
    var secs = [];
    [["flood_history", "過去の浸水"], ["flood_risk", "洪水浸水想定区域"], ["landslide", "土砂災害警戒区域"]].forEach(function (p) {
      var s = r[p[0]];
      if (!s) return;
      secs.push(s);
      body += "<h5>" + p[1] + "</h5><p>" + esc(s.summary || s.message || "") + "</p>";
    });
    var sh = r.shelters;
    if (sh) {
      secs.push(sh);
      var e = sh.emergency_sites || {};
      if ((e.flood || []).length) body += "<h5>洪水のときの避難場所（近い順）</h5><ul class='gis-zones'>" + shelterItems(e.flood) + "</ul>";
      if ((e.landslide || []).length) body += "<h5>土砂災害のときの避難場所</h5><ul class='gis-zones'>" + shelterItems(e.landslide) + "</ul>";
      if ((sh.shelters || []).length) body += "<h5>避難所（避難生活の場）</h5><ul class='gis-zones'>" + shelterItems(sh.shelters) + "</ul>";
      (sh.notes || []).forEach(function (n) { body += note(n); });
    }
    var se = r.inundation_sensors;
    if (se) {
      secs.push(se);
      var list = (se.nearest || []).slice(0, 2).map(function (s) { return "<li>" + sensorLine(s) + "</li>"; });
      body += "<h5>浸水センサ（近い順）</h5>" + (list.length ? "<ul class='gis-zones'>" + list.join("") + "</ul>" : "<p>近くにセンサはありません。</p>");
    }
    if (!body) return "";
    var wet = (se && se.nearest || []).some(function (s) { return s.state === "wet" || s.state === "flooded"; });
    return section("safety", "災害にそなえる", wet ? "近くのセンサが冠水を検知" : "", body, secs);
  }

  function transit(r) {
    var bs = r.bus_stops;
    if (!bs) return "";
    var list = bs.nearest || [];
    var items = list.slice(0, 3).map(function (s) {
      var deps = (s.departures || s.next_departures || []).slice(0, 3).map(function (d) {
        return esc(d.time_jst || "") + " " + esc(d.headsign || d.route || "");
      });
      return "<li>" + esc(s.stop_name || s.name) + ' <span class="gis-dist">' + m(s.distance_m) + "</span>" +
        (deps.length ? '<br><span class="gis-note">次の発車: ' + deps.join("、") + "</span>" : "") +
        (s.timetable_note ? '<br><span class="gis-note">' + esc(s.timetable_note) + "</span>" : "") + "</li>";
    });
    var body = items.length ? "<ul class='gis-zones'>" + items.join("") + "</ul>" : "<p>近くにバス停はありません。</p>";
    if (bs.note) body += note(bs.note + "（時刻は日本時間）");
    return section("transit", "バス", list[0] ? (list[0].stop_name || list[0].name) + " " + m(list[0].distance_m) : "", body, [bs]);
  }

  function farmland(r) {
    var fl = r.farmland;
    if (!fl) return "";
    var at = fl.at_point || [];
    if (!at.length) return "";
    var body = at.slice(0, 2).map(function (f) {
      return "<p>地目 " + esc(f.land_type_name || "—") + (f.oaza ? "・" + esc(f.oaza) : "") + (f.chiban ? " " + esc(f.chiban) : "") +
        (f.area_m2 ? "・" + Math.round(f.area_m2).toLocaleString() + " m²" : "") + "</p>" +
        (f.noushin_kubun ? note("農振: " + f.noushin_kubun) : "");
    }).join("");
    return section("farm", "農地", esc(at[0].land_type_name || ""), body + note("問い合わせ: 市の農業委員会"), [fl]);
  }

  function parks(r) {
    var pk = r.parks;
    if (!pk || !(pk.nearest || []).length) return "";
    var items = pk.nearest.slice(0, 2).map(function (p) {
      return "<li>" + esc(p.name) + (p.park_type ? "（" + esc(p.park_type) + "）" : "") + ' <span class="gis-dist">' + m(p.distance_m) + "</span></li>";
    });
    return section("parks", "近くの公園", pk.nearest[0].name, "<ul class='gis-zones'>" + items.join("") + "</ul>", [pk]);
  }

  // 墓地台帳: the cemeteries within 500 m; the one at the point (a search for its name lands there) with every
  // ledger item. An individual's cemetery names no person: its contact is the city's counter.
  var CEMETERY_AT_M = 30;

  function cemeteryLedger(c) {
    var rows = [
      ["読み", c.name_kana],
      ["所在地", c.address],
      ["経営主体区分", c.operator_type],
      ["経営者名称", c.operator_name || (c.operator_type === "個人" ? "（個人のため非公開）" : "")],
      ["連絡窓口", c.contact],
      ["経営許可年月日", c.permit_date],
      ["区画数", c.plots != null ? Number(c.plots).toLocaleString() : ""],
      ["面積", c.area_m2 != null ? Math.round(c.area_m2).toLocaleString() + " m²" : ""],
      ["台帳記載", c.ledger_listed === true ? "あり" : c.ledger_listed === false ? "なし" : ""],
      ["確認状況", c.status],
      ["データ時点", c.data_date],
    ].filter(function (kv) { return kv[1] != null && kv[1] !== ""; });
    return '<dl class="gis-ledger">' + rows.map(function (kv) {
      return "<dt>" + esc(kv[0]) + "</dt><dd>" + esc(kv[1]) + "</dd>";
    }).join("") + "</dl>";
  }

  function cemeteryAt(r) {
    var list = (r.cemeteries && r.cemeteries.within_500m) || [];
    return list.length && list[0].distance_m <= CEMETERY_AT_M ? list[0] : null;
  }

  function cemeteries(r) {
    var cs = r.cemeteries;
    var list = (cs && cs.within_500m) || [];
    if (!list.length) return "";
    var at = cemeteryAt(r);
    var items = list.slice(0, 3).map(function (c) {
      var operator = esc(c.operator_type || "経営主体不明") + (c.operator_name ? "（" + esc(c.operator_name) + "）" : "");
      return '<li class="gis-cemetery"><strong>' + esc(c.name) + "</strong>" +
        (c.sample ? ' <span class="gis-tag">サンプル</span>' : "") + ' <span class="gis-dist">' + where(c) + "</span>" +
        '<br><span class="gis-note">経営主体: ' + operator + "</span>" +
        '<br><span class="gis-note">連絡窓口: ' + esc(c.contact || "市の担当課") + "</span></li>";
    });
    var body = "<ul class='gis-zones'>" + items.join("") + "</ul>";
    if (at) body += "<h5>墓地台帳の記載（" + esc(at.name) + "）</h5>" + cemeteryLedger(at);
    if (list.some(function (c) { return c.operator_type === "個人"; })) {
      body += note("個人が経営する墓地は、経営者・管理者の情報を公開していません。問い合わせは市の窓口へ。");
    }
    var line = at ? at.name : list[0].name + " " + m(list[0].distance_m);
    var html = section("cemetery", "墓地", line, body, [cs]);
    return at ? html.replace('<details class="gis-sec"', '<details open class="gis-sec"') : html;
  }

  var GLOSSARY = [
    ["用途地域", "建てられる建物の種類を地域ごとに決めたもの（住宅地・商業地・工業地など13種類）。"],
    ["建ぺい率", "敷地の面積に対する建物が建つ部分（建築面積）の割合の上限。"],
    ["容積率", "敷地の面積に対する延べ床面積の割合の上限。"],
    ["防火・準防火地域", "火事が広がりにくいよう、建物の構造や材料に制限がかかる地域。"],
    ["白地", "都市計画区域の中で、用途地域が決められていない場所。"],
    ["特定建設作業", "くい打ちや削岩機など、大きな音や振動が出る工事。作業の時間・日数・音量に決まりがあり、届出が必要。"],
  ];

  function glossary() {
    return (
      '<details class="gis-sec gis-gloss" data-sec="glossary"><summary><span class="gis-sec-t">用語の説明</span></summary><dl>' +
      GLOSSARY.map(function (g) { return "<dt>" + esc(g[0]) + "</dt><dd>" + esc(g[1]) + "</dd>"; }).join("") + "</dl></details>"
    );
  }

  function place(r, extra) {
    var city = r.municipality && r.municipality.municipalities && r.municipality.municipalities[0];
    var town = r.town && r.town.nearest && r.town.nearest[0];
    var html = extra ? '<p class="gis-extra">' + esc(extra) + "</p>" : "";
    html += '<p class="gis-place"><strong>' + esc(city ? city.name : "区域外") + "</strong>" +
      (town ? " " + esc(town.name) + (town.distance_m >= 1 ? " 付近" : "") : "") + "</p>";
    return html;
  }

  // Where the report is about, as a query string for the print view and the permalink.
  R.placeQuery = function (r) {
    var q = r.query || {};
    if (q.address) return "address=" + encodeURIComponent(q.address);
    if (q.lat != null) return "lat=" + q.lat + "&lon=" + q.lon + (q.uncertainty_m ? "&uncertainty_m=" + Math.round(q.uncertainty_m) : "");
    return null;
  };

  R.garbageLink = function (r) {
    // The garbage page finds the same nearest point from the same place (the click, or the address).
    return esc(root() + "/map/garbage?" + (R.placeQuery(r) || ""));
  };

  R.render = function (r, opts) {
    opts = opts || {};
    if (!r.municipality) {
      // /lookup?address= could not place the address: its message and candidates only.
      return '<div class="gis-report"><p class="gis-warn">' + esc(r.message || "判定できませんでした。") + "</p></div>";
    }
    var s = r.summary || {};
    var out = place(r, opts.extra);
    if (s.notice || r.message) out += '<p class="gis-notice">' + esc(s.notice || r.message) + "</p>";
    // At a cemetery (a search for its name), its ledger comes first; elsewhere it is one section among the others.
    var atCemetery = s.status !== "outside" && cemeteryAt(r);
    if (atCemetery) out += cemeteries(r);
    out += summary(r);
    if (s.status !== "outside") {
      out += building(r, opts.palette) + construction(r) + garbage(r) + safety(r) + transit(r) + farmland(r) + parks(r);
      if (!atCemetery) out += cemeteries(r);
      out += glossary();
    }
    var pq = R.placeQuery(r);
    if (pq && s.status !== "outside") {
      out += '<p class="gis-actions"><a class="gis-link" target="_blank" href="' + esc(root() + "/report?" + pq) + '">印刷用ページ</a>' +
        '<button type="button" class="gis-link gis-share" data-url="' + esc(root() + "/map?" + pq) + '">この場所のリンクをコピー</button></p>';
    }
    out += '<p class="gis-note gis-foot">目安の情報です。建築・工事・売買の判断は必ず市の担当課へご確認ください。</p>';
    return '<div class="gis-report">' + out + "</div>";
  };
})();
