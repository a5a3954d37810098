/* 履歴 (a layer's revisions, each with ロールバック after a confirmation) and 監査ログ (the audit with filters). */
(function () {
  'use strict';
  var A = window.GisAdmin;
  var el = A.el;
  var KINDS = { import: '取込', edit: '編集', rollback: 'ロールバック', load: '読込', derive: '派生' };
  var OPS = { insert: '追加', update: '変更', delete: '削除' };
  var PAGE = 50;
  var auditOffset = 0;
  var historyTag = {};     // layer id → the ETag of its history as this page last showed it (rollback's If-Match)
  var historySelect = document.getElementById('ad-history-layer');
  var auditForm = document.getElementById('ad-audit-form');

  function list(data, names) {
    if (Array.isArray(data)) return data;
    for (var i = 0; i < names.length; i += 1) if (Array.isArray(data && data[names[i]])) return data[names[i]];
    return [];
  }

  function head(table, labels) {
    table.textContent = '';
    table.appendChild(el('thead', {}, [el('tr', {}, labels.map(function (h) { return el('th', { scope: 'col', text: h }); }))]));
  }

  /* 履歴 */
  function loadHistory() {
    var layerId = historySelect.value;
    var table = document.getElementById('ad-history');
    if (!layerId) return Promise.resolve();
    return A.api('/admin/layers/' + layerId + '/history').then(function (r) {
      var revisions = list(r.data, ['revisions', 'items', 'history']);
      historyTag[layerId] = r.headers.get('ETag') || '"' + r.data.version + '"';
      head(table, ['版', '日時', '種別', '実行者', '追加', '変更', '削除', '備考', '']);
      var body = el('tbody');
      revisions.forEach(function (v, i) {
        var back = v.rolled_back_to !== null && v.rolled_back_to !== undefined;
        var note = back ? '版 ' + v.rolled_back_to + ' の状態に戻した' : (v.note || '');
        var action = i === 0 ? el('span', { className: 'ad-hint', text: '現在' })
          : el('button', { type: 'button', className: 'ad-danger', 'data-revision': v.revision,
            text: 'この版に戻す', onclick: function () { rollback(layerId, v.revision); } });
        body.appendChild(el('tr', { 'data-revision': v.revision, 'data-kind': v.kind }, [
          el('td', { className: 'ad-num', text: String(v.revision) }),
          el('td', { text: A.formatTime(v.time || v.created_at) }),
          el('td', { text: KINDS[v.kind] || v.kind }),
          el('td', { text: (v.actor || '') + (v.role ? '（' + (ROLES[v.role] || v.role) + '）' : '') }),
          el('td', { className: 'ad-num', text: String(v.rows_added || 0) }),
          el('td', { className: 'ad-num', text: String(v.rows_changed || 0) }),
          el('td', { className: 'ad-num', text: String(v.rows_removed || 0) }),
          el('td', { text: note.trim() }),
          el('td', {}, [action])
        ]));
      });
      table.appendChild(body);
      if (!revisions.length) A.say('このレイヤーの履歴はまだありません。');
    }, function (e) { A.say(A.errorText(e), 'error'); });
  }

  /* Roll back with If-Match: the history as this page showed it, so a change made since then is a 412. */
  function rollback(layerId, revision) {
    var layer = A.layer(layerId);
    var tag = historyTag[layerId];
    return A.confirm(layer.title + ' を版 ' + revision + ' の状態に戻します。それ以降の変更は取り消されます（この操作も履歴に残ります）。')
    .then(function (ok) {
      if (!ok) return null;
      A.say('ロールバックしています…');
      return A.api('/admin/layers/' + layerId + '/rollback', {
        method: 'POST', json: { revision: revision }, headers: { 'If-Match': tag }
      }).then(function (r) {
        A.say('版 ' + revision + ' の状態に戻しました（新しい版 ' + (r.data && r.data.revision !== undefined ? r.data.revision : '') + '）。', 'ok');
        return loadHistory();
      });
    }).catch(function (e) { A.say(A.errorText(e), 'error'); });
  }

  /* 監査ログ: what a change did, in a line (an insert or delete: its label and how many more values). */
  var ROLES = { admin: '管理者', editor: '編集者', device: '機器' };
  function value(v) {
    return v === undefined || v === null ? '（空）' : String(typeof v === 'object' ? JSON.stringify(v) : v).slice(0, 40);
  }
  function changed(row) {
    var before = row.before || {};
    var after = row.after || {};
    var keys = Object.keys(Object.assign({}, before, after)).filter(function (k) {
      return ['id', 'source_id'].indexOf(k) < 0 && JSON.stringify(before[k]) !== JSON.stringify(after[k]);
    });
    if (!keys.length) return (before.source_id !== after.source_id) ? '出典の記録のみ更新' : '';
    var label = (A.layer(row.layer) || {}).label;
    var named = function (k) { return k === 'geom' ? '位置' : k; };
    if (!row.before || !row.after) {
      var image = row.after || row.before;
      var head = label && image[label] ? image[label] : '';
      return (head ? head + ' ' : '') + '（' + keys.length + ' 項目）';
    }
    return keys.map(function (k) {
      return k === 'geom' ? '位置を変更' : named(k) + ': ' + value(before[k]) + ' → ' + value(after[k]);
    }).join('、');
  }

  function loadAudit() {
    var params = new URLSearchParams();
    ['layer', 'actor', 'op', 'feature', 'since', 'until'].forEach(function (name) {
      var value = auditForm.elements[name].value.trim();
      if (value) params.set(name, value);
    });
    params.set('limit', String(PAGE));
    params.set('offset', String(auditOffset));
    var table = document.getElementById('ad-audit');
    return A.api('/admin/audit?' + params.toString()).then(function (r) {
      var rows = list(r.data, ['changes', 'rows', 'items']);
      head(table, ['日時', '実行者', 'レイヤー', '版', '種別', '地物', '操作', '内容']);
      var body = el('tbody');
      rows.forEach(function (row) {
        var layer = A.layer(row.layer) || { title: row.layer };
        var op = String(row.op || '').toLowerCase();
        body.appendChild(el('tr', { 'data-layer': row.layer, 'data-op': op, 'data-kind': row.kind }, [
          el('td', { text: A.formatTime(row.time) }),
          el('td', { text: (row.actor || '') + (row.role ? '（' + (ROLES[row.role] || row.role) + '）' : '') }),
          el('td', { text: layer.title }),
          el('td', { className: 'ad-num', text: row.revision === undefined ? '' : String(row.revision) }),
          el('td', { text: KINDS[row.kind] || row.kind || '' }),
          el('td', { className: 'ad-num', text: row.feature_id === null || row.feature_id === undefined ? '' : String(row.feature_id) }),
          el('td', { text: (OPS[op] || op) + (row.private ? '（非公開の項目）' : '') }),
          el('td', { className: 'ad-change', text: changed(row) })
        ]));
      });
      table.appendChild(body);
      document.getElementById('ad-audit-prev').disabled = auditOffset === 0;
      document.getElementById('ad-audit-next').disabled = rows.length < PAGE;
      if (!rows.length) A.say('該当する記録はありません。');
    }, function (e) { A.say(A.errorText(e), 'error'); });
  }

  historySelect.addEventListener('change', loadHistory);
  auditForm.addEventListener('submit', function (e) { e.preventDefault(); auditOffset = 0; loadAudit(); });
  document.getElementById('ad-audit-prev').addEventListener('click', function () {
    auditOffset = Math.max(0, auditOffset - PAGE); loadAudit();
  });
  document.getElementById('ad-audit-next').addEventListener('click', function () { auditOffset += PAGE; loadAudit(); });
  A.onTab('history', function () {
    A.layerOptions(historySelect, function (l) { return !l.derived_from; });
    return loadHistory();
  });
  A.onTab('audit', function () {
    A.layerOptions(auditForm.elements.layer, function (l) { return !l.derived_from; }, 'すべて');
    return loadAudit();
  });
  A.history = { load: loadHistory, rollback: rollback, audit: loadAudit };
})();
