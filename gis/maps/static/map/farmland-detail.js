/* 農地をさがす: one parcel's public items, each with its data date (GET /farmland/parcels/{id}): the polygon's MAFF
   items, every linked 農地台帳 record (農地法 §52の3 items, the link's confidence, the other parcels it covers),
   the crop history and who answers an inquiry. Never a person's name: the API has none to give. Every text from the
   server goes in with textContent. */
(function () {
  "use strict";
  var D = (window.GisFarmlandDetail = {});
  var METHODS = { position: "地番の位置", overlap: "登記筆の形状の重なり" };

  function yesNo(v) { return v == null ? "" : v ? "あり" : "なし"; }

  D.render = function (box, f, hooks) {
    var h = hooks.helpers, el = h.el, conf = hooks.conf();
    var d = f.detail || {}, p = f.properties || {};
    var want = h.intentionOf(p);
    box.hidden = false;
    box.textContent = "";
    box.dataset.id = f.id;

    var head = el("h2", null, h.title(p));
    if (p.sample) head.appendChild(h.sampleTag());
    head.appendChild(hooks.star(f.id, p));
    box.appendChild(head);
    box.appendChild(el("p", "fl-hint", [conf.cities[p.city_code] || p.city, h.landName(p), h.area(p.area_m2)]
      .filter(Boolean).join("・")));

    // The summary the search used, each line with the date of the record it comes from.
    var kv = el("table", "fl-kv");
    function line(label, value, date) {
      if (value == null || value === "") return;
      var tr = el("tr"), td = el("td", null, String(value));
      tr.appendChild(el("th", null, label));
      if (date !== undefined) td.appendChild(el("span", "fl-date", date ? h.asOf(date) : "時点不明"));
      tr.appendChild(td);
      kv.appendChild(tr);
    }
    line("貸したい・売りたい", want ? conf.labels.intention[want] : "意向の登録なし", p.intention_date || p.data_date);
    if (want) line("いつから", h.available(p.available_from, want), p.lease_date || p.data_date);
    line("作付", p.crop ? p.crop + (p.crop_year ? "（" + p.crop_year + "年）" : "") : null, p.crop_date || null);
    line("地目（筆ポリゴン）", h.landName(p), undefined);
    line("区画の面積（図形から計算）", p.polygon_area_m2 != null ? h.area(p.polygon_area_m2) : null, undefined);
    line("筆ポリゴンの公開年度・作成更新年度", [p.issue_year, p.edit_year].filter(Boolean).join("年度・") + "年度", undefined);
    box.appendChild(kv);

    var records = d.records || [];
    box.appendChild(el("h3", null, "農地台帳の公開項目（" + records.length + "件）"));
    if (!records.length) {
      box.appendChild(el("p", "fl-note", "この区画に対応する台帳の記録はありません（地番と区画の対応がとれていません）。"));
    }
    records.forEach(function (r) { box.appendChild(record(r, h, conf)); });

    var crops = d.crops || [];
    if (crops.length) {
      box.appendChild(el("h3", null, "作付の履歴"));
      var t = el("table", "fl-crops"), tr = el("tr");
      ["年", "作期", "作物", "時点"].forEach(function (x) { tr.appendChild(el("th", null, x)); });
      t.appendChild(tr);
      crops.forEach(function (c) {
        var row = el("tr");
        [c.year, c.season, c.crop, h.day(c.data_date)].forEach(function (x) { row.appendChild(el("td", null, x == null ? "" : x)); });
        t.appendChild(row);
      });
      box.appendChild(t);
      box.appendChild(el("p", "fl-hint", "作付は市・JAの水田台帳によるもので、現地確認はしていません。"));
    }

    box.appendChild(el("h3", null, "問い合わせ先"));
    box.appendChild(contact(d.contact, p, h, conf));
    var actions = el("p", "fl-actions");
    var ask = el("button", "fl-primary", "この農地について問い合わせる");
    ask.type = "button";
    ask.addEventListener("click", function () { hooks.ask(f.id); });
    actions.appendChild(ask);
    box.appendChild(actions);
    var src = [];
    (d.sources || []).forEach(function (s) {
      var text = [s.title, s.data_date ? h.asOf(s.data_date) : "", s.licence].filter(Boolean).join("・") + (s.sample ? "（サンプル）" : "");
      if (src.indexOf(text) < 0) src.push(text);
    });
    if (src.length) box.appendChild(el("p", "fl-sources", "出典: " + src.join(" ／ ")));
  };

  function record(r, h, conf) {
    var el = h.el, box = el("section", "fl-record");
    var loc = r.location || {}, kubun = r.kubun || {}, want = r.intention || {}, lease = r.lease || {}, idle = r.idle || {};
    var title = el("h4", null, [r.oaza, r.chiban].filter(Boolean).join(" ") || "地番不明");
    if (r.sample) title.appendChild(h.sampleTag());
    box.appendChild(title);
    var link = r.link || {};
    if (link.confidence != null) {
      box.appendChild(el("p", "fl-conf", "この区画との対応: " + (METHODS[link.method] || link.method || "")
        + "による（確からしさ " + Math.round(link.confidence * 100) + "%）"));
    }
    var kv = el("table", "fl-kv");
    function line(label, value, date) {
      if (value == null || value === "") return;
      var tr = el("tr"), td = el("td", null, String(value));
      tr.appendChild(el("th", null, label));
      td.appendChild(el("span", "fl-date", date ? h.asOf(date) : "時点不明"));
      tr.appendChild(td);
      kv.appendChild(tr);
    }
    line("地目（登記）", loc.chimoku, loc.data_date);
    line("面積（登記）", loc.area_m2 != null ? h.area(loc.area_m2) : null, loc.data_date);
    line("農振法の区分", kubun.noushin_kubun, kubun.data_date);
    line("都市計画法の区分", kubun.toshi_kubun, kubun.data_date);
    line("貸付・売渡の意向", want.intention ? want.label || conf.labels.intention[want.intention]
      : "登録なし（または公表の同意なし）", want.data_date);
    line("耕作者整理番号", lease.cultivator_no, lease.data_date);
    line("権利の種類", lease.lease_type || (lease.data_date ? "設定なし" : null), lease.data_date);
    line("存続期間の満了日", lease.lease_end ? h.day(lease.lease_end) : null, lease.data_date);
    line("中間管理権", yesNo(lease.chukan_kanri), lease.data_date);
    line("遊休農地の措置", idle.idle_measure || (idle.data_date ? "なし" : null), idle.data_date);
    box.appendChild(kv);
    var others = r.other_polygons || [];
    if (others.length) {
      var p = el("p", "fl-hint", "この地番はほかの区画にもまたがっています: ");
      others.forEach(function (o, i) {
        var b = el("button", "fl-link fl-other", "区画 " + o.id);
        b.type = "button";
        b.dataset.id = o.id;
        b.addEventListener("click", function () { window.GisFarmland.select(o.id, { fly: true }); });
        if (i) p.appendChild(document.createTextNode(" "));
        p.appendChild(b);
      });
      box.appendChild(p);
    }
    return box;
  }

  function contact(c, p, h, conf) {
    var el = h.el, box = el("div", "fl-contact");
    var fallback = (conf.committees || {})[p.city_code] || {};
    c = c || {};
    box.appendChild(el("strong", null, c.name || fallback.name || "農業委員会"));
    var where = c.counter || fallback.office;
    if (where) box.appendChild(el("p", null, "窓口: " + where + (c.address || fallback.address ? "（" + (c.address || fallback.address) + "）" : "")));
    var phone = c.phone || fallback.phone;
    if (phone) box.appendChild(el("p", null, "電話: " + phone + (c.phone_note ? "　" + c.phone_note : "（代表）")));
    box.appendChild(el("p", "fl-hint", c.how || "所有者・耕作者の氏名や連絡先は公開していません。農業委員会にお問い合わせください。"));
    return box;
  }
})();
