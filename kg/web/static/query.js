/* The query page: YASGUI against this server's /sparql, opened with one tab; the named queries
   are listed above it as examples to pick from (a pick loads the query into the open tab).
   Nothing here reaches another host: no URL shortener, no CORS proxy, no endpoint catalogue,
   no prefix.cc or Linked Open Vocabularies lookups (only the local autocompleters). */
(function () {
  "use strict";
  var endpoint = new URL("/sparql", window.location.href).toString();
  var examples = JSON.parse(document.getElementById("kg-queries").textContent);
  var el = document.getElementById("yasgui");
  var yasgui = new Yasgui(el, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    populateFromUrl: false,
    autoAddOnInit: false,
    corsProxy: undefined,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    yasqe: { autocompleters: ["variables", "prefixes"], prefixCcApi: null, createShareableLink: null,
             createShortLink: undefined, resizeable: true, editorHeight: "280px" },
    yasr: { prefixes: {} }
  });
  var first = examples[0];
  var tab = yasgui.addTab(true, { name: first ? first.name : "query", requestConfig: { endpoint: endpoint },
    yasqe: first ? { value: first.query } : {} });
  function pick(i) {
    var e = examples[i], t = yasgui.getTab();
    if (!e || !t) return;
    t.setName(e.name);
    t.getYasqe().setValue(e.query);
    document.querySelectorAll("button.example").forEach(function (b) {
      b.setAttribute("aria-pressed", String(Number(b.getAttribute("data-index")) === i));
    });
    el.scrollIntoView();
  }
  document.querySelectorAll("button.example").forEach(function (b) {
    b.addEventListener("click", function () { pick(Number(b.getAttribute("data-index"))); });
  });
  if (first) document.querySelector("button.example[data-index='0']").setAttribute("aria-pressed", "true");
  window.kgYasgui = yasgui;
  window.kgPickExample = pick;
  window.kgFirstTab = tab;
})();
