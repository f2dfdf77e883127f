/* barometre-geo map drawing: every polygon of a layer on one canvas, from typed arrays.
 *
 * The geometry is decoded once into a shared "store": the vertices projected to
 * Web Mercator pixels at zoom 0 (Leaflet's EPSG:3857, a 256-pixel world) in a
 * Float64Array, ring and feature offsets, and each feature's bounding box. No
 * Leaflet object per feature: a national commune map keeps ~20 MB of arrays
 * instead of 35,000 L.Polygon objects, and is drawn in tens of milliseconds.
 *
 * FeatureCanvas extends L.Canvas (which positions the canvas, follows pans and
 * zoom animations, handles high-DPI screens) and draws the features of a subset
 * batched by style: the features of a class go into the context's path, painted
 * every few hundred operations (non-zero rule: rings are oriented by the server,
 * so holes stay holes and enclaves stay filled). Vertices closer than 0.8 pixel to
 * the previous one drawn are skipped at each zoom.
 * Hit-testing (hover, click) uses a grid of feature boxes built on first use, then
 * a point-in-polygon test (even-odd, holes included). */
(function () {
  "use strict";
  var D = Math.PI / 180, MAXLAT = 85.0511287798;
  // A vertex closer than this (pixels, |dx| + |dy|) to the last one drawn is skipped;
  // the path is painted every FLUSH operations.
  var MIN_STEP = 0.8, FLUSH = 400;

  // Zoom-0 pixel coordinates of L.CRS.EPSG3857 (SphericalMercator + its transformation).
  function projX(lng) { return 256 * (0.5 + lng / 360); }
  function projY(lat) {
    lat = Math.max(Math.min(MAXLAT, lat), -MAXLAT);
    var s = Math.sin(lat * D);
    return 256 * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI));
  }
  function unprojLat(y) { return (2 * Math.atan(Math.exp((0.5 - y / 256) * 2 * Math.PI)) - Math.PI / 2) / D; }
  function unprojLng(x) { return (x / 256 - 0.5) * 360; }

  // Decode the VLQ geometry of a layer (see maps/_geometry.py) into a store.
  function decodeStore(geom, vlq) {
    var d = vlq(geom.c), rs = vlq(geom.r), fr = vlq(geom.f), q = geom.q;
    var nF = fr.length, nR = rs.length, nV = d.length >> 1;
    var xy = new Float64Array(nV * 2), ringStart = new Int32Array(nR + 1);
    var featRing = new Int32Array(nF + 1), bbox = new Float64Array(nF * 4);
    var k = 0, v = 0, ring = 0, lat = 0, lng = 0;
    for (var f = 0; f < nF; f++) {
      featRing[f] = ring;
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (var r = 0; r < fr[f]; r++, ring++) {
        ringStart[ring] = v;
        for (var p = 0; p < rs[ring]; p++, v++) {
          lat += d[k++]; lng += d[k++];
          var x = projX(lng * q), y = projY(lat * q);
          xy[2 * v] = x; xy[2 * v + 1] = y;
          if (x < x0) x0 = x; if (x > x1) x1 = x;
          if (y < y0) y0 = y; if (y > y1) y1 = y;
        }
      }
      bbox[4 * f] = x0; bbox[4 * f + 1] = y0; bbox[4 * f + 2] = x1; bbox[4 * f + 3] = y1;
    }
    featRing[nF] = ring; ringStart[nR] = v;
    return { xy: xy, ringStart: ringStart, featRing: featRing, bbox: bbox, n: nF, nVertices: nV };
  }

  // Features of the store whose box centre lies in [west, south, east, north] (degrees).
  function featuresIn(store, box) {
    var x0 = projX(box[0]), x1 = projX(box[2]), y0 = projY(box[3]), y1 = projY(box[1]);
    var out = [], b = store.bbox;
    for (var f = 0; f < store.n; f++) {
      if (store.featRing[f + 1] === store.featRing[f]) continue;
      var cx = (b[4 * f] + b[4 * f + 2]) / 2, cy = (b[4 * f + 1] + b[4 * f + 3]) / 2;
      if (cx >= x0 && cx <= x1 && cy >= y0 && cy <= y1) out.push(f);
    }
    return Int32Array.from(out);
  }

  // Features of the store whose box intersects [west, south, east, north] (degrees).
  function featuresTouching(store, box) {
    var x0 = projX(box[0]), x1 = projX(box[2]), y0 = projY(box[3]), y1 = projY(box[1]);
    var out = [], b = store.bbox;
    for (var f = 0; f < store.n; f++) {
      if (store.featRing[f + 1] === store.featRing[f]) continue;
      if (b[4 * f] <= x1 && b[4 * f + 2] >= x0 && b[4 * f + 1] <= y1 && b[4 * f + 3] >= y0) out.push(f);
    }
    return Int32Array.from(out);
  }

  function allFeatures(store) {
    var out = [];
    for (var f = 0; f < store.n; f++) if (store.featRing[f + 1] > store.featRing[f]) out.push(f);
    return Int32Array.from(out);
  }

  // Uniform grid over the boxes of `subset` (compressed rows: start offsets, items).
  function buildGrid(store, subset) {
    var b = store.bbox, n = subset.length;
    var gx0 = Infinity, gy0 = Infinity, gx1 = -Infinity, gy1 = -Infinity, i, f;
    for (i = 0; i < n; i++) {
      f = subset[i];
      gx0 = Math.min(gx0, b[4 * f]); gy0 = Math.min(gy0, b[4 * f + 1]);
      gx1 = Math.max(gx1, b[4 * f + 2]); gy1 = Math.max(gy1, b[4 * f + 3]);
    }
    var side = Math.max(1, Math.ceil(Math.sqrt(n)));
    var cw = (gx1 - gx0) / side || 1, ch = (gy1 - gy0) / side || 1;
    var counts = new Int32Array(side * side + 1);
    function cells(f, fn) {
      var a0 = Math.min(side - 1, Math.floor((b[4 * f] - gx0) / cw));
      var a1 = Math.min(side - 1, Math.floor((b[4 * f + 2] - gx0) / cw));
      var c0 = Math.min(side - 1, Math.floor((b[4 * f + 1] - gy0) / ch));
      var c1 = Math.min(side - 1, Math.floor((b[4 * f + 3] - gy0) / ch));
      for (var cy = c0; cy <= c1; cy++) for (var cx = a0; cx <= a1; cx++) fn(cy * side + cx);
    }
    for (i = 0; i < n; i++) cells(subset[i], function (c) { counts[c + 1]++; });
    for (i = 0; i < side * side; i++) counts[i + 1] += counts[i];
    var fill = counts.slice(0, side * side), items = new Int32Array(counts[side * side]);
    for (i = 0; i < n; i++) {
      f = subset[i];
      cells(f, function (c) { items[fill[c]++] = f; });
    }
    return { x0: gx0, y0: gy0, cw: cw, ch: ch, side: side, start: counts, items: items };
  }

  function insideFeature(store, f, x, y) {
    var xy = store.xy, inside = false;
    for (var r = store.featRing[f]; r < store.featRing[f + 1]; r++) {
      var s = store.ringStart[r], e = store.ringStart[r + 1];
      for (var i = s, j = e - 1; i < e; j = i++) {
        var xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
        if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
      }
    }
    return inside;
  }

  // Feature under the zoom-0 point (x, y), or -1.
  function hitTest(store, grid, x, y) {
    var cx = Math.floor((x - grid.x0) / grid.cw), cy = Math.floor((y - grid.y0) / grid.ch);
    if (cx < 0 || cy < 0 || cx >= grid.side || cy >= grid.side) return -1;
    var c = cy * grid.side + cx, b = store.bbox;
    for (var k = grid.start[c]; k < grid.start[c + 1]; k++) {
      var f = grid.items[k];
      if (x < b[4 * f] || x > b[4 * f + 2] || y < b[4 * f + 1] || y > b[4 * f + 3]) continue;
      if (insideFeature(store, f, x, y)) return f;
    }
    return -1;
  }

  // Rings of feature f as Leaflet latlngs (the hover outline).
  function latLngsOf(store, f) {
    var out = [], xy = store.xy;
    for (var r = store.featRing[f]; r < store.featRing[f + 1]; r++) {
      var ring = [];
      for (var i = store.ringStart[r]; i < store.ringStart[r + 1]; i++) {
        ring.push(L.latLng(unprojLat(xy[2 * i + 1]), unprojLng(xy[2 * i])));
      }
      out.push(ring);
    }
    return out;
  }

  /* One layer of features on its own canvas.
   * paint: {fills: [fillStyle per style], alphas: [opacity per style],
   *         strokes: [{color, width, dash (optional [on, off])} or null per style],
   *         styleOf: Int32Array (style of each feature of the store), order: [styles in draw order],
   *         weight(zoom) -> border width, borderColor,
   *         veil (optional): a fillStyle laid over the whole canvas before the features} */
  var FeatureCanvas = L.Canvas.extend({
    options: { padding: 0.2 },

    initialize: function (store, subset, paint, options) {
      L.Canvas.prototype.initialize.call(this, options);
      this._store = store;
      this._subset = subset;
      this._paint = paint;
      this._grid = null;
    },

    _initContainer: function () {
      L.Canvas.prototype._initContainer.call(this);
      // the map handles pointer events (bgeo.js hit-tests every layer itself)
      this._container.style.pointerEvents = "none";
    },

    _updatePaths: function () {
      if (this._postponeUpdatePaths) return;
      this._redraw();
    },

    _redraw: function () {
      this._redrawRequest = null;
      this._redrawBounds = null;
      this._clear();
      this._draw();
    },

    // Draw every feature of the subset in view, batched by style: the context's path
    // is filled (or stroked) every FLUSH operations — one path of 300,000 vertices
    // costs seconds to build in Chromium, chunks of a few hundred a few ms.
    _draw: function () {
      var map = this._map, b = this._bounds;
      if (!map || !b || !this._ctx) return;
      var t0 = performance.now();
      var ctx = this._ctx, st = this._store, paint = this._paint, xy = st.xy, bb = st.bbox;
      var s = Math.pow(2, map.getZoom()), po = map.getPixelOrigin();
      var ox = po.x, oy = po.y;
      var vx0 = (b.min.x + ox) / s, vy0 = (b.min.y + oy) / s, vx1 = (b.max.x + ox) / s, vy1 = (b.max.y + oy) / s;
      var groups = {}, sub = this._subset, drawn = 0, traced = 0;
      for (var k = 0; k < sub.length; k++) {
        var f = sub[k];
        if (bb[4 * f] > vx1 || bb[4 * f + 2] < vx0 || bb[4 * f + 1] > vy1 || bb[4 * f + 3] < vy0) continue;
        var key = paint.styleOf[f];
        (groups[key] || (groups[key] = [])).push(f);
        drawn++;
        if (st.featRing[f + 1] > st.featRing[f] && paint.fills[key] !== undefined) traced++;
      }
      function trace(f) {  // rings of f into the current path; returns the operations
        var ops = 0;
        for (var r = st.featRing[f]; r < st.featRing[f + 1]; r++) {
          var i = st.ringStart[r], e = st.ringStart[r + 1], first = i;
          var px = xy[2 * i] * s - ox, py = xy[2 * i + 1] * s - oy;
          ctx.moveTo(px, py);
          for (i++; i < e; i++) {
            var qx = xy[2 * i] * s - ox, qy = xy[2 * i + 1] * s - oy;
            if (Math.abs(qx - px) + Math.abs(qy - py) < MIN_STEP) continue;
            ctx.lineTo(qx, qy);
            px = qx; py = qy;
          }
          ctx.closePath();
          ops += e - first + 1;
        }
        return ops + 1;
      }
      function pass(key, paintIt) {
        var list = groups[key], ops = 0;
        ctx.beginPath();
        for (var j = 0; j < list.length; j++) {
          ops += trace(list[j]);
          if (ops > FLUSH) { paintIt(); ctx.beginPath(); ops = 0; }
        }
        paintIt();
      }
      var weight = paint.weight(map.getZoom()), order = paint.order.filter(function (key) {
        return groups[key];
      });
      ctx.save();
      ctx.lineJoin = "round";
      if (paint.veil) {  // e.g. a view: the map under it dimmed
        ctx.fillStyle = paint.veil;
        ctx.fillRect(b.min.x, b.min.y, b.max.x - b.min.x, b.max.y - b.min.y);
      }
      order.forEach(function (key) {
        if (paint.fills[key] === null) return;
        ctx.globalAlpha = paint.alphas[key];
        ctx.fillStyle = paint.fills[key];
        pass(key, function () { ctx.fill(); });
      });
      ctx.globalAlpha = 1;
      if (weight > 0) {
        ctx.strokeStyle = paint.borderColor;
        ctx.lineWidth = weight;
        order.forEach(function (key) {
          if (!paint.strokes[key]) pass(key, function () { ctx.stroke(); });
        });
      }
      order.forEach(function (key) {
        var line = paint.strokes[key];
        if (!line) return;
        ctx.strokeStyle = line.color;
        ctx.lineWidth = line.width;
        ctx.setLineDash(line.dash || []);
        pass(key, function () { ctx.stroke(); });
      });
      ctx.restore();
      this.nInView = drawn;
      this.nPainted = traced;  // features of the view with a ring and a style (tests)
      this.drawMs = performance.now() - t0;
      this.fire("drawn");
    },

    // Feature under a layer point of the map, or -1.
    hit: function (layerPoint) {
      if (!this._map) return -1;
      if (!this._grid) this._grid = buildGrid(this._store, this._subset);
      var s = Math.pow(2, this._map.getZoom()), po = this._map.getPixelOrigin();
      return hitTest(this._store, this._grid, (layerPoint.x + po.x) / s, (layerPoint.y + po.y) / s);
    },

    _onMouseMove: function () {},
    _onClick: function () {},
    _handleMouseOut: function () {}
  });

  // Bounds of feature f as Leaflet latlng bounds.
  function boundsOf(store, f) {
    var b = store.bbox;
    return L.latLngBounds([unprojLat(b[4 * f + 3]), unprojLng(b[4 * f])],
      [unprojLat(b[4 * f + 1]), unprojLng(b[4 * f + 2])]);
  }

  window.bgeoCanvas = {
    boundsOf: boundsOf,
    decodeStore: decodeStore,
    featuresIn: featuresIn,
    featuresTouching: featuresTouching,
    allFeatures: allFeatures,
    latLngsOf: latLngsOf,
    FeatureCanvas: FeatureCanvas,
    project: function (lat, lng) { return [projX(lng), projY(lat)]; }
  };
})();
