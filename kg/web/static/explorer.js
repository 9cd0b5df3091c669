/* Yufeng KG graph explorer: one app, two data providers (spec/explorer-api.md).
 * embedded: the data sits in <script id="kg-data"> (kg viz, file://);
 * server:   the same shapes come from the server's /api (kg serve).
 * Every piece of data reaches the DOM through textContent or attributes, never innerHTML. */
(function () {
  "use strict";

  var CONFIG = JSON.parse(document.getElementById("kg-config").textContent);
  var EXPAND_LIMIT = 50;
  var SMALL = 300;
  var LARGE = 1000;
  var SHAPE_GLYPH = { dot: "●", diamond: "◆", square: "■", triangle: "▲", star: "★", triangleDown: "▼", hexagon: "⬢", ellipse: "⬮" };
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#e6550d", "#31a354", "#843c39", "#7b4173", "#3182bd", "#fd8d3c",
    "#637939", "#ad494a", "#a55194", "#6b6ecf"];
  var UI = {
    zh: { lang: "语言", community: "按社区着色", expandOnClick: "点击展开邻居", fit: "适应窗口", classes: "类别",
      all: "全部", only: "仅此", legendHint: "勾选显示或隐藏一类；“仅此”只显示这一类。", attributes: "属性",
      links: "关系", incoming: "被关联", external: "外部链接", neighbours: "邻居（按属性）", more: "更多",
      source: "来源", plan: "计划", result: "成果", background: "背景", inferred: "推理", stabilising: "布局中",
      nodes: "节点", edges: "边", shown: "显示", noHits: "无结果", types: "类型", loading: "加载中…",
      placeholder: "搜索：中文 / English / 拼音" },
    en: { lang: "Language", community: "colour by community", expandOnClick: "expand on click", fit: "fit",
      classes: "Classes", all: "all", only: "only", legendHint: "Tick to show or hide a class; “only” shows just that class.",
      attributes: "Attributes", links: "Links", incoming: "Linked from", external: "External links",
      neighbours: "Neighbours by property", more: "more", source: "source", plan: "plan", result: "result",
      background: "background", inferred: "inferred", stabilising: "laying out", nodes: "nodes", edges: "edges",
      shown: "shown", noHits: "no match", types: "types", loading: "loading…",
      placeholder: "search: Chinese / English / pinyin" }
  };
  var HIDDEN_FACTS = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": 1,
    "http://www.w3.org/2000/01/rdf-schema#label": 1,
    "http://www.w3.org/2004/02/skos/core#altLabel": 1
  };

  /* ---------- helpers ---------- */
  function $(id) { return document.getElementById(id); }
  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        if (k === "text") node.textContent = props[k];
        else if (k === "cls") node.className = props[k];
        else if (k === "on") Object.keys(props.on).forEach(function (ev) { node.addEventListener(ev, props.on[ev]); });
        else node.setAttribute(k, props[k]);
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }
  function plain(s) {
    return String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[\s\-_·'’]/g, "").toLowerCase();
  }
  function short(s, n) { s = String(s || ""); return s.length > n ? s.slice(0, n - 1) + "…" : s; }
  function darker(hex) {
    var v = parseInt(hex.slice(1), 16), r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
    var f = function (x) { return Math.max(0, Math.round(x * 0.7)).toString(16).padStart(2, "0"); };
    return "#" + f(r) + f(g) + f(b);
  }
  function curie(iri) {
    var p = [["yfid:", "https://w3id.org/yufeng-kg/id/"], ["yf:", "https://w3id.org/yufeng-kg/ontology#"],
      ["yfsrc:", "https://w3id.org/yufeng-kg/source/"], ["wd:", "http://www.wikidata.org/entity/"],
      ["gn:", "https://sws.geonames.org/"]];
    for (var i = 0; i < p.length; i++) if (iri.indexOf(p[i][1]) === 0) return p[i][0] + iri.slice(p[i][1].length);
    return iri;
  }
  function isWebLink(iri) { return /^https?:\/\//i.test(iri); }
  function scoreKey(want, key) {
    if (!want || !key) return 0;
    if (key === want) return 1.0;
    if (key.indexOf(want) === 0) return 0.8 * (0.5 + 0.5 * want.length / key.length);
    if (key.indexOf(want) > 0) return 0.6 * (0.5 + 0.5 * want.length / key.length);
    return 0;
  }
  function keysOf(n) {
    if (n.keys) return n.keys.split("\n");
    return [n.label_zh, n.label_en, n.pinyin].concat(n.aliases || []).map(plain).filter(Boolean);
  }

  /* ---------- providers ---------- */
  function EmbeddedProvider(data) {
    var self = this;
    this.data = data;
    this.byId = new Map();
    this.adj = new Map();
    function addNode(n) { if (!self.byId.has(n.id)) self.byId.set(n.id, n); }
    function addEdge(e) {
      [e.from, e.to].forEach(function (id) {
        if (!self.adj.has(id)) self.adj.set(id, []);
        self.adj.get(id).push(e);
      });
    }
    data.nodes.forEach(addNode);
    var ctx = data.context || { nodes: [], edges: [] };
    ctx.nodes.forEach(addNode);
    var seen = new Set();
    data.edges.concat(ctx.edges).forEach(function (e) {
      var k = e.from + "\u0001" + e.predicate + "\u0001" + e.to;
      if (!seen.has(k)) { seen.add(k); addEdge(e); }
    });
    this.keys = new Map();
    this.byId.forEach(function (n, id) { self.keys.set(id, keysOf(n)); });
  }
  EmbeddedProvider.prototype.graph = function () {
    return Promise.resolve({ nodes: this.data.nodes, edges: this.data.edges, legend: this.data.legend });
  };
  EmbeddedProvider.prototype.search = function (q, limit) {
    var want = plain(q), bare = want.replace(/[1-5]/g, ""), hits = [];
    if (!want) return Promise.resolve({ hits: [] });
    this.byId.forEach(function (n, id) {
      var best = 0, matched = "";
      this.keys.get(id).forEach(function (k) {
        var s = Math.max(scoreKey(want, k), bare !== want ? scoreKey(bare, k) * 0.95 : 0);
        if (s > best) { best = s; matched = k; }
      });
      if (best > 0) hits.push({ iri: id, label_zh: n.label_zh, label_en: n.label_en, types: n.types, score: best, matched: matched });
    }, this);
    hits.sort(function (a, b) { return b.score - a.score || (a.label_zh < b.label_zh ? -1 : a.label_zh > b.label_zh ? 1 : 0); });
    return Promise.resolve({ hits: hits.slice(0, limit || 20) });
  };
  EmbeddedProvider.prototype.node = function (iri) {
    var d = this.data.details && this.data.details[iri];
    if (d) return Promise.resolve(d);
    var n = this.byId.get(iri);
    if (!n) return Promise.reject(new Error("unknown node " + iri));
    return Promise.resolve({ iri: iri, label_zh: n.label_zh, label_en: n.label_en, types: n.types, out: [], incoming: [], external: [] });
  };
  EmbeddedProvider.prototype.nodeShape = function (iri) { return this.byId.get(iri); };
  EmbeddedProvider.prototype.focus = function (iri) {
    var n = this.byId.get(iri);
    return Promise.resolve({ nodes: n ? [n] : [], edges: [] });
  };
  EmbeddedProvider.prototype.expand = function (iri, predicate, offset, limit) {
    var self = this, groups = new Map();
    (this.adj.get(iri) || []).forEach(function (e) {
      if (e.from === e.to) return;
      if (!groups.has(e.predicate)) groups.set(e.predicate, []);
      groups.get(e.predicate).push(e);
    });
    var order = Array.from(groups.keys()).sort(function (a, b) {
      return groups.get(b).length - groups.get(a).length || (a < b ? -1 : 1);
    });
    var nodes = new Map(), edges = [], out = [];
    order.forEach(function (p) {
      if (predicate && p !== predicate) return;
      var members = groups.get(p).slice().sort(function (a, b) {
        var na = self.byId.get(a.from === iri ? a.to : a.from) || {}, nb = self.byId.get(b.from === iri ? b.to : b.from) || {};
        return (nb.size || 0) - (na.size || 0) || (na.id < nb.id ? -1 : 1);
      });
      var start = predicate ? (offset || 0) : 0, chosen = members.slice(start, start + (limit || EXPAND_LIMIT));
      chosen.forEach(function (e) {
        var other = e.from === iri ? e.to : e.from;
        if (self.byId.has(other)) nodes.set(other, self.byId.get(other));
        edges.push(e);
      });
      var first = groups.get(p)[0], nxt = start + chosen.length;
      out.push({ predicate: p, label_zh: first.label_zh, label_en: first.label_en, total: members.length,
        returned: chosen.length, next_offset: nxt < members.length ? nxt : null });
    });
    return Promise.resolve({ nodes: Array.from(nodes.values()), edges: edges, groups: out });
  };

  function ServerProvider(base) { this.base = base.replace(/\/$/, ""); this.cache = new Map(); }
  ServerProvider.prototype.get = function (path, params) {
    var qs = Object.keys(params || {}).filter(function (k) { return params[k] !== undefined && params[k] !== null; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
    return fetch(this.base + path + (qs ? "?" + qs : ""), { headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body && body.error ? body.error : "HTTP " + r.status);
          return body;
        });
      });
  };
  ServerProvider.prototype.graph = function () {
    var url = new URLSearchParams(window.location.search);
    return this.get("/graph", { focus: url.get("focus"), depth: url.get("depth") });
  };
  ServerProvider.prototype.search = function (q, limit) { return this.get("/search", { q: q, limit: limit || 20 }); };
  ServerProvider.prototype.node = function (iri) {
    var self = this;
    if (!this.cache.has(iri)) this.cache.set(iri, this.get("/node", { iri: iri }).catch(function (e) { self.cache.delete(iri); throw e; }));
    return this.cache.get(iri);
  };
  ServerProvider.prototype.nodeShape = function () { return null; };
  ServerProvider.prototype.focus = function (iri) { return this.get("/graph", { focus: iri, depth: 1 }); };
  ServerProvider.prototype.expand = function (iri, predicate, offset, limit) {
    return this.get("/expand", { iri: iri, predicate: predicate, offset: offset || 0, limit: limit || EXPAND_LIMIT });
  };

  /* ---------- the explorer ---------- */
  function Explorer(provider, meta) {
    this.provider = provider;
    this.meta = meta || {};
    this.lang = CONFIG.lang === "en" ? "en" : "zh";
    this.byCommunity = false;
    this.hidden = new Set(this.meta.hidden_groups || CONFIG.hidden_groups || []);
    this.unplaced = new Set();
    this.info = new Map();
    this.legend = new Map();
    this.selected = null;
    this.ready = false;
    this.large = false;
    this.timings = { start: performance.now() };
  }

  Explorer.prototype.t = function (key) { return UI[this.lang][key] || key; };
  Explorer.prototype.label = function (o) { return (this.lang === "en" ? o.label_en : o.label_zh) || o.label_zh || o.label_en || ""; };
  Explorer.prototype.otherLabel = function (o) { return (this.lang === "en" ? o.label_zh : o.label_en) || ""; };
  Explorer.prototype.style = function (n) {
    var g = this.legend.get(n.group);
    return g ? { color: g.color, shape: g.shape } : { color: "#777777", shape: "dot" };
  };
  Explorer.prototype.colourOf = function (n) {
    if (this.byCommunity) return n.community === null || n.community === undefined ? "#b0b4bb" : PALETTE[n.community % PALETTE.length];
    return this.style(n).color;
  };
  Explorer.prototype.visNode = function (n) {
    var st = this.style(n), c = this.colourOf(n), size = n.size || 10;
    var v = {
      id: n.id, label: short(this.label(n), this.lang === "en" ? 24 : 14), shape: st.shape, value: size,
      color: { background: c, border: darker(c), highlight: { background: c, border: "#111111" }, hover: { background: c, border: "#111111" } },
      font: { color: "#1d2330", strokeWidth: 4, strokeColor: "#ffffff" },
      hidden: this.hidden.has(n.group)
    };
    if (n.x !== undefined && n.y !== undefined) { v.x = n.x; v.y = n.y; }
    if (v.hidden && !this.network) { v.physics = false; this.unplaced.add(n.id); }
    return v;
  };
  Explorer.prototype.edgeId = function (e) { return e.from + "\u0001" + e.predicate + "\u0001" + e.to; };
  Explorer.prototype.visEdge = function (e) {
    var v = { id: this.edgeId(e), from: e.from, to: e.to, dashes: !!e.inferred };
    if (this.unplaced.has(e.from) || this.unplaced.has(e.to)) v.physics = false;
    if (!this.large) v.label = this.label(e);
    return v;
  };

  Explorer.prototype.start = function () {
    var self = this;
    this.status(this.t("loading"));
    return this.provider.graph().then(function (g) {
      self.setLegend(g.legend || []);
      self.build(g.nodes, g.edges);
    }).catch(function (err) { self.status(String(err && err.message || err)); throw err; });
  };

  Explorer.prototype.setLegend = function (legend) {
    var self = this;
    legend.forEach(function (l) {
      var old = self.legend.get(l.group);
      self.legend.set(l.group, old ? Object.assign({}, old, { count: Math.max(old.count, l.count) }) : l);
    });
    this.drawLegend();
  };

  Explorer.prototype.drawLegend = function () {
    var self = this, list = $("kg-legend-list");
    list.textContent = "";
    var counts = new Map();
    if (this.nodes) this.nodes.forEach(function (v) { var n = self.info.get(v.id); counts.set(n.group, (counts.get(n.group) || 0) + 1); });
    this.legend.forEach(function (l, group) {
      var box = el("input", { type: "checkbox", "data-group": group });
      box.checked = !self.hidden.has(group);
      box.addEventListener("change", function () { self.setHidden(group, !box.checked); });
      var glyph = el("span", { cls: "swatch", text: SHAPE_GLYPH[l.shape] || "●" });
      glyph.style.color = l.color;
      var name = el("span", { cls: "name", text: self.lang === "en" ? l.label_en : l.label_zh, title: group });
      var count = el("span", { cls: "count", text: String(counts.has(group) ? counts.get(group) : l.count) });
      var only = el("button", { type: "button", cls: "only", "data-only": group, text: self.t("only") });
      only.addEventListener("click", function () { self.showOnly(group); });
      list.appendChild(el("li", { "data-group": group }, el("label", null, box, glyph, name, count), only));
    });
  };

  Explorer.prototype.options = function (n, positioned) {
    var font = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif";
    var opts = {
      autoResize: true,
      layout: { randomSeed: this.meta.seed === undefined ? 42 : this.meta.seed, improvedLayout: false },
      /* value = the payload's size (centrality); labels scale with it, so at the overview only
         the central nodes are labelled and zooming in brings the rest */
      nodes: { borderWidth: 1.5, font: { face: font },
        scaling: { min: 7, max: 42, label: { enabled: true, min: 13, max: 30, maxVisible: 30, drawThreshold: 8 } } },
      edges: {
        arrows: { to: { enabled: !this.large, scaleFactor: 0.45 } },
        color: { color: "#a9b1bd", highlight: "#344054", hover: "#344054", inherit: false },
        width: 1, selectionWidth: 1.5,
        smooth: this.large ? false : { enabled: true, type: "continuous", roundness: 0.3 },
        font: { face: font, size: 10, color: "#667085", strokeWidth: 3, strokeColor: "#ffffff", align: "middle" }
      },
      interaction: { hover: !this.large, tooltipDelay: 300, hideEdgesOnDrag: this.large, hideEdgesOnZoom: this.large, multiselect: false },
      physics: false
    };
    if (!positioned) {
      opts.physics = {
        enabled: true, solver: "forceAtlas2Based",
        forceAtlas2Based: { gravitationalConstant: -45, centralGravity: 0.012, springLength: 90, springConstant: 0.07, damping: 0.5, avoidOverlap: 0.4 },
        maxVelocity: 60, minVelocity: 1.5, timestep: 0.5, adaptiveTimestep: !this.relax,
        stabilization: { enabled: true, iterations: this.relax ? 40 : 400, updateInterval: 25, fit: true }
      };
    }
    return opts;
  };

  /* the same layout as kg.viz.add_layout, for big graphs that arrive without positions */
  function sunflower(nodes, seed) {
    var clusters = new Map(), golden = Math.PI * (3 - Math.sqrt(5)), spacing = 38, placed = 0;
    nodes.forEach(function (n) {
      var key = n.community !== null && n.community !== undefined ? "c" + n.community : "g" + n.group;
      if (!clusters.has(key)) clusters.set(key, []);
      clusters.get(key).push(n);
    });
    var order = Array.from(clusters.values()).sort(function (a, b) { return b.length - a.length || (a[0].id < b[0].id ? -1 : 1); });
    order.forEach(function (members, j) {
      members.sort(function (a, b) { return (b.size || 0) - (a.size || 0) || (a.id < b.id ? -1 : 1); });
      var radius = spacing * Math.sqrt(placed + members.length / 2) * 1.25;
      var cx = radius * Math.cos(j * golden + seed), cy = radius * Math.sin(j * golden + seed);
      placed += members.length;
      members.forEach(function (n, i) {
        var r = spacing * Math.sqrt(i) * 0.9;
        n.x = cx + r * Math.cos(i * golden);
        n.y = cy + r * Math.sin(i * golden);
      });
    });
  }

  Explorer.prototype.build = function (nodes, edges) {
    var self = this;
    /* up to SMALL nodes: physics from a seeded start; up to LARGE: the sunflower layout
       relaxed by a few physics iterations; above: the sunflower layout as it is, no physics */
    this.large = nodes.length > LARGE;
    this.relax = nodes.length > SMALL && !this.large;
    var given = nodes.length > 0 && nodes.every(function (n) { return n.x !== undefined && n.y !== undefined; });
    if ((this.large || this.relax) && !given) sunflower(nodes, this.meta.seed === undefined ? 42 : this.meta.seed);
    var positioned = given && !this.relax || this.large;
    nodes.forEach(function (n) { self.info.set(n.id, n); });
    this.nodes = new vis.DataSet(nodes.map(function (n) { return self.visNode(n); }));
    var edgeRows = [], seen = new Set();
    edges.forEach(function (e) {
      var id = self.edgeId(e);
      if (!seen.has(id)) { seen.add(id); self.info.set(id, e); edgeRows.push(self.visEdge(e)); }
    });
    this.edges = new vis.DataSet(edgeRows);
    this.drawLegend();
    this.timings.data = performance.now();
    this.network = new vis.Network($("kg-network"), { nodes: this.nodes, edges: this.edges }, this.options(nodes.length, positioned));
    this.timings.network = performance.now();
    var net = this.network;
    net.on("click", function (p) {
      if (p.nodes.length) self.select(p.nodes[0], { expand: $("kg-expand").checked, move: false });
    });
    var finish = function () {
      net.setOptions({ physics: false });
      net.stopSimulation();
      if (!positioned) net.fit();
      net.once("afterDrawing", function () {
        self.ready = true;
        self.timings.ready = performance.now();
        document.body.setAttribute("data-ready", "1");
        self.status();
      });
      net.redraw();
    };
    if (positioned || nodes.length === 0) finish();
    else {
      net.on("stabilizationProgress", function (p) {
        $("kg-progress").textContent = self.t("stabilising") + " " + Math.round(100 * p.iterations / p.total) + "%";
      });
      net.once("stabilizationIterationsDone", function () { $("kg-progress").textContent = ""; finish(); });
    }
  };

  Explorer.prototype.status = function (text) {
    if (text) { $("kg-status-text").textContent = text; return; }
    var shown = this.visibleCount();
    $("kg-status-text").textContent = this.nodes.length + " " + this.t("nodes") + " · " + this.edges.length + " " +
      this.t("edges") + " · " + shown + " " + this.t("shown") + (this.meta.title ? " · " + this.meta.title : "");
  };
  Explorer.prototype.visibleCount = function () { return this.nodes.get({ filter: function (n) { return !n.hidden; } }).length; };

  Explorer.prototype.setHidden = function (group, hide) {
    if (hide) this.hidden.add(group); else this.hidden.delete(group);
    this.applyHidden();
  };
  Explorer.prototype.showOnly = function (group) {
    var self = this;
    this.hidden = new Set();
    this.legend.forEach(function (l, g) { if (g !== group) self.hidden.add(g); });
    this.applyHidden();
  };
  /* a node left out of the layout (a vocabulary hub) goes to the middle of its neighbours */
  Explorer.prototype.placeNear = function (id) {
    var self = this, xs = 0, ys = 0, k = 0;
    this.network.getConnectedNodes(id).forEach(function (m) {
      if (self.unplaced.has(m)) return;
      var p = self.network.getPosition(m);
      xs += p.x; ys += p.y; k += 1;
    });
    this.unplaced.delete(id);
    var h = 0;
    for (var i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) % 997;
    return k ? { x: xs / k + (h % 60) - 30, y: ys / k + ((h * 7) % 60) - 30 } : {};
  };
  Explorer.prototype.showAll = function () { this.hidden = new Set(); this.applyHidden(); };
  Explorer.prototype.applyHidden = function () {
    var self = this, changes = [];
    this.nodes.forEach(function (v) {
      var hide = self.hidden.has(self.info.get(v.id).group);
      if (!!v.hidden !== hide) {
        var row = { id: v.id, hidden: hide };
        if (!hide && self.unplaced.has(v.id)) Object.assign(row, self.placeNear(v.id));
        changes.push(row);
      }
    });
    if (changes.length) this.nodes.update(changes);
    document.querySelectorAll("#kg-legend-list input[data-group]").forEach(function (box) {
      box.checked = !self.hidden.has(box.getAttribute("data-group"));
    });
    this.status();
  };

  Explorer.prototype.relabel = function () {
    var self = this;
    this.nodes.update(this.nodes.getIds().map(function (id) {
      var n = self.info.get(id), c = self.colourOf(n);
      return { id: id, label: short(self.label(n), self.lang === "en" ? 24 : 14),
        color: { background: c, border: darker(c), highlight: { background: c, border: "#111111" }, hover: { background: c, border: "#111111" } } };
    }));
    if (!this.large) this.edges.update(this.edges.getIds().map(function (id) { return { id: id, label: self.label(self.info.get(id)) }; }));
    document.documentElement.lang = this.lang === "en" ? "en" : "zh-Hans";
    document.querySelectorAll("[data-t]").forEach(function (node) { node.textContent = self.t(node.getAttribute("data-t")); });
    $("kg-search").placeholder = this.t("placeholder");
    this.drawLegend();
    if (this.selected) this.showPanel(this.selected);
    this.status();
  };

  /* adds nodes and edges from an answer of the provider; new nodes ring around `around` */
  Explorer.prototype.merge = function (answer, around) {
    var self = this, fresh = [];
    if (answer.legend) this.setLegend(answer.legend);
    (answer.nodes || []).forEach(function (n) {
      if (!self.nodes.get(n.id)) { self.info.set(n.id, n); fresh.push(n); }
    });
    if (fresh.length) {
      var centre = around && this.nodes.get(around) ? this.network.getPosition(around) : { x: 0, y: 0 };
      var radius = 140 + 6 * fresh.length;
      var rows = fresh.map(function (n, i) {
        var a = 2 * Math.PI * i / fresh.length;
        var v = self.visNode(n);
        v.x = centre.x + radius * Math.cos(a);
        v.y = centre.y + radius * Math.sin(a);
        if (!self.legend.has(n.group)) self.legend.set(n.group, { group: n.group, label_zh: n.group, label_en: n.group, color: "#777777", shape: "dot", count: 0 });
        return v;
      });
      this.nodes.add(rows);
    }
    var edgeRows = [];
    (answer.edges || []).forEach(function (e) {
      var id = self.edgeId(e);
      if (!self.edges.get(id) && self.nodes.get(e.from) && self.nodes.get(e.to)) { self.info.set(id, e); edgeRows.push(self.visEdge(e)); }
    });
    if (edgeRows.length) this.edges.add(edgeRows);
    if (fresh.length) this.drawLegend();
    this.status();
    return fresh.length;
  };

  Explorer.prototype.expand = function (iri, predicate, offset) {
    var self = this;
    return this.provider.expand(iri, predicate, offset, EXPAND_LIMIT).then(function (ans) {
      self.merge(ans, iri);
      self.groups = self.groups || new Map();
      var known = self.groups.get(iri) || new Map();
      ans.groups.forEach(function (g) {
        var prev = known.get(g.predicate);
        var shown = predicate ? (prev ? prev.shown : 0) + g.returned : g.returned;
        known.set(g.predicate, Object.assign({}, g, { shown: Math.max(shown, prev && !predicate ? prev.shown : 0) }));
      });
      self.groups.set(iri, known);
      if (self.selected === iri) self.drawGroups(iri);
      return ans;
    });
  };

  Explorer.prototype.select = function (iri, opts) {
    var self = this;
    opts = opts || {};
    var present = this.nodes.get(iri) ? Promise.resolve() : this.provider.focus(iri).then(function (ans) {
      var shape = self.provider.nodeShape(iri);
      self.merge(shape ? { nodes: [shape], edges: [] } : ans, self.selected);
    });
    return present.then(function () {
      var n = self.info.get(iri);
      if (n && self.hidden.has(n.group)) self.setHidden(n.group, false);
      self.selected = iri;
      self.network.selectNodes([iri]);
      if (opts.move) self.network.focus(iri, { scale: Math.max(self.network.getScale(), 1.1), animation: false });
      var shown = self.showPanel(iri);
      var grown = opts.expand ? self.expand(iri) : Promise.resolve();
      return Promise.all([shown, grown]);
    });
  };

  Explorer.prototype.showPanel = function (iri) {
    var self = this;
    $("kg-panel").hidden = false;
    return this.provider.node(iri).then(function (d) {
      if (self.selected !== iri) return;
      self.drawPanel(d);
      self.drawGroups(iri);
    }).catch(function (err) {
      var body = $("kg-panel-body");
      body.textContent = "";
      body.appendChild(el("p", { text: String(err && err.message || err) }));
    });
  };

  Explorer.prototype.factRow = function (f, incoming) {
    var self = this;
    var row = el("div", { cls: "fact" });
    row.appendChild(el("div", { cls: "pred", text: self.label({ label_zh: f.predicate_label_zh, label_en: f.predicate_label_en }) + (incoming ? " ←" : "") }));
    var value;
    if (f.is_resource) {
      value = el("button", { type: "button", cls: "val", "data-iri": f.value, text: self.label({ label_zh: f.value_label_zh, label_en: f.value_label_en }) });
      value.addEventListener("click", function () { self.select(f.value, { expand: $("kg-expand").checked, move: true }); });
    } else {
      value = el("span", { cls: "val", text: f.value });
    }
    var line = el("div", null, value);
    if (f.inferred) line.appendChild(el("span", { cls: "badge inferred", text: self.t("inferred") }));
    // fidelity: a number as written with its qualifier, and an "implied" badge with the reason
    if (f.display) value.textContent = (f.written ? f.written + " · " : "") + f.display;
    if (f.support === "implied") line.appendChild(el("span", { cls: "badge implied", text: self.lang === "en" ? "implied" : "推断",
      title: (self.lang === "en" ? f.support_reason_en : f.support_reason_zh) || "" }));
    row.appendChild(line);
    (f.evidence || []).forEach(function (ev) {
      var box = el("div", { cls: "evidence" });
      if (ev.quote) box.appendChild(el("blockquote", { cls: "quote", text: ev.quote_readable || ev.quote }));
      var src = el("div", { cls: "src", text: self.t("source") + ": " + curie(ev.document) + " [" + ev.start + "–" + ev.end + "]" });
      if (ev.modality) src.appendChild(el("span", { cls: "badge " + ev.modality.replace(/[^a-z]/g, ""), text: self.t(ev.modality) }));
      box.appendChild(src);
      row.appendChild(box);
    });
    return row;
  };

  Explorer.prototype.drawPanel = function (d) {
    var self = this, body = $("kg-panel-body");
    body.textContent = "";
    var n = this.info.get(d.iri) || {};
    body.appendChild(el("h2", { id: "kg-panel-title", text: this.label(d) }));
    if (this.otherLabel(d) && this.otherLabel(d) !== this.label(d)) body.appendChild(el("p", { cls: "alt", text: this.otherLabel(d) }));
    if (n.aliases && n.aliases.length) body.appendChild(el("p", { cls: "alt", text: n.aliases.join(" · ") }));
    if (n.pinyin) body.appendChild(el("p", { cls: "alt", text: n.pinyin }));
    var chips = el("div");
    (n.types && n.types.length ? n.types : (d.types || []).map(curie)).forEach(function (t) {
      var l = self.legend.get(t);
      var chip = el("span", { cls: "chip", text: l ? (self.lang === "en" ? l.label_en : l.label_zh) : t, title: t });
      chip.style.background = l ? l.color : "#667085";
      chips.appendChild(chip);
    });
    body.appendChild(chips);
    body.appendChild(el("div", { cls: "iri", text: d.iri }));
    var visible = function (f) { return !HIDDEN_FACTS[f.predicate]; };
    var attrs = (d.out || []).filter(function (f) { return visible(f) && !f.is_resource; });
    var links = (d.out || []).filter(function (f) { return visible(f) && f.is_resource; });
    var inc = (d.incoming || []).filter(visible);
    [["attributes", attrs, false], ["links", links, false], ["incoming", inc, true]].forEach(function (sec) {
      if (!sec[1].length) return;
      var box = el("section", { cls: "facts " + sec[0] }, el("h3", { text: self.t(sec[0]) + " (" + sec[1].length + ")" }));
      sec[1].forEach(function (f) { box.appendChild(self.factRow(f, sec[2])); });
      body.appendChild(box);
    });
    if (d.external && d.external.length) {
      var ext = el("section", { cls: "external" }, el("h3", { text: self.t("external") }));
      d.external.forEach(function (iri) {
        if (!isWebLink(iri)) return;
        ext.appendChild(el("div", null, el("a", { href: iri, target: "_blank", rel: "noopener noreferrer", text: curie(iri) + " ↗" })));
      });
      body.appendChild(ext);
    }
    body.appendChild(el("section", { id: "kg-groups" }));
  };

  Explorer.prototype.drawGroups = function (iri) {
    var self = this, box = $("kg-groups");
    if (!box) return;
    box.textContent = "";
    var groups = this.groups && this.groups.get(iri);
    if (!groups || !groups.size) return;
    box.appendChild(el("h3", { text: this.t("neighbours") }));
    groups.forEach(function (g) {
      var row = el("div", { cls: "group", "data-predicate": g.predicate },
        el("span", { text: self.label(g) + " · " + Math.min(g.shown, g.total) + "/" + g.total }));
      if (g.next_offset !== null && g.next_offset !== undefined) {
        row.appendChild(el("button", { type: "button", cls: "more", text: self.t("more"), on: { click: function () {
          self.expand(iri, g.predicate, g.next_offset);
        } } }));
      }
      box.appendChild(row);
    });
  };

  /* ---------- search box ---------- */
  Explorer.prototype.bindSearch = function () {
    var self = this, input = $("kg-search"), list = $("kg-hits"), timer = null, hits = [];
    function draw() {
      list.textContent = "";
      if (!input.value.trim()) { list.hidden = true; return; }
      if (!hits.length) list.appendChild(el("li", { cls: "none", text: self.t("noHits") }));
      hits.forEach(function (h, i) {
        var li = el("li", { role: "option", "data-iri": h.iri, cls: i === 0 ? "active" : "" },
          el("span", { text: self.label(h) }), el("span", { cls: "sub", text: self.otherLabel(h) + " · " + (h.types || []).join(", ") }));
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(h.iri); });
        list.appendChild(li);
      });
      list.hidden = false;
    }
    function run() {
      var q = input.value;
      return self.provider.search(q, 20).then(function (ans) { if (input.value === q) { hits = ans.hits || []; draw(); } return hits; });
    }
    function pick(iri) {
      list.hidden = true;
      self.searchDone = self.select(iri, { expand: $("kg-expand").checked, move: true });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 120); });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { clearTimeout(timer); run().then(function (h) { if (h.length) pick(h[0].iri); }); }
      if (ev.key === "Escape") { list.hidden = true; }
    });
    input.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });
  };

  /* ---------- boot ---------- */
  var dataNode = document.getElementById("kg-data");
  var data = dataNode ? JSON.parse(dataNode.textContent) : null;
  var provider = CONFIG.mode === "server" || !data ? new ServerProvider(CONFIG.api_base || "/api") : new EmbeddedProvider(data);
  var app = new Explorer(provider, data ? data.meta : {});
  window.kgExplorer = app;
  $("kg-lang").value = app.lang;
  $("kg-lang").addEventListener("change", function () { app.lang = this.value; app.relabel(); });
  $("kg-community").addEventListener("change", function () { app.byCommunity = this.checked; app.relabel(); });
  $("kg-fit").addEventListener("click", function () { app.network.fit(); });
  $("kg-all").addEventListener("click", function () { app.showAll(); });
  $("kg-close").addEventListener("click", function () { $("kg-panel").hidden = true; app.selected = null; app.network.unselectAll(); });
  app.bindSearch();
  if (app.lang !== "zh") document.querySelectorAll("[data-t]").forEach(function (node) { node.textContent = app.t(node.getAttribute("data-t")); });
  $("kg-search").placeholder = app.t("placeholder");
  app.start();
})();
