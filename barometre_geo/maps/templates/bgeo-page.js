/* barometre-geo map page around the map: insets (overseas départements,
 * Île-de-France), deep links (?territoire=), the map-only variant (?embed=carte),
 * the page height posted to a host page that embeds it in an <iframe>, and the
 * embedding code built from the address the page is published at. */
(function () {
  "use strict";
  var MESSAGE = "barometre-geo-height";

  function status(text) {
    var p = document.getElementById("bgeo-status");
    if (!p) return;
    p.textContent = text;
    p.hidden = !text;
  }

  // One small Leaflet map per inset, drawing the features of the main layers that
  // belong to it (same store, same classes); hover works, a click or the caption
  // button shows the territory on the main map. One task per inset.
  function insetSteps(state, data, tiles) {
    return (data.insets || []).map(function (ins) { return function () { inset(state, ins, tiles); }; });
  }

  function inset(state, ins, tiles) {
    var fig = document.querySelector('.bgeo-inset[data-inset="' + ins.id + '"]');
    if (!fig) return;
    var div = fig.querySelector(".bgeo-inset-map");
    var m = L.map(div, {
      zoomControl: false, attributionControl: false, dragging: false, touchZoom: false,
      scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false,
      zoomSnap: 0, zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false,
      inertia: false
    });
    tiles.forEach(function (t) { L.tileLayer(t._url, L.extend({}, t.options)).addTo(m); });
    function fit() { m.fitBounds(ins.bounds, { animate: false, padding: [3, 3] }); }
    fit();
    var entries = [];
    state.layers.forEach(function (layer) {
      var subset = ins.select === "touch"
        ? bgeoCanvas.featuresTouching(layer.store, ins.box)
        : bgeoCanvas.featuresIn(layer.store, ins.box);
      var c = new bgeoCanvas.FeatureCanvas(layer.store, subset, layer.paint, { padding: 0.1 });
      c._bgeoMap = m;
      layer.insets.push(c);
      if (state.map.hasLayer(layer.canvas)) c.addTo(m);
      entries.push({ layer: layer, canvas: c, n: subset.length });
    });
    state.hover.watch(m, function () {
      return entries.filter(function (e) { return m.hasLayer(e.canvas); });
    });
    L.control.scale({ imperial: false, maxWidth: 56, position: "bottomright" }).addTo(m);
    function show() { state.map.fitBounds(ins.zoom || ins.bounds, { animate: false }); }
    var button = fig.querySelector("button");
    if (button) button.addEventListener("click", show);
    m.on("click", show);
    if (window.ResizeObserver) {
      new ResizeObserver(function () { m.invalidateSize({ animate: false }); fit(); }).observe(div);
    }
    state.insets.push({ id: ins.id, label: ins.label, map: m, layers: entries });
  }

  // ?territoire=84 (région), dep-69 (département), reg-84, 971 (an overseas
  // département), metropole. A bare code is a région; when it is also a
  // département code, the status line gives that other reading and its link.
  function resolve(query, data) {
    var q = query.trim(), low = q.toLowerCase(), places = data.places || {};
    var zones = {};
    data.zones.forEach(function (z) { zones[z.id] = z; });
    var examples = "Exemples : ?territoire=84 (région), ?territoire=dep-69 (département), " +
      "?territoire=971 (Guadeloupe).";
    if (low === "metropole" || low === "france") {
      var z = zones.metropole || data.zones[0];
      return z ? { kind: "zone", code: z.id, label: z.label, bounds: z.bounds } : { error: examples };
    }
    var m = /^(reg|region|dep|departement)-(.+)$/.exec(low);
    var kind = m ? (m[1].indexOf("reg") === 0 ? "reg" : "dep") : null;
    var code = (m ? m[2] : low).toUpperCase();
    function place(k, c) {
      var p = (places[k] || {})[c];
      if (!p) return null;
      return { kind: k, code: c, label: p[0], bounds: [[p[1], p[2]], [p[3], p[4]]] };
    }
    if (!kind && zones[code] && code !== "metropole") {
      return { kind: "zone", code: code, label: zones[code].label, bounds: zones[code].bounds };
    }
    var found = kind ? place(kind, code) : place("reg", code) || place("dep", code);
    if (!found) {
      return { error: "Territoire « " + q + " » introuvable sur cette carte : la carte montre " +
        "la France entière. " + examples };
    }
    if (!kind && found.kind === "reg" && place("dep", code)) {
      found.other = place("dep", code);
    }
    return found;
  }

  function describe(r) {
    var what = r.kind === "reg" ? r.label + " (région " + r.code + ")"
      : r.kind === "dep" ? r.label + " (département " + r.code + ")" : r.label;
    var text = "Carte centrée sur : " + what + ".";
    if (r.other) {
      text += " « " + r.code + " » désigne aussi un département, " + r.other.label +
        " : ?territoire=dep-" + r.code + ".";
    }
    return text;
  }

  // The deep link's bounds (the map opens there) and the status line.
  function start(state, data) {
    var params = new URLSearchParams(location.search), q = params.get("territoire");
    var embed = params.get("embed");
    var notes = [], bounds = null;
    if (embed !== null && embed !== "carte") {
      notes.push("Paramètre embed=« " + embed + " » inconnu : embed=carte affiche la carte seule.");
    }
    if (q !== null) {
      var r = resolve(q, data);
      state.territoire = r;
      if (r.bounds) {
        bounds = r.bounds;
        notes.unshift(describe(r));
      } else {
        notes.unshift(r.error);
      }
    }
    status(notes.join(" "));
    return bounds;
  }

  // Height of the page for the host of an <iframe> (assets/barometre-geo-integration.js).
  var lastHeight = 0;
  function postHeight() {
    if (window.parent === window) return;
    var h = Math.ceil(document.body.getBoundingClientRect().height);
    if (!h || h === lastHeight) return;
    lastHeight = h;
    window.parent.postMessage({ type: MESSAGE, height: h }, "*");
  }

  // Embedding code from the address where the page is published.
  function embedHelp() {
    var root = document.getElementById("bgeo-embed-code");
    if (!root) return;
    var el = window.bgeo.el;
    if (!/^https?:$/.test(location.protocol)) {
      root.appendChild(el("p", null, "Publiez d’abord ce dossier de cartes sur votre site : " +
        "cette rubrique donnera alors le code d’intégration avec l’adresse publique de la carte " +
        "(ou relancez barometre-geo build avec --base-url)."));
      return;
    }
    var base = location.href.split("#")[0].split("?")[0];
    var params = new URLSearchParams(location.search);
    var terr = params.get("territoire");
    var folder = base.slice(0, base.lastIndexOf("/") + 1);
    var title = document.title;
    [["Page complète (carte, tableau des données)", ""], ["Carte seule", "embed=carte"]]
      .forEach(function (v, j) {
        var query = [v[1], terr ? "territoire=" + encodeURIComponent(terr) : ""]
          .filter(Boolean).join("&");
        var src = base + (query ? "?" + query : "");
        var iframe = document.createElement("iframe");
        iframe.setAttribute("src", src);
        iframe.setAttribute("title", title);
        iframe.setAttribute("width", "100%");
        iframe.setAttribute("height", v[1] ? "560" : "900");
        iframe.setAttribute("loading", "lazy");
        iframe.setAttribute("data-barometre-geo", "");
        var code = iframe.outerHTML + "\n<" + "script src=\"" + folder +
          "assets/barometre-geo-integration.js\" defer><\/script>";
        var id = "bgeo-embed-" + j;
        var lab = el("label", null, v[0]);
        lab.htmlFor = id;
        var ta = el("textarea");
        ta.id = id; ta.rows = 3; ta.readOnly = true; ta.value = code;
        root.appendChild(lab);
        root.appendChild(ta);
      });
    root.appendChild(el("p", null, "Le script ajuste la hauteur du cadre à la page. Si votre site " +
      "n’autorise que ses propres scripts (script-src 'self'), copiez-le chez vous et changez " +
      "son adresse. Votre politique de sécurité doit autoriser ce cadre : frame-src " +
      location.origin + " ;"));
  }

  window.bgeoPage = {
    start: start,
    // the work after the main layers, one task each
    steps: function (state, data, tiles) {
      return insetSteps(state, data, tiles).concat([function () {
        embedHelp();
        if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.body);
        window.addEventListener("load", postHeight);
      }]);
    },
    ready: function () { postHeight(); },
    resolve: resolve
  };
})();
