/* barometre-geo map views (inlined only in pages that have views or a compact legend).
 *
 * compactLegend: a long legend (a class per structure) that folds (folded at first on
 * maps under 600 px wide), filters its entries with a search box, and scrolls within the
 * height the map leaves it, so it never runs past the map.
 *
 * init: one view per group of territories (a structure): a selector above the map, the
 * legend entries as buttons, ?<param>=<key> in the URL (read at load, rewritten on each
 * choice), the map zoomed on the view with its territories outlined, the features of its
 * tables dashed and the others dimmed, and a panel under the map (figures, downloads,
 * tables). The view is drawn by bgeoCanvas.FeatureCanvas (bgeo-canvas.js) from the
 * layer's own store and fills, over a white veil, in a pane above the map's layers;
 * tooltips stay those of the layer under it. start: the bounds of the view asked by the
 * URL, so that the map opens there (bgeo.js). Text from data goes through textContent only. */
(function () {
  "use strict";
  var B = window.bgeo, NARROW = 600, active = null;

  function el(tag, cls, text) { return B.el(tag, cls, text); }

  function positions(s) {  // delta-coded VLQ -> sorted feature positions
    var d = B.vlq(s), out = new Array(d.length), k = 0;
    for (var i = 0; i < d.length; i++) { k += d[i]; out[i] = k; }
    return out;
  }

  /* ---------------------------------------------------------------- legend */

  function fitLegends(map) {
    if (!map) return;
    var box = map.getContainer().getBoundingClientRect();
    var corner = map._controlCorners.bottomleft, top = map._controlCorners.topleft;
    var tops = top.getBoundingClientRect();
    var used = tops.height > 0 ? tops.bottom - box.top : 0;
    var compact = [], fixed = 0;  // long legends share what the others leave
    Array.prototype.forEach.call(corner.children, function (c) {
      if (c.classList.contains("bgeo-legend-long") && !c.classList.contains("bgeo-folded")) {
        compact.push(c);
      } else {
        fixed += c.getBoundingClientRect().height + 10;
      }
    });
    var avail = Math.max(60, box.height - used - fixed - 20 - 10 * compact.length);
    compact.forEach(function (c) {
      c.style.maxHeight = Math.floor(avail / compact.length) + "px";
      c.style.maxWidth = Math.min(320, Math.floor(box.width * 0.85)) + "px";
    });
  }

  function compactLegend(box, layer, map) {
    box.classList.add("bgeo-legend-compact");
    var title = box.querySelector(".bgeo-legend-title"), ul = box.querySelector("ul");
    var n = layer.legend.classes.length, long = n > 8;
    if (long) box.classList.add("bgeo-legend-long");
    var toggle = el("button", "bgeo-legend-toggle");
    toggle.type = "button";
    toggle.appendChild(el("span", "bgeo-legend-title", layer.legend.title));
    if (long) toggle.appendChild(el("span", "bgeo-legend-n", " (" + n + ")"));
    ul.id = "bgeo-legend-list-" + layer.id;
    ul.className = "bgeo-legend-scroll";
    toggle.setAttribute("aria-controls", ul.id);
    box.replaceChild(toggle, title);
    function setFolded(folded) {
      box.classList.toggle("bgeo-folded", folded);
      toggle.setAttribute("aria-expanded", folded ? "false" : "true");
      toggle.title = folded ? "Afficher la légende" : "Replier la légende";
      fitLegends(map);
    }
    toggle.addEventListener("click", function () {
      setFolded(!box.classList.contains("bgeo-folded"));
    });
    var narrow = map && map.getContainer().getBoundingClientRect().width < NARROW;
    setFolded(!!narrow);
    if (!long) return;
    var search = el("input", "bgeo-legend-search");
    search.type = "search";
    search.placeholder = "Rechercher…";
    search.setAttribute("aria-label", "Rechercher dans la légende : " + layer.legend.title);
    box.insertBefore(search, ul);
    var empty = el("p", "bgeo-legend-none", "Aucune entrée");
    empty.hidden = true;
    box.insertBefore(empty, ul.nextSibling);
    search.addEventListener("input", function () {
      var q = B.fold(search.value.trim()), shown = 0;
      Array.prototype.forEach.call(ul.children, function (li) {
        var hit = !q || B.fold(li.textContent).indexOf(q) >= 0;
        li.hidden = !hit;
        shown += hit;
      });
      empty.hidden = shown > 0;
    });
    if (active && active.layer === layer) pickable(box);
    if (map && !map._bgeoFit) {
      map._bgeoFit = true;
      map.on("resize layeradd layerremove", function () {
        requestAnimationFrame(function () { fitLegends(map); });
      });
    }
    requestAnimationFrame(function () { fitLegends(map); });
  }

  /* ---------------------------------------------------------------- views */

  function pickable(box) {  // legend entries of a view become buttons that open it
    if (!active) return;
    Array.prototype.forEach.call(box.querySelectorAll("li[data-cls]"), function (li) {
      var v = active.byCls[li.getAttribute("data-cls")];
      var label = li.querySelector(".bgeo-legend-label");
      if (!v || !label || label.tagName === "BUTTON") return;
      var b = el("button", "bgeo-legend-label bgeo-legend-pick", label.textContent);
      b.type = "button";
      b.setAttribute("data-view", v.key);
      b.addEventListener("click", function () { select(v.key); });
      li.replaceChild(b, label);
    });
    markLegend();
  }

  function markLegend() {
    var box = active.layer.legendBox;
    if (!box) return;
    Array.prototype.forEach.call(box.querySelectorAll("[data-view]"), function (b) {
      if (active.current && b.getAttribute("data-view") === active.current.key) {
        b.setAttribute("aria-current", "true");
        var list = b.closest("ul"), li = b.closest("li");  // scroll the list, not the page
        if (list && li) list.scrollTop = li.offsetTop - list.offsetTop - list.clientHeight / 3;
      } else {
        b.removeAttribute("aria-current");
      }
    });
  }

  function setUrl(key) {
    try {
      var u = new URL(window.location.href);
      if (key) u.searchParams.set(active.spec.param, key);
      else u.searchParams.delete(active.spec.param);
      window.history.replaceState(null, "", u.href);
      return u.href;
    } catch (e) {  // a sandboxed frame may refuse: the view still shows
      return "";
    }
  }

  // The view is drawn over a white veil in its own pane: its territories (outlined) and
  // the features of its tables (dashed), with the layer's store and fills; the map under
  // it stays as it is (nothing of the 35,000 communes is restyled). The canvas lets the
  // pointer through: hovering a territory shows the layer's tooltip.
  function overlay(v) {
    if (active.overlay) { active.map.removeLayer(active.overlay); active.overlay = null; }
    if (!v) { active.onoverlay(null); return; }
    var map = active.map, layer = active.layer, base = layer.paint, k = base.fills.length;
    if (!map.getPane("bgeoView")) map.createPane("bgeoView").style.zIndex = 450;
    // styles 0..k-1: a member in its layer's fill, outlined; k..2k-1: a related one, dashed
    var fills = base.fills.concat(base.fills), alphas = [], strokes = [], order = [];
    for (var j = 0; j < 2 * k; j++) {
      alphas.push(0.95);
      strokes.push(j < k ? { color: "#1e1e1e", width: 0.6 } : { color: "#1e1e1e", width: 1.6, dash: [4, 3] });
      order.push(j);
    }
    var styleOf = new Int32Array(base.styleOf.length), subset = [];
    v.memberList.forEach(function (i) { styleOf[i] = base.styleOf[i]; subset.push(i); });
    v.relatedList.forEach(function (i) {
      if (v.memberSet.has(i)) return;
      styleOf[i] = k + base.styleOf[i];
      subset.push(i);
    });
    var paint = { fills: fills, alphas: alphas, strokes: strokes, styleOf: styleOf, order: order,
      borderColor: "#1e1e1e", weight: function () { return 0; }, veil: "rgba(255, 255, 255, 0.72)" };
    var c = new bgeoCanvas.FeatureCanvas(layer.store, Int32Array.from(subset), paint,
      { pane: "bgeoView", padding: 0.2 });
    c.addTo(map);
    active.overlay = c;
    active.onoverlay(c);
  }

  function table(t) {
    var wrap = el("div", "bgeo-view-table");
    var tab = el("table");
    tab.appendChild(el("caption", null, t.title + " (" + t.rows.length + ")"));
    var thead = el("thead"), hr = el("tr");
    t.columns.forEach(function (c) {
      var th = el("th", null, c);
      th.scope = "col";
      hr.appendChild(th);
    });
    thead.appendChild(hr);
    tab.appendChild(thead);
    var tbody = el("tbody");
    t.rows.forEach(function (row, r) {
      var tr = el("tr");
      row.forEach(function (cell, j) {
        var td = el(j === 0 ? "th" : "td", t.numeric[j] ? "bgeo-num" : null, cell);
        if (j === 0) td.scope = "row";
        tr.appendChild(td);
      });
      var f = t.features[r];
      if (f >= 0) {
        tr.tabIndex = 0;
        tr.title = "Centrer la carte sur ce territoire";
        var go = function () {
          active.map.fitBounds(bgeoCanvas.boundsOf(active.layer.store, f), { maxZoom: 11, animate: false });
        };
        tr.addEventListener("click", go);
        tr.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
      }
      tbody.appendChild(tr);
    });
    tab.appendChild(tbody);
    var scroll = el("div", "bgeo-table-scroll");
    scroll.appendChild(tab);
    wrap.appendChild(scroll);
    return wrap;
  }

  function panel(v, href) {
    var p = active.panel;
    p.textContent = "";
    p.hidden = false;
    p.appendChild(el("h2", null, v.label));
    if (v.figures.length) {
      var dl = el("dl", "bgeo-view-figures");
      v.figures.forEach(function (f) {
        dl.appendChild(el("dt", null, f[0]));
        dl.appendChild(el("dd", null, f[1]));
      });
      p.appendChild(dl);
    }
    if (v.links.length) {
      var ul = el("ul", "bgeo-view-links");
      v.links.forEach(function (l) {
        var li = el("li"), a = el("a", null, l[0]);
        a.href = l[1];
        if (/\.(csv|xlsx)$/i.test(l[1])) a.setAttribute("download", "");
        li.appendChild(a);
        ul.appendChild(li);
      });
      p.appendChild(ul);
    }
    p.appendChild(el("p", "bgeo-view-key", "Sur la carte : son territoire est cerné de noir, " +
      active.spec.related_label.toLowerCase() + " en tirets ; le reste est estompé."));
    v.notes.forEach(function (n) { p.appendChild(el("p", "bgeo-view-note", n)); });
    v.tables.forEach(function (t) { p.appendChild(table(t)); });
    if (href) {
      var link = el("p", "bgeo-view-link");
      var a = el("a", null, "Lien direct vers cette vue (à partager ou à intégrer)");
      a.href = href;
      link.appendChild(a);
      p.appendChild(link);
    }
  }

  function select(key, fit) {
    var v = key ? active.byKey[key] : null;
    active.select.value = v ? v.key : "";
    if (!v) {
      active.current = null;
      overlay(null);
      active.panel.hidden = !key;
      active.panel.textContent = "";
      if (key) {
        active.panel.appendChild(el("p", "bgeo-view-unknown",
          active.spec.label + " inconnue dans cette carte : « " + key + " ». Choisissez-en une dans la liste."));
      }
      setUrl(null);
      markLegend();
      return;
    }
    if (!v.memberSet) {
      v.memberList = positions(v.members);
      v.relatedList = positions(v.related);
      v.memberSet = new Set(v.memberList);
    }
    active.current = v;
    overlay(v);
    if (v.bounds && fit !== false) active.map.fitBounds(v.bounds, { padding: [16, 16], animate: false });
    panel(v, setUrl(v.key));
    markLegend();
    active.onselect(v.key);
  }

  function init(state, data) {
    var spec = data.views, layer = state.layers[0], map = state.map;
    var byKey = {}, byCls = {};
    spec.views.forEach(function (v) {
      byKey[v.key] = v;
      if (v.cls >= 0) byCls[v.cls] = v;
    });
    var mapbox = map.getContainer().closest(".bgeo-mapbox");
    var bar = el("div", "bgeo-views");
    var lab = el("label", null, spec.label + " : ");
    var sel = el("select");
    sel.id = "bgeo-view-select";
    lab.htmlFor = sel.id;
    var all = el("option", null, spec.all_label);
    all.value = "";
    sel.appendChild(all);
    spec.views.slice().sort(function (a, b) { return a.label.localeCompare(b.label, "fr"); })
      .forEach(function (v) {
        var o = el("option", null, v.label);
        o.value = v.key;
        sel.appendChild(o);
      });
    bar.appendChild(lab);
    bar.appendChild(sel);
    mapbox.parentNode.insertBefore(bar, mapbox);
    var pane = el("section", "bgeo-view-panel");
    pane.setAttribute("aria-live", "polite");
    pane.setAttribute("aria-label", spec.label + " choisie");
    pane.hidden = true;
    mapbox.parentNode.insertBefore(pane, mapbox.nextSibling);
    active = { spec: spec, layer: layer, map: map, byKey: byKey, byCls: byCls,
      select: sel, panel: pane, current: null,
      onselect: function (key) { state.view = key; },
      onoverlay: function (c) { state.views.canvas = c; } };
    sel.addEventListener("change", function () { select(sel.value); });
    if (layer.legendBox) pickable(layer.legendBox);
    layer.group.on("add", function () {
      setTimeout(function () { if (layer.legendBox) pickable(layer.legendBox); }, 0);
    });
    state.views = { select: select, keys: Object.keys(byKey), canvas: null };
    var wanted = wantedKey(spec);
    // the map already opened on the view (start) or on ?territoire=: no second move
    if (wanted) select(wanted, !(state.viewStart || (state.territoire && state.territoire.bounds)));
  }

  function wantedKey(spec) {
    try { return new URL(window.location.href).searchParams.get(spec.param); } catch (e) { return null; }
  }

  // Bounds of the view the URL asks for (the map opens there), or null.
  function start(data) {
    var key = wantedKey(data.views), found = null;
    if (!key) return null;
    data.views.views.forEach(function (v) { if (v.key === key) found = v; });
    return found && found.bounds ? found.bounds : null;
  }

  window.bgeoViews = { init: init, start: start, compactLegend: compactLegend, fit: fitLegends };
})();
