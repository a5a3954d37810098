/* 地図編集: the point layers on a Leaflet map with Leaflet-Geoman (vendored): add a point, drag one to move it,
   edit its attributes in a form built from the layer's queryables, delete it. Every change is an OGC API Features
   Part 4 request with If-Match: the item's ETag as read when the staff member took it up; a stale one (someone
   else saved first) answers 412 and the page says so. */
(function () {
  'use strict';
  var A = window.GisAdmin;
  var el = A.el;
  var cfg = A.cfg;
  var PATCH_TYPE = 'application/merge-patch+json';
  var STALE = '他の職員が先に更新しました。再読込してください';
  var map = null;
  var features = null;       // the L.geoJSON layer of the current collection
  var schema = {};           // layer id → queryables properties
  var layerSelect = document.getElementById('ad-edit-layer');
  var form = document.getElementById('ad-edit-form');
  var moveButton = document.getElementById('ad-edit-move');
  var current = null;        // {fid, etag, feature, marker} being edited; fid null for a new point

  function layerId() { return layerSelect.value; }

  function initMap() {
    if (map) return;
    var b = cfg.bounds;
    map = L.map('ad-map', { maxZoom: cfg.maxZoom, zoomControl: true });
    if (cfg.tiles) {
      L.tileLayer(cfg.tiles.url, { attribution: cfg.tiles.attribution, maxZoom: cfg.tiles.maxZoom, maxNativeZoom: 18 }).addTo(map);
    }
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    map.pm.setLang('ja');
    map.pm.setGlobalOptions({ snappable: false });
    map.on('pm:create', function (e) { newPoint(e.layer); });
  }

  /* The item as the server has it now, with its ETag (the If-Match of the next change). */
  function readItem(fid) {
    return A.api('/collections/' + layerId() + '/items/' + fid, { auth: false, headers: { Accept: 'application/geo+json' } })
      .then(function (r) { return { feature: r.data, etag: r.headers.get('ETag') }; });
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  /* Take up a feature: its current ETag, and a check that what the map shows is still what the server has. */
  function takeUp(marker) {
    var shown = marker.feature;
    return readItem(shown.id).then(function (item) {
      if (!same(item.feature.geometry, shown.geometry) || !same(item.feature.properties, shown.properties)) {
        throw new A.ApiError(412, 'PreconditionFailed', STALE);
      }
      return item;
    });
  }

  /* (Re)load the layer's points; `quiet` keeps the message of the save that asked for it. */
  function loadFeatures(quiet) {
    var id = layerId();
    closeForm();
    return Promise.all([
      A.api('/collections/' + id + '/items?limit=10000', { auth: false, headers: { Accept: 'application/geo+json' } }),
      schema[id] ? Promise.resolve(null) : A.api('/collections/' + id + '/queryables', { auth: false })
    ]).then(function (rs) {
      if (rs[1]) schema[id] = rs[1].data.properties || {};
      if (features) features.remove();
      var label = (A.layer(id) || {}).label;
      features = L.geoJSON(rs[0].data, {
        pointToLayer: function (f, latlng) {
          return L.marker(latlng, { title: label && f.properties[label] ? String(f.properties[label]) : String(f.id) });
        },
        onEachFeature: function (f, marker) {
          marker.on('click', function () { if (!map.pm.globalDragModeEnabled()) select(marker); });
          marker.on('pm:dragstart', function () { marker._gisTakeUp = takeUp(marker); });
          marker.on('pm:dragend', function () { moved(marker); });
        }
      }).addTo(map);
      if (quiet !== true) A.say(layerTitle() + ': ' + rs[0].data.features.length + ' 件');
    }, function (e) { A.say(A.errorText(e), 'error'); });
  }

  function layerTitle() { return (A.layer(layerId()) || { title: layerId() }).title; }

  /* An error in the page's message line, and beside the form's buttons when the form is open (on a phone the
     message line may be scrolled away); a stale copy gets a 再読込 button. */
  function fail(e) {
    var text = A.errorText(e);
    A.say(text, 'error');
    var reload = function () {
      return el('button', { type: 'button', className: 'ad-reload', text: '再読込', onclick: function () { loadFeatures(); } });
    };
    if (e && e.status === 412) document.getElementById('ad-msg').appendChild(reload());
    var box = document.getElementById('ad-form-msg');
    if (box && !form.hidden) {
      box.textContent = text;
      if (e && e.status === 412) box.appendChild(reload());
      box.scrollIntoView({ block: 'nearest' });
    }
  }

  function moved(marker) {
    var pending = marker._gisTakeUp || takeUp(marker);
    marker._gisTakeUp = null;
    var ll = marker.getLatLng();
    var geometry = { type: 'Point', coordinates: [Number(ll.lng.toFixed(7)), Number(ll.lat.toFixed(7))] };
    return pending.then(function (item) {
      return A.api('/collections/' + layerId() + '/items/' + marker.feature.id, {
        method: 'PATCH', json: { geometry: geometry }, contentType: PATCH_TYPE, headers: { 'If-Match': item.etag }
      });
    }).then(function () {
      A.say('位置を保存しました（' + layerTitle() + ' ID ' + marker.feature.id + '）。', 'ok');
      return loadFeatures(true);
    }, function (e) { fail(e); marker.setLatLng(L.GeoJSON.coordsToLatLng(marker.feature.geometry.coordinates)); });
  }

  /* The attribute form, built from the queryables (types, titles) and the layer's required columns. */
  function buildForm(properties, isNew) {
    var id = layerId();
    var required = (A.layer(id) || {}).required || [];
    form.textContent = '';
    form.appendChild(el('h2', { text: isNew ? '新しい点（' + layerTitle() + '）' : layerTitle() + ' ID ' + current.fid }));
    Object.keys(schema[id] || {}).forEach(function (name) {
      var spec = schema[id][name];
      if (name === 'geometry' || name === 'geom' || name === 'id' || spec.readOnly) return;
      var value = properties[name];
      var input;
      if (spec.type === 'boolean') {
        input = el('select', { name: name }, [el('option', { value: '', text: '（未設定）' }),
          el('option', { value: 'true', text: 'はい' }), el('option', { value: 'false', text: 'いいえ' })]);
        input.value = value === true ? 'true' : value === false ? 'false' : '';
      } else {
        var type = spec.type === 'integer' || spec.type === 'number' ? 'number'
          : spec.format === 'date' ? 'date' : 'text';
        input = el('input', { name: name, type: type, step: spec.type === 'number' ? 'any' : null,
          required: required.indexOf(name) >= 0 });
        input.value = value === null || value === undefined ? '' : String(value);
      }
      input.dataset.type = spec.type || 'string';
      form.appendChild(el('label', {}, [(spec.title || name) + (required.indexOf(name) >= 0 ? '（必須）' : ''), input]));
    });
    form.appendChild(el('p', { id: 'ad-form-msg', className: 'ad-msg ad-error', role: 'alert' }));
    form.appendChild(el('div', { className: 'ad-buttons' }, [
      el('button', { type: 'submit', className: 'ad-primary', text: '保存' }),
      isNew ? null : el('button', { type: 'button', className: 'ad-danger', id: 'ad-edit-delete', text: '削除', onclick: remove }),
      el('button', { type: 'button', text: '閉じる', onclick: function () { closeForm(); if (isNew) loadFeatures(true); } })
    ]));
    form.hidden = false;
  }

  function formValues(onlyChanged) {
    var out = {};
    Array.prototype.forEach.call(form.querySelectorAll('input, select'), function (input) {
      var raw = input.value.trim();
      var type = input.dataset.type;
      var value = raw === '' ? null : type === 'integer' ? parseInt(raw, 10) : type === 'number' ? Number(raw)
        : type === 'boolean' ? raw === 'true' : raw;
      var before = onlyChanged ? current.feature.properties[input.name] : undefined;
      if (!onlyChanged || !same(value, before === undefined ? null : before)) {
        if (!(value === null && !onlyChanged)) out[input.name] = value;
      }
    });
    return out;
  }

  function select(marker) {
    return takeUp(marker).then(function (item) {
      current = { fid: marker.feature.id, etag: item.etag, feature: item.feature, marker: marker };
      buildForm(item.feature.properties, false);
    }, fail);
  }

  function newPoint(marker) {
    var ll = marker.getLatLng();
    current = { fid: null, etag: null, feature: { properties: {} }, marker: marker,
      geometry: { type: 'Point', coordinates: [Number(ll.lng.toFixed(7)), Number(ll.lat.toFixed(7))] } };
    buildForm({}, true);
  }

  function save(event) {
    event.preventDefault();
    if (!current) return Promise.resolve();
    var id = layerId();
    var request;
    if (current.fid === null) {
      request = A.api('/collections/' + id + '/items', {
        method: 'POST', json: { type: 'Feature', geometry: current.geometry, properties: formValues(false) },
        contentType: 'application/geo+json'
      });
    } else {
      var changes = formValues(true);
      if (!Object.keys(changes).length) { A.say('変更はありません。'); return Promise.resolve(); }
      request = A.api('/collections/' + id + '/items/' + current.fid, {
        method: 'PATCH', json: { properties: changes }, contentType: PATCH_TYPE, headers: { 'If-Match': current.etag }
      });
    }
    return request.then(function () {
      A.say(current.fid === null ? '点を追加しました。' : '属性を保存しました（ID ' + current.fid + '）。', 'ok');
      return loadFeatures(true);
    }, fail);
  }

  function remove() {
    var target = current;
    return A.confirm(layerTitle() + ' ID ' + target.fid + ' を削除します。よろしいですか。').then(function (ok) {
      if (!ok) return null;
      return A.api('/collections/' + layerId() + '/items/' + target.fid, {
        method: 'DELETE', headers: { 'If-Match': target.etag }
      }).then(function () {
        A.say('削除しました（ID ' + target.fid + '）。', 'ok');
        return loadFeatures(true);
      }, fail);
    });
  }

  function closeForm() {
    if (current && current.fid === null && current.marker) current.marker.remove();
    current = null;
    form.hidden = true;
    form.textContent = '';
  }

  function toggleMove() {
    map.pm.toggleGlobalDragMode();
    var on = map.pm.globalDragModeEnabled();
    moveButton.setAttribute('aria-pressed', on ? 'true' : 'false');
    if (on) closeForm();
    A.say(on ? '点をドラッグすると位置を保存します。終わったら「移動」をもう一度押してください。' : '');
  }

  form.addEventListener('submit', save);
  layerSelect.addEventListener('change', function () { loadFeatures(); });
  moveButton.addEventListener('click', toggleMove);
  document.getElementById('ad-edit-add').addEventListener('click', function () {
    if (map.pm.globalDragModeEnabled()) toggleMove();
    closeForm();
    map.pm.enableDraw('Marker', { continueDrawing: false });
    A.say('地図を押して点の位置を決めてください。');
  });
  A.onTab('edit', function () {
    A.layerOptions(layerSelect, function (l) { return l.map_edit; });
    initMap();
    map.invalidateSize();
    return features ? null : loadFeatures();
  });
  A.edit = {
    map: function () { return map; },
    markers: function () { return features ? features.getLayers() : []; },
    reload: loadFeatures
  };
})();
