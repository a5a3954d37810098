/* 職員ページ: sign-in (a pasted token kept in sessionStorage only), tabs, the one fetch helper, the レイヤー tab.
   The other tabs (admin-import.js, admin-history.js, admin-edit.js) register themselves on window.GisAdmin.
   Every value from the server goes into the page as text (textContent), never as markup. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('ad-config').textContent);
  var KEY = 'gis-admin-token';
  var layers = {};
  cfg.layers.forEach(function (l) { layers[l.id] = l; });
  var tabHooks = {};
  var pending = 0;
  var staff = null;
  var STATUS_TEXT = {
    400: '入力内容に誤りがあります',
    401: 'サインインが必要です',
    403: 'この操作の権限がありません',
    404: '見つかりません',
    409: '競合しています',
    412: '他の職員が先に更新しました。再読込してください',
    413: 'ファイルが大きすぎます',
    428: '更新の前提（If-Match）がありません。再読込してください',
    503: 'データベースに接続できません。しばらくしてからお試しください'
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') node.textContent = v;
      else if (k === 'className') node.className = v;
      else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  function token() { return sessionStorage.getItem(KEY); }

  function ApiError(status, code, description) {
    this.status = status; this.code = code; this.description = description;
  }

  /* fetch with the token (unless auth: false), JSON in and out; rejects with ApiError naming the problem. */
  function api(path, opts) {
    opts = opts || {};
    var headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    if (opts.auth !== false && token()) headers.Authorization = 'Bearer ' + token();
    var body = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['Content-Type'] = opts.contentType || 'application/json';
    }
    pending += 1;
    return fetch(cfg.root + path, {
      method: opts.method || 'GET', headers: headers, body: body, cache: 'no-cache', credentials: 'omit'
    }).then(function (r) {
      var type = r.headers.get('content-type') || '';
      var read = r.status === 204 ? Promise.resolve(null)
        : (type.indexOf('json') >= 0 ? r.json() : r.text());
      return read.then(function (data) {
        if (!r.ok) {
          var d = data && typeof data === 'object' ? data : {};
          if (r.status === 401 && opts.auth !== false) signOut('トークンが無効です。もう一度サインインしてください。');
          throw new ApiError(r.status, d.code || String(r.status), d.description || String(data || r.statusText));
        }
        return { status: r.status, data: data, headers: r.headers };
      });
    }, function () {
      throw new ApiError(0, 'NetworkError', 'サーバーに接続できません');
    }).finally(function () { pending -= 1; });
  }

  function errorText(e) {
    if (!(e instanceof ApiError)) return String(e && e.message || e);
    if (e.status === 412) return STATUS_TEXT[412];
    var head = STATUS_TEXT[e.status] || 'エラーが発生しました';
    return head + '（' + e.description + '）';
  }

  var jst = new Intl.DateTimeFormat('ja-JP', {
    timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit'
  });
  function formatTime(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    return isNaN(d) ? String(iso) : jst.format(d) + ' JST';
  }

  function say(text, kind) {
    var box = document.getElementById('ad-msg');
    box.textContent = text || '';
    box.className = 'ad-msg' + (kind ? ' ad-' + kind : '');
  }

  function confirmDialog(text) {
    var dialog = document.getElementById('ad-confirm');
    document.getElementById('ad-confirm-text').textContent = text;
    return new Promise(function (resolve) {
      dialog.addEventListener('close', function done() {
        dialog.removeEventListener('close', done);
        resolve(dialog.returnValue === 'ok');
      });
      dialog.returnValue = '';
      dialog.showModal();
    });
  }

  /* Fill a <select> with layers passing `keep`, keeping the current choice when it is still there. */
  function layerOptions(select, keep, first) {
    var current = select.value;
    select.textContent = '';
    if (first) select.appendChild(el('option', { value: '', text: first }));
    cfg.layers.filter(keep).forEach(function (l) {
      select.appendChild(el('option', { value: l.id, text: l.title + '（' + l.id + '）' }));
    });
    if (current && select.querySelector('option[value="' + current + '"]')) select.value = current;
  }

  function show(tab) {
    document.querySelectorAll('.ad-tabs [role=tab]').forEach(function (b) {
      var on = b.dataset.tab === tab;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      document.getElementById('ad-panel-' + b.dataset.tab).hidden = !on;
    });
    say('');
    if (tabHooks[tab]) tabHooks[tab]();
  }

  function signedIn(who) {
    staff = who;
    document.getElementById('ad-signin').hidden = true;
    document.getElementById('ad-app').hidden = false;
    document.getElementById('ad-who').hidden = false;
    var roles = { admin: '管理者', editor: '編集者', device: '機器' };
    document.getElementById('ad-who-name').textContent = who.name + '（' + (roles[who.role] || who.role) + '）';
    show('layers');
  }

  function signOut(message, ok) {
    sessionStorage.removeItem(KEY);
    staff = null;
    document.getElementById('ad-app').hidden = true;
    document.getElementById('ad-who').hidden = true;
    document.getElementById('ad-signin').hidden = false;
    var box = document.getElementById('ad-signin-msg');
    box.textContent = message || '';
    box.className = 'ad-msg' + (ok ? '' : ' ad-error');
  }

  function signIn(event) {
    event.preventDefault();
    var input = document.getElementById('ad-token');
    var value = input.value.trim();
    input.value = '';
    if (!value) return;
    sessionStorage.setItem(KEY, value);
    whoami();
  }

  function whoami() {
    return api('/admin/whoami').then(function (r) {
      if (r.data.role === 'device') { signOut('このトークン（機器用）では職員ページを使えません。'); return; }
      signedIn(r.data);
    }, function (e) {
      signOut(e.status === 401 ? 'トークンが違うか、無効になっています。' : errorText(e));
    });
  }

  /* The レイヤー tab: versions, row counts, data dates and sample flags, with each layer's last load. */
  function loadLayers() {
    var table = document.getElementById('ad-layers');
    return Promise.all([api('/collections', { auth: false }), api('/admin/sources')]).then(function (rs) {
      var last = {};
      rs[1].data.forEach(function (s) { if (!last[s.layer_id]) last[s.layer_id] = s; });
      table.textContent = '';
      table.appendChild(el('thead', {}, [el('tr', {}, ['レイヤー', '版', '件数', 'データ時点', 'サンプル', '最後の取込', '取込']
        .map(function (h) { return el('th', { scope: 'col', text: h }); }))]));
      var body = el('tbody');
      rs[0].data.collections.forEach(function (c) {
        var l = layers[c.id] || {};
        var s = last[c.id];
        var sample = c.sample ? (c.sampleItems === c.itemCount ? 'すべてサンプル' : c.sampleItems + ' 件') : 'なし';
        body.appendChild(el('tr', { 'data-layer': c.id }, [
          el('th', { scope: 'row' }, [el('span', { text: c.title }), el('br'), el('code', { text: c.id })]),
          el('td', { className: 'ad-num', text: String(c.version) }),
          el('td', { className: 'ad-num', text: (c.itemCount || 0).toLocaleString('ja-JP') }),
          el('td', { text: c.dataDate || '不明' }),
          el('td', { className: c.sample ? 'ad-sample' : '', text: sample }),
          el('td', { className: 'ad-when' }, s ? [formatTime(s.loaded_at), el('br'), el('small', { text: s.title })] : []),
          el('td', { text: l.derived_from ? '派生（' + l.derived_from + 'から）' : '可' })
        ]));
      });
      table.appendChild(body);
    }, function (e) { say(errorText(e), 'error'); });
  }

  function init() {
    document.getElementById('ad-signin-form').addEventListener('submit', signIn);
    document.getElementById('ad-signout').addEventListener('click', function () { signOut('サインアウトしました。', true); });
    document.querySelectorAll('.ad-tabs [role=tab]').forEach(function (b) {
      b.addEventListener('click', function () { show(b.dataset.tab); });
    });
    if (token()) whoami();
  }

  window.GisAdmin = {
    cfg: cfg,
    layer: function (id) { return layers[id]; },
    api: api,
    ApiError: ApiError,
    el: el,
    say: say,
    errorText: errorText,
    formatTime: formatTime,
    confirm: confirmDialog,
    layerOptions: layerOptions,
    onTab: function (tab, fn) { tabHooks[tab] = fn; },
    show: show,
    staff: function () { return staff; },
    idle: function () { return pending === 0; }
  };
  tabHooks.layers = loadLayers;
  document.addEventListener('DOMContentLoaded', init);
})();
