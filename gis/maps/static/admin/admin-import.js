/* 取込: choose a layer and a file → プレビュー (a dry run: the import report and the diff) → 適用 (one transaction). */
(function () {
  'use strict';
  var A = window.GisAdmin;
  var el = A.el;
  var form = document.getElementById('ad-import-form');
  var select = document.getElementById('ad-import-layer');
  var applyButton = document.getElementById('ad-apply');
  var result = document.getElementById('ad-import-result');
  var previewed = null;   // the preview the 適用 button would apply (cleared whenever the form changes)
  var FLAGS = ['replace', 'force', 'allow_outside', 'sample'];
  var TEXTS = ['crs', 'city', 'layer_name', 'title', 'publisher', 'licence', 'attribution', 'data_date'];
  var titles = {};        // layer id → {column: title} from the queryables

  function columnTitles(layerId) {
    if (titles[layerId]) return Promise.resolve(titles[layerId]);
    return A.api('/collections/' + layerId + '/queryables', { auth: false }).then(function (r) {
      var out = { geom: '位置', city_code: '市', feature_key: '地物キー', sample: 'サンプル' };
      Object.keys(r.data.properties || {}).forEach(function (k) { out[k] = r.data.properties[k].title || k; });
      titles[layerId] = out;
      return out;
    }, function () { return {}; });
  }

  function formData(dryRun) {
    var data = new FormData();
    var file = document.getElementById('ad-import-file').files[0];
    data.append('file', file, file.name);
    data.append('dry_run', dryRun ? 'true' : 'false');
    FLAGS.forEach(function (name) { data.append(name, form.elements[name].checked ? 'true' : 'false'); });
    TEXTS.forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) data.append(name, value);
    });
    return data;
  }

  function shown(value) {
    if (value === null || value === undefined || value === '') return '（空）';
    if (Array.isArray(value)) return value.map(function (n) { return Number(n).toFixed(6); }).join(', ');
    if (value === true) return 'はい';
    if (value === false) return 'いいえ';
    return String(value);
  }

  function rowLabel(layer, row, values) {
    var label = layer.label && values ? values[layer.label] : null;
    return (label ? label + ' ' : '') + '（' + (row.key || 'ID ' + row.id) + '）';
  }

  function section(kind, heading, rows, count, render) {
    var box = el('details', { className: 'ad-diff-' + kind, open: rows.length > 0 && rows.length <= 10 });
    box.appendChild(el('summary', { text: heading + ' ' + count.toLocaleString('ja-JP') + ' 件' +
      (count > rows.length ? '（先頭 ' + rows.length + ' 件を表示）' : '') }));
    var list = el('ul', { className: 'ad-diff-list' });
    rows.forEach(function (row) { list.appendChild(render(row)); });
    box.appendChild(list);
    return box;
  }

  function render(answer, names) {
    var layer = A.layer(answer.layer);
    var diff = answer.diff;
    var c = diff.counts;
    result.textContent = '';
    var head = answer.applied
      ? '適用しました: ' + layer.title + ' の版 ' + (answer.revision === null || answer.revision === undefined ? '?' : answer.revision) +
        '（レイヤーのバージョン ' + answer.version_before + ' → ' + answer.version + '）'
      : 'プレビュー（まだ反映していません）: ' + answer.file + ' → ' + layer.title;
    result.appendChild(el('h2', { text: head }));
    result.appendChild(el('p', { className: 'ad-counts' }, [
      el('span', { className: 'ad-added', text: '追加 ' + c.added }),
      el('span', { className: 'ad-changed', text: '変更 ' + c.changed }),
      el('span', { className: 'ad-removed', text: '削除 ' + c.removed }),
      el('span', { text: '読込 ' + answer.rows + ' 件（' + answer.cities.map(function (x) {
        return A.cfg.cities[x] || x; }).join('・') + '）' })
    ]));
    if (answer.sample) result.appendChild(el('p', { className: 'ad-sample', text: 'サンプルデータとして取り込みます。' }));
    if (diff.duplicate_keys) {
      result.appendChild(el('p', { className: 'ad-warn', text: '既にある地物キーと同じ行が ' + diff.duplicate_keys +
        ' 件あります。置換しない取込では重複します。' }));
    }
    var fields = Object.keys(diff.changed_fields || {});
    if (fields.length) {
      result.appendChild(el('p', { text: '変わる項目: ' + fields.map(function (f) {
        return (names[f] || f) + ' ' + diff.changed_fields[f] + ' 件'; }).join('、') }));
    }
    if (answer.report.length) {
      result.appendChild(el('details', {}, [el('summary', { text: '取込の報告 ' + answer.report.length + ' 件' }),
        el('ul', {}, answer.report.map(function (line) { return el('li', { text: line }); }))]));
    }
    result.appendChild(section('added', '追加', diff.added, c.added, function (row) {
      return el('li', { text: rowLabel(layer, row, row.after) });
    }));
    result.appendChild(section('changed', '変更', diff.changed, c.changed, function (row) {
      return el('li', {}, [el('strong', { text: rowLabel(layer, row, row.after[layer.label] ? row.after : null) }),
        el('ul', {}, row.fields.map(function (f) {
          return el('li', { 'data-field': f, text: (names[f] || f) + ': ' + shown(row.before[f]) + ' → ' + shown(row.after[f]) });
        }))]);
    }));
    result.appendChild(section('removed', '削除', diff.removed, c.removed, function (row) {
      return el('li', { text: rowLabel(layer, row, row.before) });
    }));
  }

  function send(dryRun) {
    var file = document.getElementById('ad-import-file').files[0];
    if (!select.value || !file) { A.say('レイヤーとファイルを選んでください。', 'error'); return Promise.resolve(); }
    var layerId = select.value;
    A.say(dryRun ? 'プレビューを作成しています…' : '適用しています…');
    return A.api('/admin/layers/' + layerId + '/import', { method: 'POST', body: formData(dryRun) })
      .then(function (r) {
        return columnTitles(layerId).then(function (names) {
          render(r.data, names);
          previewed = dryRun ? r.data : null;
          applyButton.disabled = !dryRun;
          A.say(dryRun ? '差分を確かめてから「適用」を押してください。' : '適用しました。', 'ok');
        });
      }, function (e) {
        previewed = null;
        applyButton.disabled = true;
        A.say(A.errorText(e), 'error');
      });
  }

  function apply() {
    if (!previewed) return;
    var c = previewed.diff.counts;
    var layer = A.layer(previewed.layer);
    A.confirm(layer.title + ' に取り込みます（追加 ' + c.added + '・変更 ' + c.changed + '・削除 ' + c.removed + '）。よろしいですか。')
      .then(function (ok) { if (ok) send(false); });
  }

  form.addEventListener('input', function () { previewed = null; applyButton.disabled = true; });
  form.addEventListener('change', function () { previewed = null; applyButton.disabled = true; });
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  document.getElementById('ad-preview').addEventListener('click', function () { send(true); });
  applyButton.addEventListener('click', apply);
  A.onTab('import', function () {
    A.layerOptions(select, function (l) { return !l.derived_from; });
  });
})();
