/* Aushang: the search page ("Suche"), on pagefind's index of the post pages.
 *
 * Loaded only on the search page (overrides/main.html), as a file: no inline script. Pagefind
 * (https://pagefind.app/docs/api/) loads from this site's own /pagefind/ folder and fetches
 * only the index chunks and result fragments a query needs. The index is one bundle per year
 * (/pagefind/2026/, ...; fetch/site/search.py): a search covers the newest years unless the
 * reader picks a year or all years ("zeitraum"), so its cost does not grow with the archive.
 * The newest year of the scope is pagefind's primary index, the others are merged into it.
 * Works as progressive enhancement: the form submits ?q=...&zeitraum=... without JavaScript
 * too, and this script reads them on load. Nothing is stored and nothing leaves the site.
 */
(function () {
  "use strict";

  var PAGE_SIZE = 10;
  var root = document.getElementById("aushang-search");
  if (!root) {
    return;
  }
  var strings = JSON.parse(root.getAttribute("data-strings") || "{}");
  var form = root.querySelector("form");
  var input = document.getElementById("aushang-search-input");
  var status = document.getElementById("aushang-search-status");
  var list = document.getElementById("aushang-search-results");
  var more = document.getElementById("aushang-search-more");
  var bundle = new URL(root.getAttribute("data-bundle"), document.baseURI);
  var siteRoot = new URL("../", bundle);
  var years = JSON.parse(root.getAttribute("data-years") || "[]");
  var recent = parseInt(root.getAttribute("data-recent") || "2", 10);
  var scope = document.getElementById("aushang-search-scope");
  var older = document.getElementById("aushang-search-older");
  var pagefind = null;
  var instances = {};
  var results = [];
  var shown = 0;
  var query = "";
  var generation = 0;

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function yearsOf(value) {
    if (value === "alle") {
      return years.slice();
    }
    if (value && years.indexOf(value) >= 0) {
      return [value];
    }
    return years.slice(0, recent);
  }

  function bundleOf(year) {
    return new URL(year + "/", bundle);
  }

  /* One pagefind instance per scope: the newest year is the primary index (it loads the
     WebAssembly), the older years are merged into it. */
  function load(list) {
    var key = list.join(",");
    if (!instances[key]) {
      if (!pagefind) {
        pagefind = import(new URL("pagefind.js", bundleOf(years[0])).href);
      }
      var options = { baseUrl: siteRoot.pathname, excerptLength: 30 };
      instances[key] = pagefind.then(function (module) {
        var instance = module.createInstance({ basePath: bundleOf(list[0]).pathname });
        return instance
          .options(options)
          .then(function () {
            return Promise.all(
              list.slice(1).map(function (year) {
                return instance.mergeIndex(bundleOf(year).pathname, options);
              })
            );
          })
          .then(function () {
            return instance;
          });
      });
    }
    return instances[key];
  }

  /* Pagefind's excerpt is our own post text with <mark> around the hits: keep only the
     text and the marks, whatever else it might hold. */
  function excerpt(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var fragment = document.createDocumentFragment();
    template.content.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        fragment.appendChild(mark);
      } else {
        fragment.appendChild(document.createTextNode(node.textContent));
      }
    });
    return fragment;
  }

  function item(data) {
    var li = document.createElement("li");
    li.className = "aushang-search__result";
    var heading = document.createElement("p");
    heading.className = "aushang-search__title";
    var link = document.createElement("a");
    link.href = data.url;
    link.textContent = (data.meta && data.meta.title) || data.url;
    heading.appendChild(link);
    li.appendChild(heading);
    var details = [];
    var filters = data.filters || {};
    Object.keys(filters).forEach(function (name) {
      details = details.concat(filters[name]);
    });
    if (data.meta && data.meta.date) {
      details.push(data.meta.date);
    }
    if (details.length) {
      var meta = document.createElement("p");
      meta.className = "aushang-search__meta";
      meta.textContent = details.join(" · ");
      li.appendChild(meta);
    }
    var text = document.createElement("p");
    text.className = "aushang-search__excerpt";
    text.appendChild(excerpt(data.excerpt || ""));
    li.appendChild(text);
    return li;
  }

  function showMore(focusFirst) {
    var mine = generation;
    var batch = results.slice(shown, shown + PAGE_SIZE);
    return Promise.all(
      batch.map(function (result) {
        return result.data();
      })
    ).then(function (items) {
      if (mine !== generation) {
        return;
      }
      var first = null;
      items.forEach(function (data) {
        var li = item(data);
        list.appendChild(li);
        first = first || li.querySelector("a");
      });
      shown += batch.length;
      more.hidden = shown >= results.length;
      if (focusFirst && first) {
        first.focus();
      }
    });
  }

  function search(text) {
    query = text.trim();
    generation += 1;
    var mine = generation;
    list.textContent = "";
    more.hidden = true;
    if (older) {
      older.hidden = true;
    }
    results = [];
    shown = 0;
    if (!query) {
      status.textContent = "";
      return Promise.resolve();
    }
    if (!years.length) {
      status.textContent = say(strings.search_none || "", { query: query });
      return Promise.resolve();
    }
    var wide = scope ? scope.value : "";
    status.textContent = strings.search_loading || "";
    return load(yearsOf(wide))
      .then(function (instance) {
        return instance.search(query);
      })
      .then(function (found) {
        if (mine !== generation) {
          return undefined;
        }
        results = found.results;
        var count = results.length;
        var template =
          count === 0 ? strings.search_none : count === 1 ? strings.search_one : strings.search_many;
        // the count is announced once the first results are on the page
        return showMore(false).then(function () {
          if (mine === generation) {
            status.textContent = say(template || "", { count: count, query: query });
            if (older && !wide) {
              older.hidden = false;
            }
          }
        });
      })
      .catch(function () {
        status.textContent = strings.search_error || "";
      });
  }

  function remember() {
    var url = new URL(window.location.href);
    if (input.value.trim()) {
      url.searchParams.set("q", input.value.trim());
    } else {
      url.searchParams.delete("q");
    }
    if (scope && scope.value) {
      url.searchParams.set("zeitraum", scope.value);
    } else {
      url.searchParams.delete("zeitraum");
    }
    window.history.replaceState(null, "", url.href);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    remember();
    search(input.value);
  });
  more.addEventListener("click", function () {
    showMore(true);
  });
  if (scope) {
    scope.addEventListener("change", function () {
      remember();
      if (input.value.trim()) {
        search(input.value);
      }
    });
  }
  if (older) {
    older.addEventListener("click", function () {
      scope.value = "alle";
      remember();
      // the button goes away: the focus moves on to the first result (or back to the field)
      search(input.value).then(function () {
        (list.querySelector("a") || input).focus();
      });
    });
  }

  var address = new URL(window.location.href).searchParams;
  var wanted = address.get("zeitraum");
  if (scope && wanted && (wanted === "alle" || years.indexOf(wanted) >= 0)) {
    scope.value = wanted;
  }
  var initial = address.get("q");
  if (initial) {
    input.value = initial;
    search(initial);
  }
})();
