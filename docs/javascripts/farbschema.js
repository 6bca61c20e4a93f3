/* Aushang: the colour scheme of the generated pages (posts, overviews) follows the system's.
 *
 * Their frame has no palette toggle and none of the theme's scripts (fetch/site/lean.py).
 * This file, loaded as the first element of <body>, does what the theme's palette does on
 * load: it sets <body>'s data-md-color-* attributes from the first palette option whose media
 * query matches, before anything is painted, and again when the system's setting changes.
 * The options are the theme's palette in mkdocs.yml; the script element carries them in
 * data-palette when they differ from the usual light "default" and dark "slate" schemes.
 * Nothing is stored and nothing leaves the site.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  // USUAL_PALETTE in fetch/site/lean.py
  var usual = '[["(prefers-color-scheme: light)",{"scheme":"default"}],["(prefers-color-scheme: dark)",{"scheme":"slate"}]]';
  var options = JSON.parse((script && script.getAttribute("data-palette")) || usual);

  var queries = options.map(function (option) {
    return window.matchMedia(option[0]);
  });

  function apply() {
    for (var i = 0; i < options.length; i += 1) {
      if (queries[i].matches) {
        var colours = options[i][1];
        for (var key in colours) {
          document.body.setAttribute("data-md-color-" + key, colours[key]);
        }
        return;
      }
    }
  }

  apply();
  queries.forEach(function (query) {
    query.addEventListener("change", apply);
  });
})();
