/* barometre-geo — script of the HOST page that embeds maps in <iframe data-barometre-geo>.
 *
 * Each map page posts its height ({type: "barometre-geo-height", height: n}) to
 * the page that frames it; this script sets the height of the matching <iframe>
 * (the one whose window sent the message) so that the map and its table are never
 * cut, and removes the frame's border. It uses no inline code and sets styles
 * through the DOM, so it runs under a strict Content-Security-Policy: serve it
 * from your own site (script-src 'self'), e.g.
 *
 *   <iframe src="https://cartes.example.fr/cyber_pca.departement.html?embed=carte"
 *           title="…" width="100%" height="560" loading="lazy" data-barometre-geo></iframe>
 *   <script src="/js/barometre-geo-integration.js" defer></script>
 *
 * and allow the maps' origin in frame-src (frame-src https://cartes.example.fr).
 * Licence MIT (barometre-geo). */
(function () {
  "use strict";
  var MESSAGE = "barometre-geo-height", MIN = 200, MAX = 6000;

  function frames() {
    return Array.prototype.slice.call(document.querySelectorAll("iframe[data-barometre-geo]"));
  }

  function origin(frame) {
    try { return new URL(frame.src, document.baseURI).origin; } catch (e) { return null; }
  }

  function prepare() {
    frames().forEach(function (f) { f.style.border = "0"; f.style.width = "100%"; });
  }

  window.addEventListener("message", function (event) {
    var d = event.data;
    if (!d || d.type !== MESSAGE || typeof d.height !== "number" || !isFinite(d.height)) return;
    frames().forEach(function (f) {
      if (f.contentWindow !== event.source) return;
      var o = origin(f);
      if (o && o !== "null" && event.origin !== "null" && o !== event.origin) return;
      f.style.height = Math.max(MIN, Math.min(MAX, Math.round(d.height))) + "px";
    });
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", prepare);
  else prepare();
})();
