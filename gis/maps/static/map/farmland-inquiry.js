/* 農地をさがす: the inquiry form to the city's 農業委員会 (POST /farmland/inquiries). The parcels offered are the one
   shown and the favourites; a form token from GET /farmland/inquiries/form (refused in its first 3 s and after 2 h)
   and an empty honeypot go with it. A refusal (400, 413, 429) is shown as a Japanese hint plus the service's own
   description, which names the problem. What was typed is never put anywhere but the request. */
(function () {
  "use strict";
  var Q = (window.GisFarmlandInquiry = {});
  var MAX_PARCELS = 20;
  var TOKEN_REUSE_MS = 3600 * 1000;  // well inside the token's 2 hours
  var HINTS = {
    name: "お名前を確かめてください（100文字まで）。",
    contact: "連絡先には、メールアドレスか市外局番からの電話番号を入れてください。",
    message: "お問い合わせ内容を確かめてください（2,000文字まで）。",
    parcel_ids: "問い合わせる農地を確かめてください。",
    form_token: "フォームを開いてから送るまでの時間が短すぎるか、長すぎました。少し待ってもう一度送信してください。",
  };
  var hooks, token = null, tokenAt = 0;

  function $(id) { return document.getElementById(id); }

  function refreshToken() {
    if (token && Date.now() - tokenAt < TOKEN_REUSE_MS) return Promise.resolve(token);
    return hooks.fetchJSON(hooks.conf.urls.inquiryForm).then(function (body) {
      token = body.form_token;
      tokenAt = Date.now();
      return token;
    }).catch(function () { token = null; });
  }

  Q.parcels = function () {
    var el = hooks.el, box = $("fl-inq-parcels"), checked = {};
    box.querySelectorAll("input[type=checkbox]").forEach(function (c) { checked[c.value] = c.checked; });
    box.querySelectorAll(".fl-inq-parcel").forEach(function (n) { n.remove(); });
    var items = hooks.items();
    $("fl-inq-none").hidden = items.length > 0;
    items.slice(0, 50).forEach(function (x, i) {
      var label = el("label", "fl-inq-parcel"), c = el("input");
      c.type = "checkbox";
      c.value = x.id;
      c.checked = checked[x.id] != null ? checked[x.id] : i === 0;
      if (x.city_code) c.dataset.city = x.city_code;
      label.appendChild(c);
      var what = [hooks.conf.cities[x.city_code], x.land, x.area_m2 != null ? hooks.num(Math.round(x.area_m2)) + " m²" : ""];
      label.appendChild(document.createTextNode(x.title + "（" + what.filter(Boolean).join("・") + "）"));
      if (x.sample) label.appendChild(hooks.sampleTag());
      box.appendChild(label);
    });
  };

  Q.ask = function (id) {
    var box = $("fl-inquiry-box");
    box.open = true;
    Q.parcels();
    $("fl-inq-parcels").querySelectorAll("input[type=checkbox]").forEach(function (c) {
      if (+c.value === +id) c.checked = true;
    });
    box.scrollIntoView({ behavior: "smooth", block: "start" });
    refreshToken();
  };

  function problem(form, ids, cities) {
    if (!ids.length) return "問い合わせる農地を選んでください。";
    if (ids.length > MAX_PARCELS) return "一度に問い合わせできるのは" + MAX_PARCELS + "筆までです。";
    if (cities > 1) return "伊万里市と武雄市の農地は、それぞれの市の農業委員会が答えます。市ごとに分けて送ってください。";
    if (!form.elements.name.value.trim()) return "お名前を入れてください。";
    if (!form.elements.contact.value.trim()) return "連絡先（電話番号またはメール）を入れてください。";
    if (!form.elements.message.value.trim()) return "お問い合わせ内容を入れてください。";
    return "";
  }

  function jst(s) {
    if (!s) return "";
    var d = new Date(new Date(s).getTime() + 9 * 3600 * 1000);
    return d.getUTCFullYear() + "年" + (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日 "
      + String(d.getUTCHours()).padStart(2, "0") + ":" + String(d.getUTCMinutes()).padStart(2, "0") + "（日本時間）";
  }

  function receipt(out, body) {
    var el = hooks.el, by = body.answered_by || {};
    out.className = "fl-ok";
    out.appendChild(el("strong", null, "問い合わせを受け付けました。"));
    out.appendChild(el("p", null, "受付番号 " + body.id + "・" + jst(body.received_at) + "受付"));
    out.appendChild(el("p", null, (by.name || "農業委員会") + "が受け付けました。担当者から、入力された連絡先にお返事します。"));
    if (by.counter || by.phone) {
      out.appendChild(el("p", "fl-hint", "お急ぎの場合: " + [by.counter, by.phone ? "電話 " + by.phone : ""]
        .filter(Boolean).join("・") + (by.phone_note ? "（" + by.phone_note + "）" : "")));
    }
  }

  function refusal(out, e) {
    var el = hooks.el, field = (e.message.match(/^([a-z_]+):/) || [])[1];
    out.className = "fl-error";
    var hint = e.status === 429 ? "短い時間に送れる問い合わせの数を超えました。"
      + (e.retryAfter ? "約" + Math.max(1, Math.ceil(+e.retryAfter / 60)) + "分後にもう一度お試しください。" : "")
      : e.status === 413 ? "内容が長すぎます。短くしてください。"
      : HINTS[field] || "送信できませんでした。";
    out.appendChild(el("p", null, hint));
    out.appendChild(el("p", "fl-error-detail", e.message));  // the service's words name the problem exactly
    // A token that is not ours or too old is replaced; one sent too quickly only needs a moment more.
    if (field === "form_token" && !/after the form was opened/.test(e.message)) { token = null; refreshToken(); }
  }

  function send(ev) {
    ev.preventDefault();
    var out = $("fl-inq-result"), form = $("fl-inquiry"), ids = [], cities = {};
    out.textContent = "";
    out.className = "";
    $("fl-inq-parcels").querySelectorAll("input[type=checkbox]:checked").forEach(function (c) {
      ids.push(+c.value);
      if (c.dataset.city) cities[c.dataset.city] = true;
    });
    var wrong = problem(form, ids, Object.keys(cities).length);
    if (wrong) { out.className = "fl-error"; out.textContent = wrong; return; }
    $("fl-inq-send").disabled = true;
    refreshToken().then(function (t) {
      return hooks.fetchJSON(hooks.conf.urls.inquiries, {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify({ parcel_ids: ids, name: form.elements.name.value.trim(),
          contact: form.elements.contact.value.trim(), message: form.elements.message.value.trim(),
          form_token: t || "", website: form.elements.website.value }),
      });
    }).then(function (body) {
      receipt(out, body);
      form.elements.message.value = "";
      token = null;
      refreshToken();
    }).catch(function (e) { refusal(out, e); }).finally(function () {
      $("fl-inq-send").disabled = false;
      out.scrollIntoView({ block: "nearest" });
    });
  }

  Q.init = function (h) {
    hooks = h;
    $("fl-inquiry").addEventListener("submit", send);
    $("fl-inquiry-box").addEventListener("toggle", function () { if ($("fl-inquiry-box").open) refreshToken(); });
    refreshToken();  // at load: by the time a person has written, the token is old enough
  };
})();
