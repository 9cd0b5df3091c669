/* The query page: YASGUI against this server's /sparql, one tab per named query.
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
    autoAddOnInit: examples.length === 0,
    corsProxy: undefined,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    yasqe: { autocompleters: ["variables", "prefixes"], prefixCcApi: null, createShareableLink: null,
             createShortLink: undefined, resizeable: true, editorHeight: "280px" },
    yasr: { prefixes: {} }
  });
  var tabIds = [];
  examples.forEach(function (e, i) {
    var tab = yasgui.addTab(i === 0, { name: e.name, requestConfig: { endpoint: endpoint }, yasqe: { value: e.query } });
    tabIds.push(tab.getId());
  });
  document.querySelectorAll("button.example").forEach(function (b) {
    b.addEventListener("click", function () {
      var id = tabIds[Number(b.getAttribute("data-index"))];
      if (id) { yasgui.selectTabId(id); el.scrollIntoView(); }
    });
  });
  window.kgYasgui = yasgui;
})();
