/* barometre-geo map layer: decodes compact geometry, draws it with
 * bgeoCanvas.FeatureCanvas (bgeo-canvas.js), and builds the legend, tooltips,
 * zone jumps and the data table (filter, CSV download). All text coming from data
 * goes through textContent, never innerHTML.
 * Classes and colours are computed in Python: per feature, a class index and
 * a lookup in a small palette array. Layers with "interactive": false (outlines
 * drawn over another layer) have no tooltip. Compact legends (a class per
 * structure) and views (?structure=) come from bgeo-views.js, inlined only in
 * the pages that use them. */
(function () {
  "use strict";
  var ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var LOOKUP = new Int16Array(128).fill(-1);
  for (var a = 0; a < ALPHA.length; a++) LOOKUP[ALPHA.charCodeAt(a)] = a;
  var NNBSP = "\u202f";
  var NO_DATA = -1, SUPPRESSED = -2;
  var NARROW = 640;  // map width (px) under which the layer control is collapsed

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

  // Fill of the territories without a published value: white with a dark texture
  // (dots: no answer; hatching: too few answers). Any class colour is at least 3:1
  // from the white or from the dark ink (maps/_palettes.py, neutral_contrast).
  function pattern(spec) {
    var c = document.createElement("canvas"), n = spec.size || 8;
    c.width = c.height = n;
    var g = c.getContext("2d");
    g.fillStyle = spec.bg; g.fillRect(0, 0, n, n);
    g.fillStyle = g.strokeStyle = spec.fg;
    if (spec.kind === "dots") {
      g.beginPath(); g.arc(n / 2, n / 2, spec.radius || 1.3, 0, 2 * Math.PI); g.fill();
    } else {
      g.lineWidth = spec.width || 1.5;
      g.beginPath(); g.moveTo(0, n); g.lineTo(n, 0); g.moveTo(-2, 2); g.lineTo(2, -2);
      g.moveTo(n - 2, n + 2); g.lineTo(n + 2, n - 2); g.stroke();
    }
    return g.createPattern(c, "repeat");
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
    var p = style.pattern;
    if (p) {
      s.className += p.kind === "dots" ? " bgeo-dots" : " bgeo-hatch";
      if (p.fg && p.kind !== "dots") {  // the texture's own ink (e.g. the light hatch of a category)
        s.style.backgroundColor = p.bg;
        s.style.backgroundImage = "repeating-linear-gradient(135deg, " + p.fg + " 0 1.3px, transparent 1.3px 5px)";
      }
    } else if (style.color) s.style.backgroundColor = style.color;
    else s.className += " bgeo-swatch-line";  // an outline only
    if (style.outline) s.style.borderColor = style.outline;
    return s;
  }

  // The legend of a layer, beside the map (under it on a narrow page: CSS), never
  // over it; a Leaflet control only on a page without the legend area.
  function legendControl(layer, map) {
    var box = legendBox(layer, map), slot = document.querySelector(".bgeo-legend-slot");
    var ctl = L.control({ position: "bottomleft" });
    ctl.onAdd = function () { return box; };
    return {
      addTo: function () {
        if (slot) slot.appendChild(box);
        else ctl.addTo(map);
        return this;
      },
      remove: function () {
        ctl.remove();
        if (box.parentNode) box.parentNode.removeChild(box);
        return this;
      },
      box: box
    };
  }

  function legendBox(layer, map) {
    {
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
        return li;
      }
      lg.classes.forEach(function (c, i) {
        var li = row({ color: c.color, outline: c.outline, pattern: c.pattern }, c.label, c.count, i);
        if (lg.national && lg.national["class"] === i) {  // the national value, on the scale
          li.className = "bgeo-legend-has-nat";
          var mark = el("span", "bgeo-legend-nat", lg.national.label);
          mark.setAttribute("title", "Valeur nationale, dans cette classe");
          li.appendChild(mark);
        }
      });
      if (lg.cue && lg.cue.n > 0) {  // modelled maps: what a lighter fill means
        var li = el("li", "bgeo-cue");
        var sw = swatch({ color: lg.cue.color });
        sw.style.opacity = String(lg.cue.factor);
        li.appendChild(sw);
        li.appendChild(el("span", "bgeo-legend-label", lg.cue.label));
        if (lg.counts) li.appendChild(el("span", "bgeo-legend-count", lg.cue.count));
        ul.appendChild(li);
      }
      [lg.no_data, lg.suppressed].forEach(function (s) {
        if (s && s.n > 0) row(s, s.label, s.count);
      });
      box.appendChild(ul);
      if (lg.note) box.appendChild(el("div", "bgeo-legend-note", lg.note));
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      layer.legendBox = box;
      if (lg.compact && window.bgeoViews) window.bgeoViews.compactLegend(box, layer, map);
      return box;
    }
  }

  // Buttons showing a zone (metropolitan France, each DROM) on the main map: a bar
  // above the map area, so that they never hide a territory.
  function zonesBar(map, zones, box) {
    var nav = el("nav", "bgeo-zones");
    nav.setAttribute("aria-label", "Aller à un territoire");
    nav.appendChild(el("span", "bgeo-zones-label", "Afficher :"));
    zones.forEach(function (z) {
      var b = el("button", null, z.label);
      b.type = "button";
      b.setAttribute("data-zone", z.id);
      b.addEventListener("click", function () { map.fitBounds(z.bounds, { animate: false }); });
      nav.appendChild(b);
    });
    box.parentNode.insertBefore(nav, box);
    return nav;
  }

  // How a layer's features are painted: a style per class, then "no answer" and
  // "too few answers" (patterns), drawn by bgeoCanvas.FeatureCanvas.
  // Styles: 0..k-1 the classes, k "no answer", k+1 "too few answers", then (modelled
  // maps) k+2..2k+1 the classes in a lighter fill, where the estimate is uncertain.
  function paintOf(spec, cls, unsure) {
    var st = spec.style, lg = spec.legend, k = lg.classes.length;
    var fills = lg.classes.map(function (c) { return c.pattern ? pattern(c.pattern) : c.color; });
    var strokes = lg.classes.map(function (c) {
      return c.outline ? { color: c.outline, width: st.outline_weight } : null;
    });
    var alphas = fills.map(function () { return st.fill_opacity; });
    fills.push(lg.no_data && lg.no_data.pattern ? pattern(lg.no_data.pattern)
      : (lg.no_data ? lg.no_data.color : "#d0d0d0"));
    fills.push(lg.suppressed ? pattern(lg.suppressed.pattern) : "#ffffff");
    strokes.push(null, null);
    alphas.push(st.fill_opacity, st.fill_opacity);
    var order = [k, k + 1], c;
    for (c = 0; c < k; c++) order.push(c);
    if (unsure && lg.cue) {
      for (c = 0; c < k; c++) {
        fills.push(fills[c]);
        strokes.push(strokes[c]);
        alphas.push(st.fill_opacity * lg.cue.factor);
        order.push(k + 2 + c);
      }
    }
    var styleOf = new Int32Array(cls.length);
    for (var i = 0; i < cls.length; i++) {
      styleOf[i] = cls[i] >= 0 ? (unsure && lg.cue && unsure[i] ? k + 2 + cls[i] : cls[i])
        : cls[i] === NO_DATA ? k : k + 1;
    }
    return {
      fills: fills, strokes: strokes, alphas: alphas, styleOf: styleOf, order: order,
      borderColor: st.color,
      weight: function (zoom) { return zoom >= 8 ? st.zoom_weight : st.weight; },
      // the fill of feature i: {color, opacity} (tests)
      fillOf: function (i) {
        var key = styleOf[i];
        return { color: typeof fills[key] === "string" ? fills[key] : "pattern", opacity: alphas[key] };
      }
    };
  }

  // A layer: its data (classes, fields, legend) and its drawing on `map`.
  function buildLayer(map, spec, state) {
    var t0 = performance.now();
    // {same_as: i}: the geometry / fields of layer i of the page (maps/_layers.share_repeated)
    var store = spec.geom.same_as !== undefined ? state.layers[spec.geom.same_as].store
      : bgeoCanvas.decodeStore(spec.geom, vlq);
    state.timings.decode += performance.now() - t0;
    var cls = Array.prototype.slice.call(vlq(spec.cls));
    var lg = spec.legend;
    var fields = spec.fields.same_as !== undefined ? state.layers[spec.fields.same_as].fields
      : spec.fields.map(function (fd) {
        var o = { label: fd.label, type: fd.type, fmt: fd.fmt, main: fd.main };
        if (fd.type === "text") o.values = texts(fd.data);
        else o.data = fd.data;
        return o;
      });
    // uncertainty cue (modelled maps): lighter fill where unsure[i] is 1
    var unsure = spec.unsure ? Array.prototype.slice.call(vlq(spec.unsure)) : null;
    var paint = paintOf(spec, cls, unsure);
    var subset = bgeoCanvas.allFeatures(store);
    var canvas = new bgeoCanvas.FeatureCanvas(store, subset, paint, { padding: 0.2 });
    var layer = { id: spec.id, name: spec.name, cls: cls, legend: lg, fields: fields,
      store: store, paint: paint, canvas: canvas, group: canvas, insets: [],
      nFeatures: store.n, nDrawn: subset.length, highlight: spec.style.highlight,
      unsure: unsure, interactive: spec.style.interactive !== false, style: spec.style };
    layer.weight = function () { return paint.weight(map.getZoom()); };
    var legend = legendControl(layer, map);
    canvas.on("add", function () {
      legend.addTo(map);
      layer.insets.forEach(function (c) { if (c._bgeoMap) c.addTo(c._bgeoMap); });
    });
    canvas.on("remove", function () {
      legend.remove();
      layer.insets.forEach(function (c) { c.remove(); });
      state.hover.hide();
    });
    layer.legendControl = legend;
    state.timings.build += performance.now() - t0;
    state.layers.push(layer);
    return layer;
  }

  // The tooltip of every map of the page (main map and insets): one box in the
  // map area, placed above the pointer; the hovered territory is outlined.
  function hoverBox(state, box) {
    var tip = el("div", "bgeo-tip");
    tip.setAttribute("role", "tooltip");
    tip.hidden = true;
    box.appendChild(tip);
    var current = { map: null, layer: null, index: -1, outline: null };
    function hide() {
      tip.hidden = true;
      if (current.outline) current.outline.remove();
      current = { map: null, layer: null, index: -1, outline: null };
    }
    function show(map, layer, i, ev) {
      if (current.layer !== layer || current.index !== i || current.map !== map) {
        if (current.outline) current.outline.remove();
        tip.textContent = "";
        tip.appendChild(tooltipNode(layer, i));
        tip.hidden = false;
        if (!map.getPane("bgeoHover")) map.createPane("bgeoHover").style.zIndex = 460;  // over views
        var outline = L.polygon(bgeoCanvas.latLngsOf(layer.store, i), {
          renderer: map._bgeoSvg || (map._bgeoSvg = L.svg({ padding: 0.2, pane: "bgeoHover" })),
          interactive: false, fill: false, color: layer.highlight, weight: 2.5
        }).addTo(map);
        current = { map: map, layer: layer, index: i, outline: outline };
      }
      var r = box.getBoundingClientRect(), w = tip.offsetWidth, h = tip.offsetHeight;
      var x = ev.clientX - r.left, y = ev.clientY - r.top;
      var left = Math.max(4, Math.min(r.width - w - 4, x - w / 2));
      var top = y - h - 14 >= 0 ? y - h - 14 : Math.min(r.height - h - 4, y + 18);
      tip.style.left = left + "px";
      tip.style.top = Math.max(0, top) + "px";
    }
    // Hit-test the visible layers of `map`, topmost first.
    function watch(map, layersOf) {
      function move(e) {
        if ((map.dragging && map.dragging.moving()) || map._animatingZoom) return;
        var ls = layersOf();
        for (var j = ls.length - 1; j >= 0; j--) {
          if (ls[j].layer.interactive === false) continue;
          var i = ls[j].canvas.hit(e.layerPoint);
          if (i >= 0) { show(map, ls[j].layer, i, e.originalEvent); return; }
        }
        hide();
      }
      map.on("mousemove", move);
      map.on("click", function (e) { if (e.originalEvent) move(e); });
      map.on("mouseout movestart zoomstart", hide);
    }
    return { watch: watch, hide: hide, node: tip };
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
  // formula gets a leading apostrophe (the rule of barometre_geo._tables.neutralise).
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

  // French labels of Leaflet's own controls (the page is lang="fr").
  function frenchControls(map) {
    if (map.zoomControl) map.zoomControl.remove();
    map.zoomControl = L.control.zoom({ zoomInTitle: "Zoom avant", zoomOutTitle: "Zoom arrière" });
    map.zoomControl.addTo(map);
    if (map.attributionControl) {
      var prefix = el("a", null, "Leaflet");
      prefix.href = "https://leafletjs.com";
      prefix.title = "Bibliothèque JavaScript de cartes interactives";
      prefix.setAttribute("hreflang", "en");
      map.attributionControl.setPrefix(prefix.outerHTML);
    }
    var c = map.getContainer();
    c.setAttribute("aria-label", "Carte interactive : flèches pour la déplacer, + et − pour zoomer");
    c.setAttribute("aria-roledescription", "carte");
  }

  // Draw the page in short tasks, so that it answers a click or a key at once: the
  // view is set before any layer is drawn (one drawing, not two), the main layers
  // come first, then the table, the insets and the rest, each in its own task.
  function draw(map, data) {
    var state = window.__bgeo = { ready: false, map: map, layers: [], format: frInt,
      insets: [], timings: { start: performance.now(), decode: 0, build: 0, add: 0 } };
    var box = map.getContainer().closest(".bgeo-mapbox") || map.getContainer().parentNode;
    var page = window.bgeoPage;
    state.hover = hoverBox(state, box);
    frenchControls(map);
    var home = data.zones.length ? data.zones[0].bounds : data.bounds;
    map.fitBounds(home, { animate: false });
    map.setMinZoom(Math.max(2, map.getZoom() - 3));
    state.home = home;
    var start = page ? page.start(state, data) : null;  // ?territoire=: open the map there
    var views = data.views && window.bgeoViews;
    if (!start && views) start = state.viewStart = views.start(data);  // ?structure=: its view
    if (start) map.fitBounds(start, { animate: false });
    var tiles = [];
    map.eachLayer(function (l) { if (l instanceof L.TileLayer) tiles.push(l); });
    var overlays = {}, steps = [];
    data.layers.forEach(function (spec, j) {
      steps.push(function () {
        var layer = buildLayer(map, spec, state);
        var t1 = performance.now();
        if (!data.modes || j === 0) layer.canvas.addTo(map);  // modes: one view at a time
        state.timings.add += performance.now() - t1;
        overlays[spec.name] = layer.canvas;
      });
    });
    steps.push(function () {
      state.hover.watch(map, function () {
        return state.layers.filter(function (l) { return map.hasLayer(l.canvas); })
          .map(function (l) { return { layer: l, canvas: l.canvas }; });
      });
      if (data.modes) {  // the views as radio buttons, the basemap as a checkbox
        var bm = {};
        tiles.forEach(function (t) { bm[data.basemap_label] = t; });
        var ctl = L.control.layers(overlays, bm, { collapsed: map.getSize().x < NARROW,
          position: "topright" });
        ctl.addTo(map);
        ctl.getContainer().setAttribute("aria-label", "Mode d'affichage de la carte");
        state.modes = overlays;
        state.layersControl = ctl;
      } else if (data.layers.length > 1 || tiles.length) {
        var base = {};
        tiles.forEach(function (t) { base[data.basemap_label] = t; });
        // folded (an icon) on narrow maps, and when it only switches the basemap and one layer
        var folded = map.getSize().x < NARROW || data.layers.length < 2;
        var layers = L.control.layers(base, overlays, { collapsed: folded, position: "topright" });
        layers.addTo(map);
        var toggle = layers.getContainer().querySelector(".leaflet-control-layers-toggle");
        if (toggle) { toggle.title = "Fond de carte et couches"; toggle.setAttribute("aria-label", toggle.title); }
        state.layersControl = layers;
      }
      if (data.zones.length > 1) zonesBar(map, data.zones, box);
    });
    if (views) steps.push(function () { views.init(state, data); });
    steps.push(function () {
      var root = document.getElementById(data.table_id);
      if (root && state.layers[0]) buildTable(root, state.layers[0], data.page_size);
    });
    if (page) page.steps(state, data, tiles).forEach(function (f) { steps.push(f); });
    function next() {
      var step = steps.shift();
      if (step) {
        step();
        setTimeout(next, 0);
        return;
      }
      requestAnimationFrame(function () {
        requestAnimationFrame(function () {
          state.nFeatures = state.layers.reduce(function (s, l) { return s + l.nFeatures; }, 0);
          state.readyAt = performance.now();
          state.ready = true;
          if (page) page.ready(state);
        });
      });
    }
    next();
    return state;
  }

  window.bgeo = { draw: draw, format: fmt, vlq: vlq, el: el, hoverBox: hoverBox, fold: fold,
    csv: csvText, tooltip: tooltipNode };
})();
