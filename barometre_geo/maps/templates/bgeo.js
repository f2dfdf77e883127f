/* barometre-geo map layer: decodes compact geometry, draws it on a Leaflet
 * canvas renderer, and builds the legend, tooltips, zone jumps and the data
 * table. All text coming from data goes through textContent, never innerHTML.
 * Classes and colours are computed in Python: per feature, a class index and
 * a lookup in a small palette array. */
(function () {
  "use strict";
  var ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var LOOKUP = new Int16Array(128).fill(-1);
  for (var a = 0; a < ALPHA.length; a++) LOOKUP[ALPHA.charCodeAt(a)] = a;
  var NNBSP = "\u202f";
  var NO_DATA = -1, SUPPRESSED = -2;

  function vlq(s) {
    var out = new Int32Array(s.length), n = 0, v = 0, sh = 0;
    for (var i = 0; i < s.length; i++) {
      var c = LOOKUP[s.charCodeAt(i)];
      v |= (c & 31) << sh;
      sh += 5;
      if (!(c & 32)) { out[n++] = (v >>> 1) ^ -(v & 1); v = 0; sh = 0; }
    }
    return out.subarray(0, n);
  }

  function texts(col) {  // a text column: an array, {sep, s} joined string, or {dict, i} codes
    if (Array.isArray(col)) return col;
    if (col.dict) {
      var codes = vlq(col.i), out = new Array(codes.length), k = 0;
      for (var i = 0; i < codes.length; i++) { k += codes[i]; out[i] = col.dict[k]; }
      return out;
    }
    return col.s.split(col.sep);
  }

  function group3(d) {
    var out = "";
    while (d.length > 3) { out = NNBSP + d.slice(-3) + out; d = d.slice(0, -3); }
    return d + out;
  }

  // French formatting of an integer meaning i / 10^dec (trailing zeros dropped);
  // mirrors barometre_geo.maps._format._from_int.
  function frInt(i, dec) {
    var neg = i < 0, s = String(Math.abs(i));
    while (s.length < dec + 1) s = "0" + s;
    var whole = dec ? s.slice(0, -dec) : s, frac = dec ? s.slice(-dec) : "";
    frac = frac.replace(/0+$/, "");
    var t = group3(whole) + (frac ? "," + frac : "");
    return (neg && /[1-9]/.test(t) ? "\u2212" : "") + t;
  }

  function fmt(i, f) {
    if (i === null || i === undefined) return "";
    return frInt(i, f.dec) + (f.unit ? NNBSP + f.unit : "");
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function hatch(spec) {
    var c = document.createElement("canvas");
    c.width = c.height = 8;
    var g = c.getContext("2d");
    g.fillStyle = spec.bg; g.fillRect(0, 0, 8, 8);
    g.strokeStyle = spec.fg; g.lineWidth = 1.5;
    g.beginPath(); g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(-2, 2); g.lineTo(2, -2);
    g.moveTo(6, 10); g.lineTo(10, 6); g.stroke();
    return g.createPattern(c, "repeat");
  }

  function decodeGeometry(geom) {
    var d = vlq(geom.c), rs = vlq(geom.r), fr = vlq(geom.f), q = geom.q;
    var feats = new Array(fr.length), k = 0, ring = 0, lat = 0, lng = 0;
    for (var f = 0; f < fr.length; f++) {
      var rings = new Array(fr[f]);
      for (var r = 0; r < fr[f]; r++, ring++) {
        var pts = new Array(rs[ring]);
        for (var p = 0; p < rs[ring]; p++) {
          lat += d[k++]; lng += d[k++];
          pts[p] = new L.LatLng(lat * q, lng * q);
        }
        rings[r] = pts;
      }
      feats[f] = rings;
    }
    return feats;
  }

  // The text shown for field `fd` of feature i (tooltip and table).
  function fieldText(layer, fd, i) {
    var cls = layer.cls[i];
    if (fd.type === "text") return fd.values[i];
    if (fd.type === "class") {
      if (cls === NO_DATA) return layer.legend.no_data.label;
      if (cls === SUPPRESSED) return layer.legend.suppressed.label;
      return cls >= 0 ? layer.legend.classes[cls].label : "";
    }
    if (fd.main && cls === SUPPRESSED) return layer.legend.suppressed.short;
    if (fd.main && cls === NO_DATA) return layer.legend.no_data.short;
    if (fd.type === "range") {
      var lo = fd.data[0][i], hi = fd.data[1][i];
      if (lo === null || hi === null) return "";
      return frInt(lo, fd.fmt.dec) + " à " + fmt(hi, fd.fmt);
    }
    return fmt(fd.data[i], fd.fmt);
  }

  function sortKey(layer, fd, i) {
    if (fd.type === "text") return fd.values[i];
    if (fd.type === "class") return layer.cls[i];
    var v = fd.type === "range" ? fd.data[0][i] : fd.data[i];
    return v === null || v === undefined ? null : v;
  }

  function tooltipNode(layer, i) {
    var box = el("div", "bgeo-tip-body");
    box.appendChild(el("strong", null, layer.fields[0].values[i]));
    var dl = el("dl");
    for (var j = 1; j < layer.fields.length; j++) {
      var fd = layer.fields[j], t = fieldText(layer, fd, i);
      if (t === "") continue;
      dl.appendChild(el("dt", null, fd.label));
      dl.appendChild(el("dd", null, t));
    }
    box.appendChild(dl);
    return box;
  }

  function swatch(style) {
    var s = el("span", "bgeo-swatch");
    s.setAttribute("aria-hidden", "true");
    if (style.hatch) s.className += " bgeo-hatch";
    else if (style.color) s.style.backgroundColor = style.color;
    else s.className += " bgeo-swatch-line";
    if (style.outline) s.style.borderColor = style.outline;
    return s;
  }

  function legendControl(layer) {
    var ctl = L.control({ position: "bottomleft" });
    ctl.onAdd = function () {
      var lg = layer.legend, box = el("div", "bgeo-legend leaflet-control");
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", "Légende : " + lg.title);
      box.appendChild(el("div", "bgeo-legend-title", lg.title));
      if (lg.subtitle) box.appendChild(el("div", "bgeo-legend-sub", lg.subtitle));
      var ul = el("ul");
      function row(style, label, count, cls) {
        var li = el("li");
        if (cls !== undefined) li.setAttribute("data-cls", cls);
        li.appendChild(swatch(style));
        li.appendChild(el("span", "bgeo-legend-label", label));
        if (lg.counts && count !== undefined) li.appendChild(el("span", "bgeo-legend-count", count));
        ul.appendChild(li);
      }
      lg.classes.forEach(function (c, i) {
        row({ color: c.color, outline: c.outline, hatch: !!c.hatch }, c.label, c.count, i);
      });
      [lg.no_data, lg.suppressed].forEach(function (s) {
        if (s && s.n > 0) row(s, s.label, s.count);
      });
      box.appendChild(ul);
      if (lg.note) box.appendChild(el("div", "bgeo-legend-note", lg.note));
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      layer.legendBox = box;
      if (lg.compact && window.bgeoViews) window.bgeoViews.compactLegend(box, layer, ctl._map);
      return box;
    };
    return ctl;
  }

  function zonesControl(map, zones) {
    var ctl = L.control({ position: "topleft" });
    ctl.onAdd = function () {
      var nav = el("nav", "bgeo-zones leaflet-control");
      nav.setAttribute("aria-label", "Aller à un territoire");
      zones.forEach(function (z) {
        var b = el("button", null, z.label);
        b.type = "button";
        b.setAttribute("data-zone", z.id);
        L.DomEvent.on(b, "click", function (e) {
          L.DomEvent.stop(e);
          map.fitBounds(z.bounds, { animate: false });
        });
        nav.appendChild(b);
      });
      L.DomEvent.disableClickPropagation(nav);
      return nav;
    };
    return ctl;
  }

  function buildLayer(map, spec, renderer, state) {
    var t0 = performance.now();
    var feats = decodeGeometry(spec.geom);
    state.timings.decode += performance.now() - t0;
    var cls = Array.prototype.slice.call(vlq(spec.cls));
    var st = spec.style, lg = spec.legend;
    var special = {};
    special[NO_DATA] = lg.no_data ? lg.no_data.color : "#d0d0d0";
    special[SUPPRESSED] = lg.suppressed ? hatch(lg.suppressed.pattern) : "#ffffff";
    var colors = lg.classes.map(function (c) { return c.hatch ? hatch(c.hatch) : c.color; });
    var fields = spec.fields.map(function (fd) {
      var o = { label: fd.label, type: fd.type, fmt: fd.fmt, main: fd.main };
      if (fd.type === "text") o.values = texts(fd.data);
      else o.data = fd.data;
      return o;
    });
    var layer = { id: spec.id, name: spec.name, cls: cls, legend: lg, fields: fields,
      weight: st.weight, style: st };
    var group = L.featureGroup();
    var drawn = 0;
    for (var i = 0; i < feats.length; i++) {
      if (!feats[i].length) continue;
      var c = cls[i], fill = c >= 0 ? colors[c] : special[c];
      var outline = c >= 0 && lg.classes[c].outline;
      var poly = L.polygon(feats[i], {
        renderer: renderer, stroke: st.weight > 0 || !!outline, color: outline || st.color,
        weight: outline ? st.outline_weight : st.weight, opacity: 1,
        fill: fill !== null, fillColor: fill, fillOpacity: st.fill_opacity,
        smoothFactor: 0.5, interactive: st.interactive !== false
      });
      poly._bgeo = i;
      group.addLayer(poly);
      drawn++;
    }
    state.timings.build += performance.now() - t0;
    layer.nFeatures = feats.length;
    layer.nDrawn = drawn;
    if (st.interactive !== false) {
      group.bindTooltip(function (p) { return tooltipNode(layer, p._bgeo); },
        { sticky: true, direction: "top", className: "bgeo-tip", opacity: 1 });
    }
    group.on("mouseover", function (e) {
      e.layer.setStyle({ weight: 2.5, color: st.highlight, stroke: true });
    });
    function restyle(p) {
      var c = layer.cls[p._bgeo], out = c >= 0 && lg.classes[c].outline;
      p.setStyle({ weight: out ? st.outline_weight : layer.weight, color: out || st.color,
        stroke: layer.weight > 0 || !!out });
    }
    group.on("mouseout", function (e) { restyle(e.layer); });
    if (st.zoom_weight !== st.weight) {  // borders only once zoomed in (large layers)
      map.on("zoomend", function () {
        var w = map.getZoom() >= 8 ? st.zoom_weight : st.weight;
        if (w !== layer.weight) { layer.weight = w; group.eachLayer(restyle); }
      });
    }
    var legend = legendControl(layer);
    group.on("add", function () { legend.addTo(map); });
    group.on("remove", function () { legend.remove(); });
    layer.group = group;
    layer.legendControl = legend;
    state.layers.push(layer);
    return layer;
  }

  function buildTable(root, layer, pageSize) {
    var n = layer.cls.length, order = [], filtered = [], page = 0, sortCol = -1, asc = true;
    for (var i = 0; i < n; i++) order.push(i);
    var cols = layer.fields;
    var wrap = el("div", "bgeo-table");
    var lab = el("label", null, "Filtrer (nom, code, SIREN, département, EPCI…) : ");
    var input = el("input");
    input.type = "search";
    input.id = root.id + "-filter";
    lab.htmlFor = input.id;
    lab.appendChild(input);
    wrap.appendChild(lab);
    var table = el("table");
    table.appendChild(el("caption", null, layer.name));
    var thead = el("thead"), hr = el("tr");
    var ths = cols.map(function (fd, j) {
      var th = el("th");
      th.scope = "col";
      var b = el("button", null, fd.label);
      b.type = "button";
      b.addEventListener("click", function () {
        asc = sortCol === j ? !asc : true;
        sortCol = j;
        sort();
        page = 0;
        render();
      });
      th.appendChild(b);
      hr.appendChild(th);
      return th;
    });
    thead.appendChild(hr);
    table.appendChild(thead);
    var tbody = el("tbody");
    table.appendChild(tbody);
    var scroll = el("div", "bgeo-table-scroll");
    scroll.appendChild(table);
    wrap.appendChild(scroll);
    var nav = el("div", "bgeo-pager");
    var prev = el("button", null, "Page précédente"), next = el("button", null, "Page suivante");
    prev.type = next.type = "button";
    var status = el("span", "bgeo-pager-status");
    status.setAttribute("aria-live", "polite");
    nav.appendChild(prev); nav.appendChild(status); nav.appendChild(next);
    var dl = el("button", "bgeo-download", "Télécharger le tableau (CSV)");
    dl.type = "button";
    dl.addEventListener("click", function () { downloadCsv(layer, filtered); });
    nav.appendChild(dl);
    wrap.appendChild(nav);
    root.appendChild(wrap);

    function sort() {
      var fd = cols[sortCol];
      var keys = order.map(function (i) { return sortKey(layer, fd, i); });
      var idx = order.map(function (_, k) { return k; });
      idx.sort(function (x, y) {
        var a = keys[x], b = keys[y];
        if (a === null) return b === null ? 0 : 1;
        if (b === null) return -1;
        var r = typeof a === "string" ? a.localeCompare(b, "fr") : a - b;
        return asc ? r : -r;
      });
      order = idx.map(function (k) { return order[k]; });
      ths.forEach(function (th, j) {
        if (j === sortCol) th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      applyFilter();
    }
    function applyFilter() {
      var keep = matcher(input.value, cols);
      filtered = !keep ? order : order.filter(keep);
    }
    function render() {
      var start = page * pageSize, stop = Math.min(filtered.length, start + pageSize);
      var frag = document.createDocumentFragment();
      for (var k = start; k < stop; k++) {
        var i = filtered[k], tr = el("tr");
        cols.forEach(function (fd, j) {
          var cell = el(j === 0 ? "th" : "td", fd.type === "text" || fd.type === "class" ? null : "bgeo-num",
            fieldText(layer, fd, i));
          if (j === 0) cell.scope = "row";
          tr.appendChild(cell);
        });
        frag.appendChild(tr);
      }
      tbody.textContent = "";
      tbody.appendChild(frag);
      status.textContent = filtered.length
        ? "Lignes " + frInt(start + 1, 0) + " à " + frInt(stop, 0) + " sur " + frInt(filtered.length, 0)
        : "Aucune ligne";
      prev.disabled = page === 0;
      next.disabled = stop >= filtered.length;
    }
    prev.addEventListener("click", function () { page = Math.max(0, page - 1); render(); });
    next.addEventListener("click", function () { page += 1; render(); });
    input.addEventListener("input", function () { applyFilter(); page = 0; render(); });
    applyFilter();
    render();
    layer.table = {
      input: input,
      setFilter: function (q) { input.value = q; applyFilter(); page = 0; render(); },
      rows: function () { return filtered.slice(); }
    };
  }

  function fold(s) {  // lower case, accents dropped: "Département" matches "departement"
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // Row filter of the data table: a code ("14", "2A", "75056", a SIREN) matches the
  // text fields that start with it (INSEE codes, SIREN, "14 — Calvados"); other text
  // matches any text field containing it, accents and case aside.
  function matcher(query, cols) {
    var q = fold(query.trim());
    if (!q) return null;
    var prefix = /^[0-9][0-9a-z]*$/.test(q);
    var text = cols.filter(function (fd) { return fd.type === "text"; });
    text.forEach(function (fd) { if (!fd.folded) fd.folded = fd.values.map(fold); });
    return function (i) {
      for (var j = 0; j < text.length; j++) {
        var v = text[j].folded[i];
        if (prefix ? v.lastIndexOf(q, 0) === 0 : v.indexOf(q) >= 0) return true;
      }
      return false;
    };
  }

  // A CSV cell: numbers as plain decimals; text that a spreadsheet would run as a
  // formula gets a leading apostrophe (the rule of barometre_geo._format.neutralise_formula).
  function csvCell(v) {
    var s = v === null || v === undefined ? "" : String(v);
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function plain(i, f) {  // the shipped integer back to a decimal number
    return i === null || i === undefined ? null : i / Math.pow(10, f.dec);
  }

  function csvText(layer, rows) {
    var head = [], lines = [];
    layer.fields.forEach(function (fd) {
      var unit = fd.fmt && fd.fmt.unit ? " (" + fd.fmt.unit + ")" : "";
      if (fd.type === "range") head.push(fd.label + " — bas" + unit, fd.label + " — haut" + unit);
      else head.push(fd.label + (fd.type === "number" ? unit : ""));
    });
    lines.push(head.map(csvCell).join(","));
    rows.forEach(function (i) {
      var cells = [];
      layer.fields.forEach(function (fd) {
        if (fd.type === "range") cells.push(plain(fd.data[0][i], fd.fmt), plain(fd.data[1][i], fd.fmt));
        else if (fd.type === "number") cells.push(plain(fd.data[i], fd.fmt));
        else cells.push(fieldText(layer, fd, i));
      });
      lines.push(cells.map(csvCell).join(","));
    });
    return lines.join("\n") + "\n";
  }

  function downloadCsv(layer, rows) {
    var name = fold(document.title).replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "tableau";
    var url = URL.createObjectURL(new Blob([csvText(layer, rows)], { type: "text/csv;charset=utf-8" }));
    var a = el("a");
    a.href = url;
    a.download = name + ".csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  function draw(map, data) {
    var state = window.__bgeo = { ready: false, map: map, layers: [], format: frInt,
      timings: { start: performance.now(), decode: 0, build: 0, add: 0 } };
    var renderer = L.canvas({ padding: 0.2, tolerance: 1 });
    var overlays = {};
    data.layers.forEach(function (spec) {
      var layer = buildLayer(map, spec, renderer, state);
      var t1 = performance.now();
      layer.group.addTo(map);
      state.timings.add += performance.now() - t1;
      overlays[spec.name] = layer.group;
    });
    var tiles = [];
    map.eachLayer(function (l) { if (l instanceof L.TileLayer) tiles.push(l); });
    if (data.layers.length > 1 || tiles.length) {
      var base = {};
      tiles.forEach(function (t) { base[data.basemap_label] = t; });
      L.control.layers(base, overlays, { collapsed: false, position: "topright" }).addTo(map);
    }
    if (data.zones.length > 1) zonesControl(map, data.zones).addTo(map);
    var home = data.zones.length ? data.zones[0].bounds : data.bounds;
    map.fitBounds(home, { animate: false });
    map.setMinZoom(Math.max(2, map.getZoom() - 3));
    data.layers.forEach(function (spec, j) {
      var root = document.getElementById(data.table_id);
      if (root && j === 0 && state.layers[0]) buildTable(root, state.layers[0], data.page_size);
    });
    if (data.views && window.bgeoViews) window.bgeoViews.init(state, data);
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        state.nFeatures = state.layers.reduce(function (s, l) { return s + l.nFeatures; }, 0);
        state.readyAt = performance.now();
        state.ready = true;
      });
    });
    return state;
  }

  window.bgeo = { draw: draw, format: fmt, vlq: vlq, el: el, fold: fold, csv: csvText,
    tooltip: tooltipNode };
})();
