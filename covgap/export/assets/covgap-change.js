(function () {
  'use strict';
  var cg = window.covgap;
  function pct(x) { return x === null ? '—' : cg.num(x * 100, 0) + '%'; }
  function yes(b) { return b === null ? '—' : b ? 'có / yes' : 'không / no'; }
  function text(s) { return s === null || s === '' ? '—' : s; }
  function row(th, td) { return '<tr><th>' + th + '</th><td>' + td + '</td></tr>'; }
  function popup(d, o, i) {
    var rows = [
      row('Dân số / Population', cg.num(d.pop[i])),
      row(o.status_label, text(o.statuses[d.sa[i]]) + ' → ' + text(o.statuses[d.sb[i]])),
      row('Tỷ lệ phủ / Covered share', pct(d.ma[i]) + ' → ' + pct(d.mb[i])),
      row('FTTH', yes(d.fa[i]) + ' → ' + yes(d.fb[i])),
      row('Nhà mạng / Operators', text(d.oa[i]) + ' → ' + text(d.ob[i]))];
    if (d.ida[i] !== null) {
      rows.push(row('Ghép theo vị trí / Matched by location',
        d.ida[i] + ' (' + cg.num(d.dm[i]) + ' m)'));
    }
    var sub = [d.id[i], d.cn[i]].filter(function (s) { return s; }).join(' · ');
    return '<div class="cg-pop"><h4>' + text(d.n[i]) + '</h4><div class="cg-sub">' + sub +
      '</div><div class="cg-badges"><span class="cg-badge" style="background:' + o.badge +
      '">' + o.label + '</span></div><table>' + rows.join('') + '</table></div>';
  }
  cg.changes = function (map, d, o) {
    var st = cg.state, group = L.featureGroup(), markers = [];
    for (var i = 0; i < d.lat.length; i++) {
      var m = L.circleMarker([d.lat[i], d.lon[i]], {radius: o.radius, fillColor: o.color,
        fillOpacity: o.fill_opacity, color: o.line_color, weight: o.weight, opacity: 1});
      m.bindPopup(popup.bind(null, d, o, i), {maxWidth: 400, minWidth: 260});
      m.bindTooltip(text(d.n[i]), {direction: 'top', offset: [0, -6]});
      group.addLayer(m);
      markers.push(m);
    }
    st.changes = st.changes || {};
    st.changes[o.key] = {layer: group, markers: markers};
    return group;
  };
})();
