/* covgap map: the layers, popups, legend, title and search of the map that
 * covgap.export.map writes.  Part of covgap (MIT licence).
 *
 * Trust boundary: every string that comes from the data (names, ids, reasons,
 * operators) was HTML-escaped in Python before it reached this script, so it is
 * inserted as HTML as is; numbers are formatted here.  Anything typed by the user
 * (the search box) is escaped here with esc() before it meets the data.
 */
(function () {
  'use strict';

  var cg = window.covgap = {version: 1, ready: false, state: null};

  // ---------------------------------------------------------------- helpers
  cg.data = function (id) {
    return JSON.parse(document.getElementById(id).textContent);
  };

  var formats = {};
  function num(x, digits) {
    if (x === null || x === undefined || (typeof x === 'number' && isNaN(x))) { return '—'; }
    digits = digits || 0;
    if (!formats[digits]) {
      formats[digits] = new Intl.NumberFormat('vi-VN', {
        minimumFractionDigits: digits, maximumFractionDigits: digits});
    }
    return formats[digits].format(x).replace('-', '\u2212');
  }
  cg.num = num;

  function pct(x, digits) {
    return (x === null || x === undefined) ? '—' : num(x, digits === undefined ? 1 : digits) + '%';
  }

  function metres(m) {
    if (m === null || m === undefined) { return '—'; }
    return m < 1000 ? num(m, 0) + ' m' : num(m / 1000, 1) + ' km';
  }

  function yesno(b) {
    if (b === null || b === undefined) { return 'không rõ / unknown'; }
    return b ? 'Có / Yes' : 'Không / No';
  }

  function text(s) { return (s === null || s === undefined || s === '') ? '—' : s; }

  // The same escaping as Python's html.escape(quote=True) plus braces, so that
  // user input can be compared with the (escaped) data.
  function esc(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#x27;')
      .replace(/\{/g, '&#123;').replace(/\}/g, '&#125;');
  }
  cg.esc = esc;

  // Case- and diacritic-insensitive key: "Bản Pù Nhi" and "ban pu nhi" match.
  function fold(s) {
    return String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '')
      .replace(/[đĐ]/g, 'd').toLowerCase();
  }
  cg.fold = fold;

  function row(label, value) {
    return '<tr><th>' + label + '</th><td>' + value + '</td></tr>';
  }

  function popupHtml(title, sub, badges, rows, foot) {
    return '<div class="cg-pop"><h4>' + title + '</h4>' +
      (sub ? '<div class="cg-sub">' + sub + '</div>' : '') +
      (badges || '') + '<table>' + rows.join('') + '</table>' + (foot || '') + '</div>';
  }

  // Even-odd point in polygon over every ring of a (multi)polygon's latlngs.
  function inside(latlng, rings) {
    var x = latlng.lng, y = latlng.lat, odd = false;
    (function walk(a) {
      if (!a.length) { return; }
      if (a[0] instanceof L.LatLng) {
        for (var i = 0, j = a.length - 1; i < a.length; j = i++) {
          var yi = a[i].lat, yj = a[j].lat;
          if ((yi > y) !== (yj > y) &&
              x < (a[j].lng - a[i].lng) * (y - yi) / (yj - yi) + a[i].lng) { odd = !odd; }
        }
      } else { a.forEach(walk); }
    })(rings);
    return odd;
  }

  function control(position, className, html) {
    var ctl = L.control({position: position});
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', className);
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return ctl;
  }

  // ---------------------------------------------------------------- set-up
  // Panes, bottom to top: tiles (200), communes (300), coverage (350),
  // commune names (370), lines and villages on one canvas (overlay, 400), markers (600).
  cg.setup = function (map, d, o) {
    var st = cg.state = {map: map, layers: {}, villages: null, communes: null,
      candidates: null, sites: [], options: o};
    // without a tile layer the map has no zoom range, which the clusters need
    map.setMinZoom(o.min_zoom);
    map.setMaxZoom(o.max_zoom);
    map.createPane('cgCommunes').style.zIndex = 300;
    map.createPane('cgCoverage').style.zIndex = 350;
    var labels = map.createPane('cgLabels');
    labels.style.zIndex = 370;
    labels.style.pointerEvents = 'none';
    map.getContainer().style.background = o.background;
    map.attributionControl.setPrefix(o.attribution);

    function zoomLabels() {
      L.DomUtil[map.getZoom() >= o.label_min_zoom ? 'removeClass' : 'addClass'](
        map.getContainer(), 'cg-hide-labels');
      var v = st.villages;
      if (v) {
        // small at the province's scale, where thousands of villages meet
        var z = map.getZoom(), r = z >= 13 ? 2 : z >= 11 ? 1 : z >= 10 ? 0 : -1;
        if (r !== v.sizeClass) {
          v.sizeClass = r;
          v.markers.forEach(function (m) {
            m.setRadius(Math.max(2, m.options.baseRadius + r));
          });
        }
      }
    }
    map.on('zoomend', zoomLabels);
    map.whenReady(zoomLabels);

    // The communes are not interactive (the village canvas above them would hide
    // their clicks), so a click on the map finds the commune under it.
    map.on('click', function (e) {
      var c = st.communes;
      if (!c || !map.hasLayer(c.layer)) { return; }
      var hit = null;
      c.shapes.eachLayer(function (l) {
        if (!hit && l.getBounds().contains(e.latlng) && inside(e.latlng, l.getLatLngs())) {
          hit = l;
        }
      });
      if (hit) { cg.communePopup(hit.feature.properties, e.latlng); }
    });

    // Lines and villages share one canvas: keep villages drawn over fibre.
    map.on('overlayadd', cg.reorder);
    // the coverage legend shows only while a coverage layer is on
    function coverageLegend() {
      var on = map.getPane('cgCoverage').children.length > 0;
      var parts = map.getContainer().querySelectorAll('.cg-cov-legend');
      for (var k = 0; k < parts.length; k++) { parts[k].hidden = !on; }
    }
    map.on('overlayadd overlayremove', coverageLegend);
    map.whenReady(function () { setTimeout(coverageLegend, 0); });
    return st;
  };

  cg.reorder = function () {
    var st = cg.state;
    if (st && st.villages && st.map.hasLayer(st.villages.layer)) {
      st.villages.layer.bringToFront();
    }
  };

  cg.blank = function () { return L.layerGroup(); };

  // ---------------------------------------------------------------- communes
  cg.communes = function (map, d, o) {
    var st = cg.state;
    var shapes = L.geoJSON(d, {
      pane: 'cgCommunes', interactive: false,
      style: function (f) {
        return {fillColor: o.colors[f.properties.k], fillOpacity: o.fill_opacity,
          color: o.line_color, weight: 1.2, opacity: 0.9};
      }
    });
    var labels = L.layerGroup();
    d.features.forEach(function (f) {
      var p = f.properties;
      labels.addLayer(L.marker(p.at, {pane: 'cgLabels', interactive: false, keyboard: false,
        icon: L.divIcon({className: 'cg-label', html: '<span>' + p.n + '</span>',
          iconSize: null})}));
    });
    var group = L.featureGroup([shapes, labels]);
    st.communes = {layer: group, shapes: shapes, d: d};
    return group;
  };

  cg.communePopup = function (p, latlng) {
    var st = cg.state;
    var rows = [
      row('Số thôn / Villages', num(p.v)),
      row('Thôn có băng rộng di động / Villages covered', num(p.vm) + ' (' + pct(p.vm_pct) + ')'),
      row('Thôn có cáp quang FTTH / Villages with FTTH', pct(p.ftth_pct)),
      row('Dân số / Population', num(p.pop)),
      row('Dân số được phủ sóng / Population covered', pct(p.pop_pct)),
      row('Thôn diện công ích / USP-eligible villages', num(p.usp)),
      row('Điểm trạm BTS / Site locations', num(p.sites) +
        (p.shared !== null && p.shared !== undefined ? ' (' + num(p.shared) +
          ' dùng chung / shared)' : '')),
      row('Khu vực / Region', text(p.rg))
    ];
    var sub = 'Mã / Code ' + p.code + (p.dist ? ' · ' + p.dist : '');
    L.popup({maxWidth: 380}).setLatLng(latlng || p.at)
      .setContent(popupHtml(p.n, sub, '', rows)).openOn(st.map);
  };

  // ---------------------------------------------------------------- villages
  // signal_status: covered, partial, 2G/3G only, no signal (o.words: their wording)
  var STATUS = ['cg-st-0', 'cg-st-1', 'cg-st-2', 'cg-st-3'];

  function villagePopup(d, o, i) {
    var c = d.c[i];
    var cname = c === null ? '—' : d.cn[c];
    var badges = '<div class="cg-badges"><span class="cg-badge ' + STATUS[d.st[i]] + '">' +
      o.words[d.st[i]] + '</span>' +
      (d.usp[i] ? '<span class="cg-badge cg-usp">Diện công ích / USP eligible</span>' : '') +
      '</div>';
    var fibre = metres(d.fd[i]) + (d.fo[i] ? ' (' + d.fo[i] + ')' : '') +
      ' · FTTH: ' + (d.ftth[i] === null ? 'không rõ / unknown' : d.ftth[i] ?
        'có / yes' : 'không / no');
    var rows = [
      row('Dân số / Population', num(d.pop[i]) +
        (d.hh[i] !== null ? ' (' + num(d.hh[i]) + ' hộ / households)' : '')),
      row('Tỷ lệ phủ sóng / Covered share', pct(d.sh[i] === null ? null : d.sh[i] * 100, 0) +
        (d.basis[i] !== null ? ' <span class="cg-muted">(' + o.basis[d.basis[i]] + ')</span>' :
          '')),
      row('Nhà mạng / Operators', text(d.ops[i])),
      row('Tín hiệu mạnh nhất / Best signal', d.dbm[i] === null ? '—' : num(d.dbm[i], 1) + ' dBm'),
      row('Cáp quang / Fibre distance', fibre),
      row('Khu vực / Region', text(d.rg[i])),
      row('ĐBKK / Extremely difficult', yesno(d.df[i])),
      row('Diện công ích / USP eligible', yesno(d.usp[i]))
    ];
    if (d.bo[i]) { rows.push(row('Nhà mạng nên phủ / Best-placed operator', d.bo[i])); }
    var foot = d.rs[i] ? '<div class="cg-reason"><b>Lý do / Reason:</b> ' + d.rs[i] + '</div>' :
      '';
    var sub = d.id[i] + ' · ' + cname + (c === null || !d.cd[c] ? '' : ' · ' + d.cd[c]);
    return popupHtml(d.n[i], sub, badges, rows, foot);
  }

  cg.villages = function (map, d, o) {
    var st = cg.state, n = d.lat.length, markers = new Array(n);
    var group = L.featureGroup();
    for (var i = 0; i < n; i++) {
      // the gaps are drawn larger than the covered villages: they are the subject
      var usp = d.usp[i] === 1, radius = o.radius[d.st[i]] + (usp ? 1 : 0);
      var m = L.circleMarker([d.lat[i], d.lon[i]], {
        radius: radius, baseRadius: radius, fillColor: o.colors[d.st[i]], fillOpacity: 0.95,
        color: usp ? o.usp_color : o.line_color, weight: usp ? 2.5 : 1, opacity: 1
      });
      m.cgIndex = i;
      m.bindPopup(villagePopup.bind(null, d, o, i), {maxWidth: 400, minWidth: 280});
      m.bindTooltip(d.n[i], {direction: 'top', offset: [0, -6]});
      group.addLayer(m);
      markers[i] = m;
    }
    st.villages = {layer: group, markers: markers, d: d, sizeClass: 0};
    return group;
  };

  // ---------------------------------------------------------------- sites
  // Every operator's sites are a sub-group of one cluster group, so toggling an
  // operator keeps one set of clusters instead of overlapping sets.
  function siteCluster(map) {
    var st = cg.state;
    if (!st.siteCluster) {
      st.siteCluster = L.markerClusterGroup({
        chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
        disableClusteringAtZoom: 13, spiderfyOnMaxZoom: false,
        // when the last chunk of sites is clustered (benchmarks/bench_map.py reads it)
        chunkProgress: function (done, total) {
          if (done === total) { cg.sitesLoadedAt = performance.now(); }
        },
        iconCreateFunction: function (cluster) {
          var children = cluster.getAllChildMarkers(), color = children[0].options.cgColor;
          for (var i = 1; i < children.length && color; i++) {
            if (children[i].options.cgColor !== color) { color = null; }
          }
          // grey squares: not to be taken for the round, numbered candidate sites
          return L.divIcon({className: 'cg-cluster', iconSize: L.point(24, 24),
            html: '<div style="border-color:' + (color || '#555') + '"><span>' +
              cluster.getChildCount() + '</span></div>'});
        }
      }).addTo(map);
    }
    return st.siteCluster;
  }

  cg.sites = function (map, d, o) {
    var st = cg.state, n = d.lat.length, markers = new Array(n);
    var plain = L.divIcon({className: 'cg-site', iconSize: [12, 12],
      html: '<div style="background:' + o.color + '"></div>'});
    var shared = L.divIcon({className: 'cg-site cg-site-shared', iconSize: [14, 14],
      html: '<div style="background:' + o.color + '"></div>'});
    function popup(i) {
      var rows = [
        row('Nhà mạng / Operator', o.operator),
        row('Công nghệ / Technologies', text(d.tech[i])),
        row('Số cell / Cells', num(d.cells[i])),
        row('Dùng chung với / Shared with', text(d.sw[i]))
      ];
      return popupHtml('Trạm BTS / Site ' + d.id[i], '', '', rows);
    }
    for (var i = 0; i < n; i++) {
      var m = L.marker([d.lat[i], d.lon[i]], {icon: d.sw[i] ? shared : plain, keyboard: false,
        cgColor: o.color});
      m.bindPopup(popup.bind(null, i), {maxWidth: 340});
      m.bindTooltip(d.id[i] + ' · ' + o.operator, {direction: 'top', offset: [0, -6]});
      markers[i] = m;
    }
    var group = o.cluster ? L.featureGroup.subGroup(siteCluster(map), markers) :
      L.featureGroup(markers);
    st.sites.push({layer: group, markers: markers, d: d, operator: o.operator});
    return group;
  };

  // ---------------------------------------------------------------- fibre
  cg.fibre = function (map, d, o) {
    function popup(p) {
      var rows = [
        row('Nhà mạng / Operator', text(o.operators[p.o])),
        row('Loại / Kind', p.k === 'node' ? 'Điểm / Node' : p.k === 'route' ? 'Tuyến / Route' :
          text(p.k))
      ];
      return popupHtml('Cáp quang / Fibre ' + text(p.id), '', '', rows);
    }
    return L.geoJSON(d, {
      style: function (f) {
        return {color: o.colors[f.properties.o], weight: 2.5, opacity: 0.9};
      },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 4, fillColor: o.colors[f.properties.o],
          fillOpacity: 1, color: '#ffffff', weight: 1.5});
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(popup.bind(null, f.properties), {maxWidth: 320});
      }
    });
  };

  // ---------------------------------------------------------------- base map
  // The relief multiplies the communes' colours (pane 310, over their fill at 300), so
  // mountains show through them; roads, rivers and names lie just above (320), under
  // the coverage (350) and the villages.
  function pane(map, name, z, blend) {
    if (!map.getPane(name)) {
      var p = map.createPane(name);
      p.style.zIndex = z;
      p.style.pointerEvents = 'none';
      if (blend) { p.style.mixBlendMode = blend; }
    }
    return name;
  }
  function basePane(map) { return pane(map, 'cgBase', 320); }

  cg.relief = function (map, d, o) {
    return L.imageOverlay(d.url, d.bounds, {opacity: o.opacity,
      pane: pane(map, 'cgRelief', 310, 'multiply'), interactive: false,
      className: 'cg-relief'});
  };

  cg.roads = function (map, d, o) {
    return L.geoJSON(d, {pane: basePane(map), interactive: false,
      style: {color: o.color, weight: 1.3, opacity: 0.9}});
  };

  // Rivers and lakes in blue; a named point gets its name beside it.
  cg.basemap = function (map, d, o) {
    return L.geoJSON(d, {pane: basePane(map), interactive: false,
      style: {color: o.color, weight: 1.5, opacity: 0.9, fillColor: o.color,
        fillOpacity: 0.35},
      pointToLayer: function (f, latlng) {
        var m = L.circleMarker(latlng, {pane: basePane(map), radius: 2.5, color: '#333333',
          weight: 1, fillColor: '#ffffff', fillOpacity: 1, interactive: false});
        if (f.properties.n) {
          m.bindTooltip(f.properties.n, {permanent: true, direction: 'right',
            className: 'cg-place', pane: basePane(map), offset: [4, 0]});
        }
        return m;
      }});
  };

  // ---------------------------------------------------------------- coverage
  cg.image = function (map, d, o) {
    return L.imageOverlay(d.url, d.bounds, {opacity: o.opacity, pane: 'cgCoverage',
      interactive: false, className: 'cg-coverage'});
  };

  cg.areas = function (map, d, o) {
    return L.geoJSON(d, {pane: 'cgCoverage', interactive: false,
      style: {fillColor: o.color, fillOpacity: o.opacity, color: o.color, weight: 1,
        opacity: 0.8}});
  };

  // ---------------------------------------------------------------- measurements
  // measured tests (issue 13): a dot per test coloured by RSRP class, grey for a
  // speed-only test; o.edges are the class edges (dBm), o.colors one more than edges
  cg.measurements = function (map, d, o) {
    var group = L.featureGroup();
    function color(v) {
      if (v === null || v === undefined) { return o.none; }
      for (var k = 0; k < o.edges.length; k++) { if (v < o.edges[k]) { return o.colors[k]; } }
      return o.colors[o.edges.length];
    }
    function popup(i) {
      return popupHtml('Đo kiểm / Measured test', text(d.src[i]), '', [
        row('Nhà mạng / Operator', text(d.op[i]) + ' ' + text(d.tech[i])),
        row('RSRP', d.rsrp[i] === null ? '—' : num(d.rsrp[i]) + ' dBm'),
        row('Tải xuống / Download', d.dl[i] === null ? '—' : num(d.dl[i], 1) + ' Mb/s'),
        row('Thời điểm / Measured at', text(d.at[i]))
      ]);
    }
    for (var i = 0; i < d.lat.length; i++) {
      var c = color(d.rsrp[i]);
      var m = L.circleMarker([d.lat[i], d.lon[i]], {radius: 3.5, weight: 0.5, color: '#333',
        fillColor: c, fillOpacity: 0.9});
      m.bindPopup(popup.bind(null, i), {maxWidth: 320});
      group.addLayer(m);
    }
    return group;
  };

  // ---------------------------------------------------------------- candidates
  cg.candidates = function (map, d, o) {
    var st = cg.state, n = d.lat.length, markers = new Array(n), group = L.featureGroup();
    function popup(i) {
      var rows = [
        row('Loại / Kind', d.kind[i] === 'share' ? 'Dùng chung trạm / Share a site' :
          d.kind[i] === 'new' ? 'Trạm mới / New site' : text(d.kind[i])),
        row('Trạm chủ / Host site', text(d.host[i])),
        row('Nhà mạng / Operator', text(d.op[i])),
        row('Dân số được phủ thêm / Population gained', num(d.pg[i])),
        row('Thôn / Villages', typeof d.vil[i] === 'number' ? num(d.vil[i]) : text(d.vil[i])),
        row('Dân số cộng dồn / Cumulative population', num(d.cum[i]))
      ];
      if (d.usp) { rows.push(row('Thôn diện công ích / USP villages', num(d.usp[i]))); }
      if (d.plan) { rows.unshift(row('Phương án / Plan', text(d.plan[i]))); }
      return popupHtml('Điểm đề xuất số / Candidate site #' + d.rank[i], '', '', rows);
    }
    for (var i = 0; i < n; i++) {
      var m = L.marker([d.lat[i], d.lon[i]], {zIndexOffset: 1000 - i, keyboard: false,
        icon: L.divIcon({className: 'cg-cand ' + (d.kind[i] === 'share' ? 'cg-cand-share' :
          'cg-cand-new'), iconSize: [24, 24], html: '<span>' + d.rank[i] + '</span>'})});
      m.bindPopup(popup.bind(null, i), {maxWidth: 360});
      group.addLayer(m);
      markers[i] = m;
    }
    st.candidates = {layer: group, markers: markers, d: d};
    return group;
  };

  // ---------------------------------------------------------------- places
  // Commune centres, town centres, hospitals, ...: a ring coloured by the signal at the
  // place (5G, 4G only, neither).
  cg.places = function (map, d, o) {
    var group = L.featureGroup(), words = ['Có 5G / 5G', 'Chỉ 4G / 4G only',
      'Không có 4G/5G / No 4G or 5G'];
    for (var i = 0; i < d.lat.length; i++) {
      var m = L.circleMarker([d.lat[i], d.lon[i]], {radius: 6, weight: 3,
        color: o.colors[d.cls[i]], fillColor: '#ffffff', fillOpacity: 0.9});
      m.bindPopup(popupHtml(text(d.name[i]), text(d.kind[i]), '', [
        row('Sóng / Signal', words[d.cls[i]]),
        row('5G', text(d.op5[i])), row('4G', text(d.op4[i])),
        row('Cáp quang gần nhất / Nearest fibre, m', num(d.fibre_m[i]))]), {maxWidth: 320});
      group.addLayer(m);
    }
    return group;
  };

  // ---------------------------------------------------------------- controls
  cg.title = function (map, d) {
    var div = L.DomUtil.create('div', 'cg-title', map.getContainer());
    div.innerHTML = d.html;
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return {addTo: function () { return this; }, element: div};
  };

  // On a small screen the legend starts closed (one click on its title opens it), so the
  // map is not hidden behind it.
  cg.LEGEND_OPEN_MIN = {width: 900, height: 700};

  cg.legend = function (map, d) {
    var ctl = control('bottomleft', 'cg-legend', d.html), onAdd = ctl.onAdd;
    ctl.onAdd = function () {
      var div = onAdd.apply(this, arguments), box = div.querySelector('details');
      if (box && (window.innerWidth < cg.LEGEND_OPEN_MIN.width ||
                  window.innerHeight < cg.LEGEND_OPEN_MIN.height)) {
        box.open = false;
      }
      return div;
    };
    return ctl;
  };

  cg.scale = function () {
    return L.control.scale({imperial: false, maxWidth: 160, position: 'bottomleft'});
  };

  cg.search = function (map, d, o) {
    var st = cg.state, index = null, limit = o.limit || 12;
    var ctl = L.control({position: 'topleft'});

    function build() {
      index = [];
      var v = st.villages, c = st.communes;
      if (v) {
        v.d.n.forEach(function (name, i) {
          var cn = v.d.c[i] === null ? '' : v.d.cn[v.d.c[i]];
          index.push({t: 'v', i: i, name: name, sub: cn, key: fold(name), all: fold(name + ' ' + cn)});
        });
      }
      if (c) {
        c.d.features.forEach(function (f, i) {
          index.push({t: 'c', i: i, name: f.properties.n, sub: f.properties.dist || '',
            key: fold(f.properties.n), all: fold(f.properties.n + ' ' + (f.properties.dist || ''))});
        });
      }
    }

    function find(q) {
      var words = fold(esc(q.trim())).split(/\s+/).filter(Boolean);
      if (!words.length) { return []; }
      if (!index) { build(); }
      var phrase = words.join(' '), hits = [];
      for (var k = 0; k < index.length; k++) {
        var e = index[k], ok = true;
        for (var w = 0; w < words.length && ok; w++) { ok = e.all.indexOf(words[w]) >= 0; }
        if (ok) {
          var rank = e.key === phrase ? 0 : e.key.indexOf(phrase) === 0 ? 1 :
            e.key.indexOf(phrase) >= 0 ? 2 : 3;
          hits.push([rank + (e.t === 'c' ? 0 : 0.5), e]);
        }
      }
      hits.sort(function (a, b) { return a[0] - b[0] || (a[1].key < b[1].key ? -1 : 1); });
      return hits.slice(0, limit).map(function (h) { return h[1]; });
    }

    function choose(e) {
      var map_ = st.map;
      if (e.t === 'v') {
        var v = st.villages;
        if (!map_.hasLayer(v.layer)) { map_.addLayer(v.layer); }
        var m = v.markers[e.i];
        map_.setView(m.getLatLng(), Math.max(map_.getZoom(), 14));
        m.openPopup();
      } else {
        var f = st.communes.d.features[e.i];
        var layer = null;
        st.communes.shapes.eachLayer(function (l) { if (l.feature === f) { layer = l; } });
        if (!map_.hasLayer(st.communes.layer)) { map_.addLayer(st.communes.layer); }
        if (layer) { map_.fitBounds(layer.getBounds(), {maxZoom: 14}); }
        cg.communePopup(f.properties, f.properties.at);
      }
    }

    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'cg-search leaflet-bar');
      // as wide as its placeholder, so the hint is never cut off
      div.innerHTML = '<input type="search" autocomplete="off" spellcheck="false" ' +
        'size="' + (o.placeholder.length + 3) + '" ' +
        'placeholder="' + o.placeholder + '" aria-label="' + o.placeholder + '">' +
        '<ul role="listbox"></ul>';
      var input = div.querySelector('input'), list = div.querySelector('ul'), found = [];
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      function show() {
        found = find(input.value);
        list.innerHTML = found.map(function (e, k) {
          return '<li role="option" data-k="' + k + '"><span class="cg-kind">' +
            (e.t === 'v' ? 'thôn' : 'xã') + '</span> ' + e.name +
            (e.sub ? ' <span class="cg-muted">· ' + e.sub + '</span>' : '') + '</li>';
        }).join('') || (input.value.trim() ?
          '<li class="cg-none">Không tìm thấy / Not found</li>' : '');
      }
      input.addEventListener('input', show);
      input.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' && found.length) { choose(found[0]); }
        if (ev.key === 'Escape') { input.value = ''; show(); }
      });
      list.addEventListener('click', function (ev) {
        var li = ev.target.closest('li[data-k]');
        if (li) { choose(found[+li.getAttribute('data-k')]); }
      });
      return div;
    };
    cg.find = find;
    cg.choose = choose;
    return ctl;
  };

  // ---------------------------------------------------------------- done
  // Fit the province into the part of the map that the title and legend leave free.
  cg.fit = function () {
    var st = cg.state, map = st.map;
    var box = map.getContainer().getBoundingClientRect();
    var title = map.getContainer().querySelector('.cg-title');
    var legend = map.getContainer().querySelector('.cg-legend');
    var top = title ? title.getBoundingClientRect().bottom - box.top + 8 : 10;
    var left = 10;
    if (legend && legend.offsetWidth < 0.4 * box.width) { left = legend.offsetWidth + 20; }
    if (top > 0.4 * box.height) { top = 10; }
    map.fitBounds(st.bounds, {paddingTopLeft: [left, top], paddingBottomRight: [10, 10],
      animate: false});
    // popups open clear of the title and the legend, not behind them
    L.Popup.prototype.options.autoPanPaddingTopLeft = L.point(left, top);
  };

  cg.finish = function (map, d, o) {
    cg.state.bounds = o.bounds;
    cg.fit();
    cg.reorder();
    requestAnimationFrame(function () {
      cg.readyAt = performance.now();
      cg.ready = true;
    });
    return {addTo: function () { return this; }};
  };
})();
