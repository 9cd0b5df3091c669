/* Yufeng KG graph explorer: one app, two data providers (spec/explorer-api.md), two renderers.
 * embedded: the data sits in <script id="kg-data"> (kg viz, file://);
 * server:   the same shapes come from the server's /api (kg serve).
 * Renderers: vis-network (pyvis's own) up to CONFIG.webgl_threshold nodes, sigma.js (WebGL) above.
 * The view (focus, depth, filters, language, time, open groups, selection, path) lives in the
 * URL fragment, so a copied link reopens it.
 * Every piece of data reaches the DOM through textContent or attributes, never innerHTML. */
(function () {
  "use strict";

  var BOOT = performance.now();  // when this script starts: everything before it is the page's HTML and vendored code
  var CONFIG = JSON.parse(document.getElementById("kg-config").textContent);
  var EXPAND_LIMIT = 50;
  var SMALL = 300;
  var DIM_LIMIT = 400;
  var WEBGL = CONFIG.webgl_threshold || 3000;
  var SHAPE_GLYPH = { dot: "●", diamond: "◆", square: "■", triangle: "▲", star: "★", triangleDown: "▼", hexagon: "⬢", ellipse: "⬮" };
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#e6550d", "#31a354", "#843c39", "#7b4173", "#3182bd", "#fd8d3c",
    "#637939", "#ad494a", "#a55194", "#6b6ecf"];
  var FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif";
  var UI = {
    zh: { lang: "语言", community: "按社区着色", expandOnClick: "点击展开邻居", fit: "适应窗口", classes: "类别",
      all: "全部", only: "仅此", legendHint: "勾选显示或隐藏一类；“仅此”只显示这一类。", attributes: "属性",
      links: "关系", incoming: "被关联", external: "外部链接", neighbours: "邻居（按属性）", more: "更多",
      source: "来源", plan: "计划", result: "成果", background: "背景", inferred: "推理", stabilising: "布局中",
      nodes: "节点", edges: "边", shown: "显示", noHits: "无结果", types: "类型", loading: "加载中…",
      placeholder: "搜索：中文 / English / 拼音", time: "时间", year: "年份", allYears: "全部年份",
      modality: "类别", both: "计划与成果", results: "成果", plans: "计划", undated: "未注明日期",
      undatedApart: "未注明日期的（虚线）", overview: "总览", pathFrom: "从此查找路径", pathTo: "路径终点：",
      pathNone: "两者之间没有路径", pathClear: "清除路径", copyLink: "复制链接", copied: "已复制",
      stated: "明示", implied: "推断", qualifier: "限定", asWritten: "原文写法", chart: "观测值",
      focusHere: "聚焦于此", exact: "确切", "at-least": "至少", "at-most": "至多", about: "约", "size-class": "规模等级", open: "展开", close: "收起" },
    en: { lang: "Language", community: "colour by community", expandOnClick: "expand on click", fit: "fit",
      classes: "Classes", all: "all", only: "only", legendHint: "Tick to show or hide a class; “only” shows just that class.",
      attributes: "Attributes", links: "Links", incoming: "Linked from", external: "External links",
      neighbours: "Neighbours by property", more: "more", source: "source", plan: "plan", result: "result",
      background: "background", inferred: "inferred", stabilising: "laying out", nodes: "nodes", edges: "edges",
      shown: "shown", noHits: "no match", types: "types", loading: "loading…",
      placeholder: "search: Chinese / English / pinyin", time: "Time", year: "year", allYears: "all years",
      modality: "kind", both: "plans and results", results: "results", plans: "plans", undated: "undated",
      undatedApart: "undated (dashed)", overview: "overview", pathFrom: "find a path from here", pathTo: "path to: ",
      pathNone: "no path between the two", pathClear: "clear path", copyLink: "copy link", copied: "copied",
      stated: "stated", implied: "implied", qualifier: "qualifier", asWritten: "as written", chart: "observations",
      focusHere: "focus here", exact: "exact", "at-least": "at least", "at-most": "at most", about: "about", "size-class": "size class",
      open: "open", close: "close" }
  };
  var HIDDEN_FACTS = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": 1,
    "http://www.w3.org/2000/01/rdf-schema#label": 1,
    "http://www.w3.org/2004/02/skos/core#altLabel": 1
  };
  var PREFIXES = [["yfid:", "https://w3id.org/yufeng-kg/id/"], ["yf:", "https://w3id.org/yufeng-kg/ontology#"],
    ["yfsrc:", "https://w3id.org/yufeng-kg/source/"], ["wd:", "http://www.wikidata.org/entity/"],
    ["gn:", "https://sws.geonames.org/"]];

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
  function fade(hex, a) {
    var v = parseInt(hex.slice(1), 16);
    return "rgba(" + ((v >> 16) & 255) + "," + ((v >> 8) & 255) + "," + (v & 255) + "," + a + ")";
  }
  function curie(iri) {
    for (var i = 0; i < PREFIXES.length; i++) if (iri.indexOf(PREFIXES[i][1]) === 0) return PREFIXES[i][0] + iri.slice(PREFIXES[i][1].length);
    return iri;
  }
  function uncurie(s) {
    for (var i = 0; i < PREFIXES.length; i++) if (s.indexOf(PREFIXES[i][0]) === 0) return PREFIXES[i][1] + s.slice(PREFIXES[i][0].length);
    return s;
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
    var base = [n.label_zh, n.label_en, n.pinyin].concat(n.aliases || []).map(plain);
    if (n.keys) base = base.concat(n.keys.split("\n"));
    return base.filter(function (k, i, a) { return k && a.indexOf(k) === i; });
  }
  /* the compact form written by kg.views.viz.pack(): {f: fields, r: rows} and edges as index rows */
  function unpack(data) {
    if (!data.nodes || Array.isArray(data.nodes)) return data;
    var f = data.nodes.f, nodes = data.nodes.r.map(function (row) {
      var n = {};
      for (var i = 0; i < f.length; i++) if (row[i] !== null && row[i] !== undefined) n[f[i]] = row[i];
      if (!n.aliases) n.aliases = [];
      if (!n.types) n.types = [n.group];
      return n;
    });
    var preds = data.predicates || [];
    function edges(rows) {
      return (rows || []).map(function (r) {
        var p = preds[r[2]];
        return { from: nodes[r[0]] ? nodes[r[0]].id : r[0], to: nodes[r[1]] ? nodes[r[1]].id : r[1],
          predicate: p[0], label_zh: p[1], label_en: p[2], inferred: !!r[3] };
      });
    }
    var out = Object.assign({}, data, { nodes: nodes, edges: edges(data.edges) });
    if (data.context && data.context.nodes && !Array.isArray(data.context.nodes)) {
      var ctx = unpack({ nodes: data.context.nodes, edges: [], predicates: preds });
      var all = nodes.concat(ctx.nodes);
      out.context = { nodes: ctx.nodes, edges: (data.context.edges || []).map(function (r) {
        var p = preds[r[2]];
        return { from: all[r[0]].id, to: all[r[1]].id, predicate: p[0], label_zh: p[1], label_en: p[2], inferred: !!r[3] };
      }) };
    }
    return out;
  }

  /* ---------- providers ---------- */
  function EmbeddedProvider(data) {
    var self = this;
    this.data = data;
    this.byId = new Map();
    this.adjacency = null;  // built on first use, or right after the first frame (see warm)
    function addNode(n) { if (!self.byId.has(n.id)) self.byId.set(n.id, n); }
    data.nodes.forEach(addNode);
    var ctx = data.context || { nodes: [], edges: [] };
    ctx.nodes.forEach(addNode);
    this.keys = null;
  }
  /* node id -> its edges (both directions), each edge once */
  Object.defineProperty(EmbeddedProvider.prototype, "adj", { get: function () {
    if (this.adjacency) return this.adjacency;
    var adj = new Map(), seen = new Set(), ctx = this.data.context || { edges: [] };
    function add(e) {
      var k = e.from + "\u0001" + e.predicate + "\u0001" + e.to;
      if (seen.has(k)) return;
      seen.add(k);
      var a = adj.get(e.from);
      if (!a) adj.set(e.from, a = []);
      a.push(e);
      if (e.to === e.from) return;
      var b = adj.get(e.to);
      if (!b) adj.set(e.to, b = []);
      b.push(e);
    }
    this.data.edges.forEach(add);
    (ctx.edges || []).forEach(add);
    this.adjacency = adj;
    return adj;
  } });
  /* what the first frame does not need, done once it is on screen (a click before that builds it) */
  EmbeddedProvider.prototype.warm = function () { return this.adj; };
  EmbeddedProvider.prototype.graph = function () {
    var d = this.data;
    return Promise.resolve({ nodes: d.nodes, edges: d.edges, legend: d.legend, overview: d.overview, sources: d.sources, meta: d.meta });
  };
  EmbeddedProvider.prototype.search = function (q, limit) {
    var self = this, want = plain(q), bare = want.replace(/[1-5]/g, ""), hits = [];
    if (!want) return Promise.resolve({ hits: [] });
    if (!this.keys) { this.keys = new Map(); this.byId.forEach(function (n, id) { self.keys.set(id, keysOf(n)); }); }
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
  /* the details block: JSON, or for big graphs gzip in base64 (kg.views.viz.encode_details), which
     keeps megabytes of facts and evidence out of what the browser reads and parses before the
     first frame. The gzipped text is lines: the IRIs (one JSON array), then one JSON detail per
     IRI in that order; it is inflated once (natively) and each line parsed when its panel opens.
     Returns a promise of a function iri -> detail (or undefined). */
  function readDetails() {
    var block = document.getElementById("kg-details");
    if (!block) return Promise.resolve(function () { return undefined; });
    if (block.getAttribute("data-encoding") !== "gzip-base64") {
      var all = JSON.parse(block.textContent);
      return Promise.resolve(function (iri) { return all[iri]; });
    }
    var bin = atob(block.textContent.trim()), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(function (text) {
      var lines = text.split("\n"), at = new Map(), parsed = new Map();
      JSON.parse(lines[0]).forEach(function (iri, k) { at.set(iri, k + 1); });
      return function (iri) {
        if (!at.has(iri)) return undefined;
        if (!parsed.has(iri)) parsed.set(iri, JSON.parse(lines[at.get(iri)]));
        return parsed.get(iri);
      };
    });
  }
  EmbeddedProvider.prototype.node = function (iri) {
    var self = this, given = this.data.details;
    if (!this.details) this.details = given ? Promise.resolve(function (k) { return given[k]; }) : readDetails();
    return this.details.then(function (detail) {
      var d = detail(iri);
      if (d) return d;
      var n = self.byId.get(iri);
      if (!n) throw new Error("unknown node " + iri);
      return { iri: iri, label_zh: n.label_zh, label_en: n.label_en, types: n.types, out: [], incoming: [], external: [] };
    });
  };
  EmbeddedProvider.prototype.nodeShape = function (iri) { return this.byId.get(iri); };
  EmbeddedProvider.prototype.neighbours = function (iri) { return this.adj.get(iri) || []; };
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

  function ServerProvider(base) { this.base = base.replace(/\/$/, ""); this.cache = new Map(); this.adj = new Map(); }
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
    var self = this, url = new URLSearchParams(window.location.search);
    return this.get("/graph", { focus: url.get("focus"), depth: url.get("depth") }).then(function (g) {
      (g.edges || []).forEach(function (e) {
        [e.from, e.to].forEach(function (id) { if (!self.adj.has(id)) self.adj.set(id, []); self.adj.get(id).push(e); });
      });
      return g;
    });
  };
  ServerProvider.prototype.search = function (q, limit) { return this.get("/search", { q: q, limit: limit || 20 }); };
  ServerProvider.prototype.node = function (iri) {
    var self = this;
    if (!this.cache.has(iri)) this.cache.set(iri, this.get("/node", { iri: iri }).catch(function (e) { self.cache.delete(iri); throw e; }));
    return this.cache.get(iri);
  };
  ServerProvider.prototype.nodeShape = function () { return null; };
  ServerProvider.prototype.neighbours = function (iri) { return this.adj.get(iri) || []; };
  ServerProvider.prototype.focus = function (iri) { return this.get("/graph", { focus: iri, depth: 1 }); };
  ServerProvider.prototype.expand = function (iri, predicate, offset, limit) {
    return this.get("/expand", { iri: iri, predicate: predicate, offset: offset || 0, limit: limit || EXPAND_LIMIT });
  };

  /* ---------- the view state and the URL fragment ---------- */
  function defaultState(meta) {
    return { focus: meta.focus || null, depth: meta.depth || 1, hide: new Set(meta.hidden_groups || CONFIG.hidden_groups || []),
      lang: CONFIG.lang === "en" ? "en" : "zh", year: "all", mod: "both", undated: true, open: new Set(),
      sel: null, path: null, community: false };
  }
  function readFragment(state) {
    var h = window.location.hash.replace(/^#/, "");
    if (!h) return state;
    var q = new URLSearchParams(h), list = function (k) { return (q.get(k) || "").split(",").filter(Boolean); };
    if (q.has("focus")) state.focus = q.get("focus") ? uncurie(q.get("focus")) : null;
    if (q.has("depth")) state.depth = Math.max(0, Math.min(4, parseInt(q.get("depth"), 10) || 1));
    if (q.has("hide")) state.hide = new Set(list("hide"));
    if (q.get("lang") === "en" || q.get("lang") === "zh") state.lang = q.get("lang");
    if (q.has("year")) state.year = /^\d{4}$/.test(q.get("year")) ? q.get("year") : "all";
    if (["both", "result", "plan"].indexOf(q.get("mod")) >= 0) state.mod = q.get("mod");
    if (q.has("undated")) state.undated = q.get("undated") !== "0";
    if (q.has("open")) state.open = new Set(list("open"));
    if (q.has("sel")) state.sel = q.get("sel") ? uncurie(q.get("sel")) : null;
    if (q.has("path")) { var p = list("path").map(uncurie); state.path = p.length === 2 ? p : null; }
    if (q.has("community")) state.community = q.get("community") === "1";
    return state;
  }
  function writeFragment(state) {
    var q = [];
    function put(k, v) { q.push(k + "=" + encodeURIComponent(v).replace(/%3A/g, ":").replace(/%2C/g, ",")); }
    if (state.focus) { put("focus", curie(state.focus)); put("depth", state.depth); }
    put("lang", state.lang);
    put("hide", Array.from(state.hide).sort().join(","));
    if (state.year !== "all") put("year", state.year);
    if (state.mod !== "both") put("mod", state.mod);
    if (!state.undated) put("undated", "0");
    if (state.open.size) put("open", Array.from(state.open).sort().join(","));
    if (state.sel) put("sel", curie(state.sel));
    if (state.path) put("path", state.path.map(curie).join(","));
    if (state.community) put("community", "1");
    return "#" + q.join("&");
  }

  /* ---------- the explorer ---------- */
  function Explorer(provider, meta) {
    this.provider = provider;
    this.meta = meta || {};
    this.state = readFragment(defaultState(this.meta));
    this.lang = this.state.lang;
    this.info = new Map();       // node id -> payload node (and group id -> group)
    this.edgeInfo = new Map();
    this.legend = new Map();
    this.sources = {};
    this.groups = new Map();     // overview group id -> group
    this.memberOf = new Map();   // node id -> group id
    this.expanded = new Map();   // per-node "neighbours by property" paging
    this.selected = null;
    this.ready = false;
    this.timings = { start: performance.now() };
  }
  Explorer.prototype.t = function (key) { return UI[this.lang][key] || key; };
  Explorer.prototype.label = function (o) { return (this.lang === "en" ? o.label_en : o.label_zh) || o.label_zh || o.label_en || ""; };
  Explorer.prototype.otherLabel = function (o) { return (this.lang === "en" ? o.label_zh : o.label_en) || ""; };
  Explorer.prototype.style = function (n) {
    var g = this.legend.get(n.group);
    return g ? { color: g.color, shape: g.shape } : { color: n.color || "#777777", shape: n.shape || "dot" };
  };
  Explorer.prototype.colourOf = function (n) {
    if (this.state.community) return n.community === null || n.community === undefined ? "#b0b4bb" : PALETTE[n.community % PALETTE.length];
    return this.style(n).color;
  };

  /* does a node pass the legend and the time control? "apart" = undated but timed, shown dashed */
  Explorer.prototype.passes = function (n) {
    if (this.state.hide.has(n.group)) return false;
    /* the backbone (district, campaigns, goals) is the frame of every year: never filtered by time */
    if (this.backboneSet && this.backboneSet.has(n.id)) return true;
    var t = n.time, s = this.state;
    if (!t || (s.year === "all" && s.mod === "both")) return true;
    var timed = t.m.indexOf("plan") >= 0 || t.m.indexOf("result") >= 0;
    if (!timed) return true;
    if (s.mod !== "both" && t.m.indexOf(s.mod) < 0) return false;
    if (s.year === "all") return true;
    if (!t.y) return s.undated ? "apart" : false;
    return String(t.y) === s.year;
  };

  Explorer.prototype.start = function () {
    var self = this;
    this.status(this.t("loading"));
    return this.provider.graph().then(function (g) {
      self.sources = g.sources || {};
      if (g.meta) self.meta = Object.assign({}, g.meta, self.meta);
      self.setLegend(g.legend || []);
      self.overviewData = g.overview || null;
      self.build(g.nodes, g.edges);
    }).catch(function (err) { self.status(String(err && err.message || err)); throw err; });
  };

  Explorer.prototype.setLegend = function (legend) {
    var self = this;
    legend.forEach(function (l) {
      var old = self.legend.get(l.group);
      self.legend.set(l.group, old ? Object.assign({}, old, { count: Math.max(old.count, l.count) }) : l);
    });
  };

  Explorer.prototype.drawLegend = function () {
    var self = this, list = $("kg-legend-list");
    list.textContent = "";
    var counts = new Map(), fams = new Map();
    this.info.forEach(function (n) { if (!n.isGroup) counts.set(n.group, (counts.get(n.group) || 0) + 1); });
    this.legend.forEach(function (l, group) {
      var fam = l.family || "";
      if (!fams.has(fam)) fams.set(fam, []);
      fams.get(fam).push([group, l]);
    });
    var famInfo = (this.overviewData && this.overviewData.families) || (this.meta.families) || {};
    var order = Object.keys(famInfo);
    Array.from(fams.keys()).sort(function (a, b) {
      var i = order.indexOf(a), j = order.indexOf(b);
      return (i < 0 ? 99 : i) - (j < 0 ? 99 : j);
    }).forEach(function (fam) {
      var rows = fams.get(fam);
      if (fam && famInfo[fam]) {
        var head = el("li", { cls: "family", "data-family": fam }, el("span", { cls: "fam-dot" }), el("span", { text: self.label(famInfo[fam]) }));
        head.firstChild.style.background = famInfo[fam].color;
        list.appendChild(head);
      }
      rows.forEach(function (r) {
        var group = r[0], l = r[1];
        var box = el("input", { type: "checkbox", "data-group": group });
        box.checked = !self.state.hide.has(group);
        box.addEventListener("change", function () { self.setHidden(group, !box.checked); });
        var glyph = el("span", { cls: "swatch", text: SHAPE_GLYPH[l.shape] || "●" });
        glyph.style.color = l.color;
        var name = el("span", { cls: "name", text: self.lang === "en" ? l.label_en : l.label_zh, title: group });
        var count = el("span", { cls: "count", text: String(counts.has(group) ? counts.get(group) : l.count) });
        var only = el("button", { type: "button", cls: "only", "data-only": group, text: self.t("only") });
        only.addEventListener("click", function () { self.showOnly(group); });
        list.appendChild(el("li", { "data-group": group }, el("label", null, box, glyph, name, count), only));
      });
    });
  };

  Explorer.prototype.drawTime = function () {
    var self = this, years = this.meta.years || [], sel = $("kg-year");
    sel.textContent = "";
    sel.appendChild(el("option", { value: "all", text: this.t("allYears") }));
    years.forEach(function (y) { sel.appendChild(el("option", { value: String(y), text: String(y) })); });
    if (this.state.year !== "all" && years.map(String).indexOf(this.state.year) < 0) sel.appendChild(el("option", { value: this.state.year, text: this.state.year }));
    sel.value = this.state.year;
    var mod = $("kg-mod");
    mod.textContent = "";
    [["both", "both"], ["result", "results"], ["plan", "plans"]].forEach(function (m) { mod.appendChild(el("option", { value: m[0], text: self.t(m[1]) })); });
    mod.value = this.state.mod;
    $("kg-undated").checked = this.state.undated;
  };

  /* ---------- building the picture ---------- */
  Explorer.prototype.build = function (nodes, edges) {
    var self = this;
    nodes.forEach(function (n) { self.info.set(n.id, n); });
    this.edgeList = [];
    var seen = new Set();
    edges.forEach(function (e) {
      var id = e.from + "\u0001" + e.predicate + "\u0001" + e.to;
      if (!seen.has(id)) { seen.add(id); e.id = id; self.edgeInfo.set(id, e); self.edgeList.push(e); }
    });
    this.webgl = nodes.length > WEBGL && typeof Sigma !== "undefined";
    var ov = this.overviewData;
    if (ov && !this.webgl) {
      ov.groups.forEach(function (g) {
        var grp = { id: g.id, isGroup: true, home: g.home, kind: g.kind, label_zh: g.label_zh, label_en: g.label_en,
          members: g.members.filter(function (m) { return self.info.has(m); }), group: "__group__" };
        self.groups.set(g.id, grp);
        grp.members.forEach(function (m) { self.memberOf.set(m, g.id); });
      });
      this.backbone = [ov.centre].concat(ov.programmes, ov.campaigns, ov.umbrellas, ov.goals).filter(function (b) { return self.info.has(b); });
      this.backboneSet = new Set(this.backbone);
    }
    this.drawLegend();
    this.drawTime();
    this.timings.data = performance.now();
    this.renderer = this.webgl ? new SigmaRenderer(this) : new VisRenderer(this);
    this.renderer.create(nodes, this.edgeList);
    this.timings.network = performance.now();
    this.renderer.whenReady(function () {
      self.applyState(true);
      self.renderer.afterNextDraw(function () {
        self.timings.drawn = performance.now();
        /* ready means usable: the first frame is on screen (two animation frames after the draw:
           with software WebGL the compositor, not our code, takes most of the time) and the
           main thread is free again, so a click, a drag or a wheel is answered at once */
        requestAnimationFrame(function () { requestAnimationFrame(function () { setTimeout(function () {
          self.ready = true;
          self.timings.ready = performance.now();
          document.body.setAttribute("data-ready", "1");
          self.status();
          if (self.provider.warm) setTimeout(function () { self.provider.warm(); }, 0);
        }, 0); }); });
      });
    });
    window.addEventListener("hashchange", function () {
      if (window.location.hash === self.lastHash) return;
      self.state = readFragment(defaultState(self.meta));
      self.lang = self.state.lang;
      self.relabelChrome();
      self.drawLegend();
      self.drawTime();
      self.applyState(true);
    });
  };

  /* which nodes are shown, where, and how: one pass over the state */
  Explorer.prototype.visibleSet = function () {
    var self = this, s = this.state, show = new Map(), pinned = new Set();
    if (this.focusSet === undefined || this.focusKey !== s.focus + "|" + s.depth) {
      this.focusKey = s.focus + "|" + s.depth;
      this.focusSet = s.focus && this.info.has(s.focus) ? this.ego(s.focus, s.depth) : null;
    }
    if (s.sel && this.info.has(s.sel)) {
      pinned.add(s.sel);
      this.provider.neighbours(s.sel).forEach(function (e) { pinned.add(e.from); pinned.add(e.to); });
    }
    (this.pathNodes || []).forEach(function (id) { pinned.add(id); });
    this.info.forEach(function (n, id) {
      if (n.isGroup) return;
      var p = self.passes(n);
      if (!p) return;
      if (self.focusSet && !self.focusSet.has(id)) return;
      if (self.groups.size && !self.focusSet && !self.backboneSet.has(id)) {
        var g = self.memberOf.get(id);
        if (!(g && s.open.has(g)) && !pinned.has(id)) return;
      }
      show.set(id, p);
    });
    if (s.sel && this.info.has(s.sel) && !show.has(s.sel) && !this.state.hide.has(this.info.get(s.sel).group)) show.set(s.sel, true);
    return { show: show, pinned: pinned };
  };

  Explorer.prototype.ego = function (iri, depth) {
    var seen = new Set([iri]), layer = [iri];
    for (var d = 0; d < depth; d++) {
      var next = [];
      layer.forEach(function (id) {
        this.provider.neighbours(id).forEach(function (e) {
          [e.from, e.to].forEach(function (m) { if (!seen.has(m) && this.info.has(m)) { seen.add(m); next.push(m); } }, this);
        }, this);
      }, this);
      layer = next;
    }
    return seen;
  };

  Explorer.prototype.groupCounts = function () {
    var self = this, out = new Map();
    this.groups.forEach(function (g, id) {
      out.set(id, g.members.filter(function (m) { return self.passes(self.info.get(m)); }).length);
    });
    return out;
  };

  /* the overview layout: campaigns in a row above the district, their groups stacked above them;
     goals in a row below; the district's own groups in two columns beside it. Rows and
     columns are far enough apart that labels (cut to 14 characters) never meet. */
  Explorer.prototype.overviewLayout = function (show, counts) {
    var self = this, ov = this.overviewData, pos = new Map(), s = this.state;
    var CW = 400, GW = 260, GROUP_STEP = 56, MEMBER_STEP = 42;
    var camps = ov.campaigns.filter(function (c) { return self.info.has(c); });
    var centre = ov.centre;
    pos.set(centre, { x: 0, y: 40 });
    ov.programmes.forEach(function (p, i) { pos.set(p, { x: (i - (ov.programmes.length - 1) / 2) * 220, y: -80 }); });
    camps.forEach(function (c, i) { pos.set(c, { x: (i - (camps.length - 1) / 2) * CW, y: -230 }); });
    ov.umbrellas.forEach(function (u, i) { pos.set(u, { x: (i - (ov.umbrellas.length - 1) / 2) * 220, y: 170 }); });
    var byHome = new Map();
    this.groups.forEach(function (g) {
      if (!counts.get(g.id)) return;
      if (!byHome.has(g.home)) byHome.set(g.home, []);
      byHome.get(g.home).push(g);
    });
    function stack(groups, x, y, dir) {
      groups.forEach(function (g) {
        pos.set(g.id, { x: x, y: y });
        y += dir * GROUP_STEP;
        var members = g.members.filter(function (m) { return show.has(m); });
        if (dir < 0) members = members.slice().reverse();
        members.forEach(function (m) { pos.set(m, { x: x, y: y }); y += dir * MEMBER_STEP; });
        if (members.length) y += dir * 16;
      });
      return y;
    }
    camps.concat(ov.programmes).forEach(function (c) { if (pos.has(c)) stack(byHome.get(c) || [], pos.get(c).x, pos.get(c).y - 62, -1); });
    var mine = byHome.get(centre) || [], left = [], right = [];
    mine.forEach(function (g, i) { (i % 2 ? right : left).push(g); });
    var side = Math.max(330, (camps.length ? Math.abs(pos.get(camps[0]).x) : 380) - CW / 2 + 20);
    var bottom = Math.max(stack(left, -side, -140, 1), stack(right, side, -140, 1));
    var goalY = Math.max(300, bottom + 60);
    var goals = ov.goals.filter(function (z) { return self.info.has(z); });
    goals.forEach(function (z, i) {
      pos.set(z, { x: (i - (goals.length - 1) / 2) * GW, y: goalY });
      stack(byHome.get(z) || [], pos.get(z).x, goalY + 80, 1);
    });
    ov.umbrellas.forEach(function (u) { stack(byHome.get(u) || [], pos.get(u).x + 200, pos.get(u).y, 1); });
    return pos;
  };

  /* a focus view: the entity in the middle, what is one link away in the columns beside it,
     two links away in the next columns out; columns are far enough apart for cut labels */
  Explorer.prototype.focusLayout = function (show) {
    var self = this, pos = new Map(), focus = this.state.focus, dist = new Map([[focus, 0]]), layer = [focus];
    for (var d = 1; d <= this.state.depth; d++) {
      var next = [];
      layer.forEach(function (id) {
        self.provider.neighbours(id).forEach(function (e) {
          [e.from, e.to].forEach(function (m) { if (!dist.has(m) && show.has(m)) { dist.set(m, d); next.push(m); } });
        });
      });
      next.sort(function (a, b) {
        var na = self.info.get(a), nb = self.info.get(b);
        return (na.group < nb.group ? -1 : na.group > nb.group ? 1 : 0) || (a < b ? -1 : 1);
      });
      var left = next.filter(function (x, i) { return i % 2 === 0; }), right = next.filter(function (x, i) { return i % 2 === 1; });
      [[left, -1], [right, 1]].forEach(function (col) {
        col[0].forEach(function (id, i) { pos.set(id, { x: col[1] * 320 * d, y: (i - (col[0].length - 1) / 2) * 44 }); });
      });
      layer = next;
    }
    pos.set(focus, { x: 0, y: 0 });
    return pos;
  };

  /* apply the whole state to the picture (visibility, positions, highlight) and the fragment */
  Explorer.prototype.applyState = function (fit) {
    var self = this, s = this.state;
    this.pathNodes = null;
    if (s.path) this.pathNodes = this.findPath(s.path[0], s.path[1]);
    var vs = this.visibleSet(), counts = this.groups.size ? this.groupCounts() : null;
    var layout = this.focusSet ? this.focusLayout(vs.show) : this.groups.size ? this.overviewLayout(vs.show, counts) : null;
    this.shown = vs.show;
    this.renderer.apply(vs.show, layout, counts);
    this.selected = s.sel && vs.show.has(s.sel) ? s.sel : null;
    this.highlight();
    if (fit) {
      this.renderer.fit();
      /* a shared view with a selection opens on it, readable; a tall overview is not shrunk unreadably */
      if (this.selected) this.renderer.focusOn(this.selected);
      else if (this.renderer.minScale) this.renderer.minScale(0.6);
    }
    if (this.selected) this.showPanel(this.selected);
    else $("kg-panel").hidden = true;
    this.drawPathBar();
    this.saveFragment();
    this.status();
  };

  Explorer.prototype.saveFragment = function () {
    var h = writeFragment(this.state);
    this.lastHash = h;
    if (window.location.hash !== h) {
      try { history.replaceState(null, "", h); } catch (e) { /* file:// in some browsers */ window.location.hash = h; }
    }
  };

  /* selection: the node and its neighbours (or the path) highlighted, the rest dimmed */
  Explorer.prototype.highlight = function () {
    var self = this, keep = null, keepEdges = null;
    if (this.pathNodes && this.pathNodes.length) {
      keep = new Set(this.pathNodes);
      keepEdges = new Set();
      for (var i = 0; i + 1 < this.pathNodes.length; i++) {
        var a = this.pathNodes[i], b = this.pathNodes[i + 1];
        this.provider.neighbours(a).forEach(function (e) { if ((e.from === a && e.to === b) || (e.from === b && e.to === a)) keepEdges.add(e.from + "\u0001" + e.predicate + "\u0001" + e.to); });
      }
    } else if (this.selected) {
      keep = new Set([this.selected]);
      keepEdges = new Set();
      this.provider.neighbours(this.selected).forEach(function (e) {
        keep.add(e.from); keep.add(e.to);
        keepEdges.add(e.from + "\u0001" + e.predicate + "\u0001" + e.to);
      });
      var g = this.memberOf.get(this.selected);
      if (g) keep.add(g);
    }
    this.renderer.highlight(keep, keepEdges, this.selected);
  };

  Explorer.prototype.findPath = function (a, b) {
    if (!this.info.has(a) || !this.info.has(b)) return [];
    var prev = new Map([[a, null]]), queue = [a];
    while (queue.length) {
      var cur = queue.shift();
      if (cur === b) break;
      var nb = this.provider.neighbours(cur);
      for (var i = 0; i < nb.length; i++) {
        var m = nb[i].from === cur ? nb[i].to : nb[i].from;
        /* through nodes the filters show only: no detour through a hidden vocabulary hub */
        if (!prev.has(m) && this.info.has(m) && (m === b || this.passes(this.info.get(m)))) { prev.set(m, cur); queue.push(m); }
      }
    }
    if (!prev.has(b)) return [];
    var out = [];
    for (var x = b; x !== null; x = prev.get(x)) out.unshift(x);
    return out;
  };

  Explorer.prototype.drawPathBar = function () {
    var self = this, bar = $("kg-pathbar");
    bar.textContent = "";
    if (this.pathStart && !this.state.path) {
      bar.appendChild(el("span", { text: this.t("pathTo") + this.label(this.info.get(this.pathStart)) + " → ?" }));
    } else if (this.state.path) {
      var nodes = this.pathNodes || [];
      if (!nodes.length) bar.appendChild(el("span", { cls: "none", text: this.t("pathNone") }));
      nodes.forEach(function (id, i) {
        if (i) bar.appendChild(el("span", { cls: "arrow", text: " → " }));
        bar.appendChild(el("button", { type: "button", cls: "val", "data-iri": id, text: self.label(self.info.get(id)),
          on: { click: function () { self.select(id); } } }));
      });
    } else { bar.hidden = true; return; }
    bar.appendChild(el("button", { type: "button", id: "kg-path-clear", text: this.t("pathClear"),
      on: { click: function () { self.pathStart = null; self.state.path = null; self.applyState(false); } } }));
    bar.hidden = false;
  };

  /* ---------- actions ---------- */
  Explorer.prototype.select = function (iri, opts) {
    opts = opts || {};
    if (!this.info.has(iri)) {
      var shape = this.provider.nodeShape(iri);
      if (!shape) return Promise.resolve();
      this.info.set(iri, shape);
      this.renderer.addNode(shape);
    }
    var n = this.info.get(iri);
    if (this.state.hide.has(n.group)) { this.state.hide.delete(n.group); this.drawLegend(); }
    if (this.pathStart && this.pathStart !== iri) { this.state.path = [this.pathStart, iri]; this.pathStart = null; }
    this.state.sel = iri;
    this.applyState(false);
    if (opts.move) this.renderer.focusOn(iri);
    var shown = this.selected ? this.showPanel(iri) : Promise.resolve();
    var grown = opts.expand ? this.expand(iri) : Promise.resolve();
    return Promise.all([shown, grown]);
  };
  Explorer.prototype.unselect = function () { this.state.sel = null; this.applyState(false); };
  Explorer.prototype.toggleGroup = function (gid) {
    var opening = !this.state.open.has(gid);
    if (opening) this.state.open.add(gid); else this.state.open.delete(gid);
    this.applyState(false);
    if (opening && this.renderer.reveal) {
      var self = this;
      this.renderer.reveal([gid].concat(this.groups.get(gid).members.filter(function (m) { return self.shown.has(m); })));
    }
  };
  Explorer.prototype.setHidden = function (group, hide) {
    if (hide) this.state.hide.add(group); else this.state.hide.delete(group);
    this.syncLegend();
    this.applyState(false);
  };
  Explorer.prototype.showOnly = function (group) {
    var self = this;
    this.state.hide = new Set();
    this.legend.forEach(function (l, g) { if (g !== group) self.state.hide.add(g); });
    this.syncLegend();
    this.applyState(false);
  };
  Explorer.prototype.showAll = function () { this.state.hide = new Set(); this.syncLegend(); this.applyState(false); };
  Explorer.prototype.syncLegend = function () {
    var self = this;
    document.querySelectorAll("#kg-legend-list input[data-group]").forEach(function (box) {
      box.checked = !self.state.hide.has(box.getAttribute("data-group"));
    });
  };
  Explorer.prototype.setTime = function (year, mod, undated) {
    this.state.year = year; this.state.mod = mod; this.state.undated = undated;
    this.applyState(false);
  };
  Explorer.prototype.visibleCount = function () { return this.shown ? this.shown.size : 0; };
  Explorer.prototype.visibleIds = function () { return this.shown ? Array.from(this.shown.keys()) : []; };

  Explorer.prototype.status = function (text) {
    if (text) { $("kg-status-text").textContent = text; return; }
    var real = 0;
    this.info.forEach(function (n) { if (!n.isGroup) real += 1; });
    $("kg-status-text").textContent = real + " " + this.t("nodes") + " · " + this.edgeList.length + " " +
      this.t("edges") + " · " + this.visibleCount() + " " + this.t("shown") + (this.meta.title ? " · " + this.meta.title : "") +
      (this.webgl ? " · WebGL" : "");
  };

  Explorer.prototype.relabelChrome = function () {
    var self = this;
    document.documentElement.lang = this.lang === "en" ? "en" : "zh-Hans";
    document.querySelectorAll("[data-t]").forEach(function (node) { node.textContent = self.t(node.getAttribute("data-t")); });
    $("kg-search").placeholder = this.t("placeholder");
    $("kg-lang").value = this.lang;
    $("kg-community").checked = this.state.community;
  };
  Explorer.prototype.relabel = function () {
    this.state.lang = this.lang;
    this.relabelChrome();
    this.drawLegend();
    this.drawTime();
    this.renderer.relabel();
    this.applyState(false);
  };

  /* ---------- the side panel ---------- */
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

  Explorer.prototype.sourceText = function (ev) {
    var src = this.sources[ev.document], name;
    if (src) {
      name = (this.lang === "en" ? src.title_en || src.title_zh : src.title_zh || src.title_en) || curie(ev.document);
      if (src.date) name += " (" + src.date + ")";
    } else name = curie(ev.document);
    return name;
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
    this.fidelityBadges(f, line);
    row.appendChild(line);
    (f.evidence || []).forEach(function (ev) {
      var box = el("div", { cls: "evidence" });
      if (ev.quote) box.appendChild(el("blockquote", { cls: "quote", text: ev.quote_readable || ev.quote }));
      var src = el("div", { cls: "src" });
      src.appendChild(el("span", { cls: "src-title", title: ev.document, text: self.t("source") + ": " + self.sourceText(ev) }));
      src.appendChild(el("span", { cls: "span", text: " [" + ev.start + "–" + ev.end + "]" }));
      if (ev.modality) src.appendChild(el("span", { cls: "badge " + String(ev.modality).replace(/[^a-z]/g, ""), text: self.t(ev.modality) }));
      self.fidelityBadges(ev, src);
      box.appendChild(src);
      var why = ev.support_reason || ev.supportReason ||
        (ev.support_reason_zh || ev.support_reason_en ? { zh: ev.support_reason_zh, en: ev.support_reason_en } : null);
      if (ev.support === "implied" && why) {
        box.appendChild(el("div", { cls: "reason", text: typeof why === "string" ? why : self.label({ label_zh: why.zh, label_en: why.en }) }));
      }
      row.appendChild(box);
    });
    return row;
  };
  /* fields the fidelity work adds (support, qualifier, value as written), shown when present */
  Explorer.prototype.fidelityBadges = function (o, into) {
    var support = o.support, q = o.qualifier, written = o.display || o.valueAsWritten || o.value_as_written || o.written;
    if (support) into.appendChild(el("span", { cls: "badge support " + String(support).replace(/[^a-z]/g, ""), text: this.t(String(support)) }));
    if (q && q !== "exact" && !/qualifier-exact$/.test(q)) {
      var key = String(q).replace(/^.*qualifier-/, "");
      into.appendChild(el("span", { cls: "badge qualifier", text: this.t(key) }));
    }
    if (written) into.appendChild(el("span", { cls: "written", text: this.t("asWritten") + ": " + written }));
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
    if (n.time && n.time.y) chips.appendChild(el("span", { cls: "chip year", text: String(n.time.y) }));
    body.appendChild(chips);
    body.appendChild(el("div", { cls: "iri", text: d.iri }));
    var tools = el("div", { cls: "tools" });
    tools.appendChild(el("button", { type: "button", id: "kg-path-from", text: this.t("pathFrom"), on: { click: function () {
      self.pathStart = d.iri; self.state.path = null; self.drawPathBar();
    } } }));
    if (!this.webgl) tools.appendChild(el("button", { type: "button", id: "kg-focus-here", text: this.t("focusHere"), on: { click: function () {
      self.state.focus = d.iri; self.state.depth = 1; self.applyState(true);
    } } }));
    body.appendChild(tools);
    if (d.chart_svg) {
      /* the chart comes from kg.views.chart as SVG text: parsed as XML, scripts and handlers dropped */
      var svg = new DOMParser().parseFromString(d.chart_svg, "image/svg+xml").documentElement;
      if (svg && svg.nodeName.toLowerCase() === "svg") {
        svg.querySelectorAll("script, foreignObject").forEach(function (x) { x.remove(); });
        svg.querySelectorAll("*").forEach(function (x) { Array.from(x.attributes).forEach(function (a) {
          /* handlers go; links may only point inside the chart (matplotlib draws text as <use href="#glyph">) */
          if (/^on/i.test(a.name) || (/href/i.test(a.name) && !/^#[\w.:-]*$/.test(a.value))) x.removeAttribute(a.name);
        }); });
        body.appendChild(el("section", { cls: "chart" }, el("h3", { text: this.t("chart") }), document.importNode(svg, true)));
      }
    }
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

  Explorer.prototype.expand = function (iri, predicate, offset) {
    var self = this;
    return this.provider.expand(iri, predicate, offset, EXPAND_LIMIT).then(function (ans) {
      var fresh = [];
      (ans.nodes || []).forEach(function (n) { if (!self.info.has(n.id)) { self.info.set(n.id, n); fresh.push(n); } });
      (ans.edges || []).forEach(function (e) {
        var id = e.from + "\u0001" + e.predicate + "\u0001" + e.to;
        if (!self.edgeInfo.has(id)) { e.id = id; self.edgeInfo.set(id, e); self.edgeList.push(e); self.renderer.addEdge && self.renderer.addEdgeLater(e); }
      });
      if (fresh.length) {
        fresh.forEach(function (n) {
          if (!self.legend.has(n.group)) self.legend.set(n.group, { group: n.group, label_zh: n.group, label_en: n.group, color: "#777777", shape: "dot", count: 0 });
        });
        self.renderer.addNodes(fresh, iri);
        self.extra = self.extra || new Set();
        fresh.forEach(function (n) { self.extra.add(n.id); });
        self.drawLegend();
      }
      var known = self.expanded.get(iri) || new Map();
      ans.groups.forEach(function (g) {
        var prev = known.get(g.predicate);
        var shown = predicate ? (prev ? prev.shown : 0) + g.returned : g.returned;
        known.set(g.predicate, Object.assign({}, g, { shown: Math.max(shown, prev && !predicate ? prev.shown : 0) }));
      });
      self.expanded.set(iri, known);
      if (fresh.length) self.applyState(false);
      if (self.selected === iri) self.drawGroups(iri);
      return ans;
    });
  };

  Explorer.prototype.drawGroups = function (iri) {
    var self = this, box = $("kg-groups");
    if (!box) return;
    box.textContent = "";
    var groups = this.expanded.get(iri);
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

  /* ---------- renderer: vis-network ---------- */
  function VisRenderer(app) { this.app = app; this.pending = []; }
  VisRenderer.prototype.visNode = function (n) {
    var app = this.app, st = app.style(n), c = app.colourOf(n), back = app.backboneSet && app.backboneSet.has(n.id);
    var centre = app.overviewData && app.overviewData.centre === n.id;
    return {
      id: n.id, label: short(app.label(n), app.lang === "en" ? 24 : 14), title: app.label(n), shape: st.shape,
      size: centre ? 30 : back ? 20 : app.groups.size ? 9 : Math.max(6, (n.size || 10) * 0.6),
      color: { background: c, border: darker(c), highlight: { background: c, border: "#111111" }, hover: { background: c, border: "#111111" } },
      font: { size: centre ? 24 : back ? 18 : 17, color: "#1d2330", strokeWidth: 4, strokeColor: "#ffffff", face: FONT, bold: back ? { color: "#1d2330" } : undefined },
      borderWidth: back ? 2.5 : 1.5, hidden: true, x: n.x, y: n.y
    };
  };
  VisRenderer.prototype.groupNode = function (g) {
    var app = this.app, fams = (app.overviewData && app.overviewData.families) || {};
    var fam = g.kind === "projects" ? "measures" : g.kind, c = (fams[fam] && fams[fam].color) || "#667085";
    return { id: g.id, label: "", shape: "box", hidden: true, margin: { top: 5, bottom: 5, left: 9, right: 9 },
      color: { background: fade(c, 0.14), border: c, highlight: { background: fade(c, 0.3), border: "#111111" }, hover: { background: fade(c, 0.3), border: "#111111" } },
      font: { size: 16, color: "#1d2330", face: FONT }, borderWidth: 1.5, shapeProperties: { borderRadius: 10 } };
  };
  VisRenderer.prototype.create = function (nodes, edges) {
    var self = this, app = this.app;
    this.positioned = nodes.length > 0 && nodes.every(function (n) { return n.x !== undefined && n.y !== undefined; });
    var first = app.visibleSet().show;
    var rows = nodes.map(function (n) { var v = self.visNode(n); v.hidden = !first.has(n.id); return v; });
    app.groups.forEach(function (g) { rows.push(self.groupNode(g)); });
    this.nodes = new vis.DataSet(rows);
    var erows = edges.map(function (e) { return self.visEdge(e); });
    app.groups.forEach(function (g) {
      erows.push({ id: "gl\u0001" + g.id, from: g.home, to: g.id, dashes: [4, 4], arrows: { to: { enabled: false } }, color: { color: "#c3c9d3" }, width: 1.2 });
    });
    this.edges = new vis.DataSet(erows);
    var physics = !app.groups.size && !this.positioned;
    this.network = new vis.Network($("kg-network"), { nodes: this.nodes, edges: this.edges }, this.options(physics, nodes.length));
    app.network = this.network;
    var net = this.network;
    net.on("click", function (p) {
      if (p.nodes.length) {
        var id = p.nodes[0];
        if (app.groups.has(id)) app.toggleGroup(id);
        else if (p.event && p.event.srcEvent && p.event.srcEvent.shiftKey && app.selected && app.selected !== id) { app.state.path = [app.selected, id]; app.applyState(false); }
        else app.select(id, { expand: false });
      } else if (!p.edges.length) app.unselect();
    });
    this.physics = physics;
  };
  VisRenderer.prototype.visEdge = function (e) {
    return { id: e.id, from: e.from, to: e.to, dashes: !!e.inferred, label: "" };
  };
  VisRenderer.prototype.options = function (physics, n) {
    var large = n > 1000;
    var opts = {
      autoResize: true,
      layout: { randomSeed: this.app.meta.seed === undefined ? 42 : this.app.meta.seed, improvedLayout: false },
      nodes: { borderWidth: 1.5, font: { face: FONT } },
      edges: {
        arrows: { to: { enabled: !large, scaleFactor: 0.4 } },
        color: { color: "#b9c0cb", highlight: "#344054", hover: "#344054", inherit: false },
        width: 1, selectionWidth: 1.5, smooth: false,
        font: { face: FONT, size: 11, color: "#475467", strokeWidth: 3, strokeColor: "#ffffff", align: "middle" }
      },
      interaction: { hover: !large, tooltipDelay: 300, hideEdgesOnDrag: large, hideEdgesOnZoom: large, multiselect: false },
      physics: false
    };
    if (physics) {
      opts.physics = {
        enabled: true, solver: "forceAtlas2Based",
        forceAtlas2Based: { gravitationalConstant: -45, centralGravity: 0.012, springLength: 90, springConstant: 0.07, damping: 0.5, avoidOverlap: 0.4 },
        maxVelocity: 60, minVelocity: 1.5, timestep: 0.5,
        stabilization: { enabled: true, iterations: n > SMALL ? 60 : 400, updateInterval: 25, fit: true }
      };
    }
    return opts;
  };
  VisRenderer.prototype.whenReady = function (cb) {
    var self = this, net = this.network;
    if (!this.physics) { cb(); return; }
    net.on("stabilizationProgress", function (p) {
      $("kg-progress").textContent = self.app.t("stabilising") + " " + Math.round(100 * p.iterations / p.total) + "%";
    });
    net.once("stabilizationIterationsDone", function () {
      $("kg-progress").textContent = "";
      net.setOptions({ physics: false });
      net.stopSimulation();
      cb();
    });
  };
  VisRenderer.prototype.afterNextDraw = function (cb) { this.network.once("afterDrawing", cb); this.network.redraw(); };
  /* only the rows whose values change go to the DataSet: vis redraws per update */
  VisRenderer.prototype.update = function (ds, rows) {
    var out = rows.filter(function (r) {
      var cur = ds.get(r.id);
      if (!cur) return false;
      return Object.keys(r).some(function (k) {
        if (k === "id") return false;
        var a = cur[k], b = r[k];
        if (b && typeof b === "object" && !Array.isArray(b) && a && typeof a === "object")
          return Object.keys(b).some(function (kk) { return JSON.stringify(a[kk]) !== JSON.stringify(b[kk]); });
        return JSON.stringify(a) !== JSON.stringify(b);
      });
    });
    if (out.length) ds.update(out);
  };
  VisRenderer.prototype.apply = function (show, layout, counts) {
    var app = this.app, self = this, changes = [];
    this.nodes.forEach(function (v) {
      var id = v.id, row = null;
      if (app.groups.has(id)) {
        var g = app.groups.get(id), k = counts.get(id) || 0, visible = k > 0 && !app.focusSet;
        var open = app.state.open.has(id);
        var label = (open ? "▾ " : "▸ ") + app.label(g) + " " + k;
        row = { id: id, hidden: !visible, label: label };
      } else {
        var st = show.get(id);
        row = { id: id, hidden: !st, shapeProperties: { borderDashes: st === "apart" ? [3, 3] : false } };
        if (st === "apart") row.opacity = 0.55;
      }
      if (layout && layout.has(id)) { var p = layout.get(id); row.x = p.x; row.y = p.y; }
      changes.push(row);
    });
    this.update(this.nodes, changes);
  };
  VisRenderer.prototype.highlight = function (keep, keepEdges, selected) {
    var app = this.app, rows = [], erows = [];
    /* dimming is one DataSet update per node: above a few hundred nodes shown, vis-network's own
       selection (the node and its links drawn bold) stands in for it */
    if (app.shown.size > DIM_LIMIT) {
      if (selected && this.nodes.get(selected) && !this.nodes.get(selected).hidden) this.network.selectNodes([selected]);
      else this.network.unselectAll();
      return;
    }
    this.nodes.forEach(function (v) {
      if (v.hidden) return;
      var on = !keep || keep.has(v.id);
      var base = app.groups.has(v.id) ? 1 : (app.shown.get(v.id) === "apart" ? 0.55 : 1);
      var back = app.backboneSet && app.backboneSet.has(v.id);
      rows.push({ id: v.id, opacity: on ? base : 0.15, font: { color: on ? "#1d2330" : "rgba(29,35,48,0.25)" },
        borderWidth: v.id === selected ? 4 : back ? 2.5 : 1.5 });
    });
    this.update(this.nodes, rows);
    this.edges.forEach(function (e) {
      var info = app.edgeInfo.get(e.id), on = !keep || (keepEdges && keepEdges.has(e.id)) || (!info && keep && keep.has(e.to) && keep.has(e.from));
      var lab = keep && keepEdges && keepEdges.has(e.id) && info ? app.label(info) : "";
      erows.push({ id: e.id, color: { color: on ? (keep ? "#344054" : (info ? "#b9c0cb" : "#c3c9d3")) : "rgba(185,192,203,0.15)" }, width: keep && on ? 2 : 1, label: lab });
    });
    this.update(this.edges, erows);
    if (selected && this.nodes.get(selected) && !this.nodes.get(selected).hidden) this.network.selectNodes([selected]);
    else this.network.unselectAll();
  };
  VisRenderer.prototype.fit = function () { this.network.fit({ animation: false }); };
  /* bring an opened group into view, at a readable scale (0.6 to 1) */
  VisRenderer.prototype.reveal = function (ids) {
    var net = this.network, scale = net.getScale(), box = $("kg-network").getBoundingClientRect();
    var ps = ids.map(function (id) { return net.getPosition(id); });
    var minX = Math.min.apply(null, ps.map(function (p) { return p.x; })), maxX = Math.max.apply(null, ps.map(function (p) { return p.x; }));
    var minY = Math.min.apply(null, ps.map(function (p) { return p.y; })), maxY = Math.max.apply(null, ps.map(function (p) { return p.y; }));
    var a = net.canvasToDOM({ x: minX - 120, y: minY - 30 }), b = net.canvasToDOM({ x: maxX + 120, y: maxY + 30 });
    if (a.x >= 0 && a.y >= 0 && b.x <= box.width && b.y <= box.height) return;
    var fitScale = Math.min(box.width / (maxX - minX + 240), box.height / (maxY - minY + 60));
    net.moveTo({ position: { x: (minX + maxX) / 2, y: (minY + maxY) / 2 }, scale: Math.max(0.75, Math.min(scale, fitScale)), animation: false });
  };
  VisRenderer.prototype.minScale = function (min) {
    if (this.network.getScale() >= min) return;
    var c = this.app.overviewData && this.nodes.get(this.app.overviewData.centre) ? this.network.getPosition(this.app.overviewData.centre) : this.network.getViewPosition();
    this.network.moveTo({ position: c, scale: min, animation: false });
  };
  VisRenderer.prototype.focusOn = function (iri) {
    if (this.nodes.get(iri)) this.network.focus(iri, { scale: Math.max(this.network.getScale(), 1.0), animation: false });
  };
  VisRenderer.prototype.relabel = function () {
    var self = this, app = this.app;
    this.nodes.update(this.nodes.getIds().filter(function (id) { return !app.groups.has(id); }).map(function (id) {
      var n = app.info.get(id), c = app.colourOf(n);
      return { id: id, label: short(app.label(n), app.lang === "en" ? 24 : 14), title: app.label(n),
        color: { background: c, border: darker(c), highlight: { background: c, border: "#111111" }, hover: { background: c, border: "#111111" } } };
    }));
  };
  VisRenderer.prototype.addNode = function (n) { this.addNodes([n], null); };
  VisRenderer.prototype.addNodes = function (fresh, around) {
    var self = this, centre = around && this.nodes.get(around) ? this.network.getPosition(around) : { x: 0, y: 0 };
    var radius = 140 + 6 * fresh.length;
    this.nodes.add(fresh.map(function (n, i) {
      var a = 2 * Math.PI * i / fresh.length, v = self.visNode(n);
      v.x = centre.x + radius * Math.cos(a); v.y = centre.y + radius * Math.sin(a);
      return v;
    }));
    this.flushEdges();
  };
  VisRenderer.prototype.addEdge = true;
  VisRenderer.prototype.addEdgeLater = function (e) { this.pending.push(e); this.flushEdges(); };
  VisRenderer.prototype.flushEdges = function () {
    var self = this, keep = [];
    var rows = this.pending.filter(function (e) {
      var ok = self.nodes.get(e.from) && self.nodes.get(e.to);
      if (!ok) keep.push(e);
      return ok && !self.edges.get(e.id);
    }).map(function (e) { return self.visEdge(e); });
    this.pending = keep;
    if (rows.length) this.edges.add(rows);
  };
  /* label boxes in DOM pixels of the nodes shown (for the tests and the overlap check) */
  VisRenderer.prototype.labelBoxes = function () {
    var net = this.network, out = [], rect = $("kg-network").getBoundingClientRect();
    net.redraw();
    this.nodes.forEach(function (v) {
      if (v.hidden || !v.label) return;
      var body = net.body.nodes[v.id], lm = body && body.labelModule;
      if (!lm || !lm.size || !lm.size.width) return;
      var a = net.canvasToDOM({ x: lm.size.left, y: lm.size.top }), b = net.canvasToDOM({ x: lm.size.left + lm.size.width, y: lm.size.top + lm.size.height });
      out.push({ id: v.id, left: a.x + rect.left, top: a.y + rect.top, right: b.x + rect.left, bottom: b.y + rect.top, text: v.label });
    });
    return out;
  };
  VisRenderer.prototype.domPosition = function (id) {
    var p = this.network.canvasToDOM(this.network.getPosition(id)), r = $("kg-network").getBoundingClientRect();
    return [p.x + r.left, p.y + r.top];
  };
  VisRenderer.prototype.frame = function () {
    var t = performance.now();
    this.network.redraw();
    return performance.now() - t;
  };

  /* ---------- renderer: sigma.js (WebGL) ---------- */
  /* Sigma's graph is keyed by the node's index here ("0", "1", ...), not by its IRI: graphology
     and sigma keep per-node and per-edge tables keyed by those strings, and short integer keys
     are several times cheaper than 40-character IRIs to build at 20k nodes. key(iri) and
     iri(key) translate; every method of this renderer takes and gives IRIs. */
  function SigmaRenderer(app) { this.app = app; this.keys = new Map(); this.iris = []; }
  /* every attribute sigma would otherwise add itself, in its order, so each copy it makes has
     one shape (sigma copies them per node and per edge) */
  function edgeStyle() { return { color: "#c5cbd4", label: "", size: 0.5, hidden: false, forceLabel: false, type: "line", zIndex: 0 }; }
  SigmaRenderer.prototype.key = function (iri) { return this.keys.get(iri); };
  SigmaRenderer.prototype.iri = function (key) { return this.iris[+key]; };
  SigmaRenderer.prototype.nodeAttributes = function (n, x, y, size) {
    var app = this.app;
    return { x: x, y: y, size: size, color: app.colourOf(n), label: short(app.label(n), 16), hidden: false,
      highlighted: false, forceLabel: false, type: "circle", zIndex: 0 };
  };
  SigmaRenderer.prototype.addKeyed = function (n, x, y, size) {
    var k = String(this.iris.length);  // a string made once: graphology turns every key into one per call
    this.keys.set(n.id, k);
    this.iris.push(n.id);
    this.graph.addNode(k, this.nodeAttributes(n, x, y, size));
  };
  /* one drawn line per linked pair: a simple graph (parallel edges of several predicates draw
     the same line, and a multigraph costs sigma and graphology far more per edge); which edges
     a selection highlights comes from app.edgeInfo, not from this graph */
  SigmaRenderer.prototype.link = function (e) {
    var a = this.keys.get(e.from), b = this.keys.get(e.to), g = this.graph;
    if (a === undefined || b === undefined || g.hasDirectedEdge(a, b)) return;
    g.addDirectedEdgeWithKey(g.size, a, b, edgeStyle());
  };
  SigmaRenderer.prototype.create = function (nodes, edges) {
    var app = this.app, G = graphology.Graph || graphology, self = this;
    var g = new G({ multi: false, type: "directed", allowSelfLoops: true });
    this.graph = g;
    var missing = nodes.some(function (n) { return n.x === undefined; });
    var golden = Math.PI * (3 - Math.sqrt(5));
    nodes.forEach(function (n, i) {
      var x = n.x, y = n.y;
      if (missing) { var r = 30 * Math.sqrt(i); x = r * Math.cos(i * golden); y = r * Math.sin(i * golden); }
      if (!self.keys.has(n.id)) self.addKeyed(n, x, -y, Math.max(2, (n.size || 10) / 5));
    });
    edges.forEach(function (e) { self.link(e); });
    this.show = null; this.keep = null; this.keepEdges = null;
    /* Points and lines, not sigma's default instanced triangles (discs from 3 vertices, edges as
       rectangles of 6): one vertex per node and two per edge. Where WebGL runs in software
       (SwiftShader: headless chromium, machines without a GPU driver) every instance is drawn
       apart, and the default programs made a 20k-node frame several seconds long (bench/viz_bench.py,
       "frame (presented)"); a point sprite is still an antialiased disc, an edge a 1-px line. */
    var R = Sigma.rendering || {}, nodeProgram = R.NodePointProgram, edgeProgram = R.EdgeLineProgram;
    var programs = nodeProgram && edgeProgram ? {
      nodeProgramClasses: { circle: nodeProgram }, nodeHoverProgramClasses: { circle: nodeProgram },
      edgeProgramClasses: { line: edgeProgram, arrow: edgeProgram }
    } : {};
    this.sigma = new Sigma(g, $("kg-network"), Object.assign({
      renderEdgeLabels: false, labelFont: FONT, labelSize: 13, labelWeight: "500", labelDensity: 0.6,
      labelGridCellSize: 120, labelRenderedSizeThreshold: 5, hideEdgesOnMove: true, zIndex: false,
      defaultEdgeType: "line",
      nodeReducer: function (id, attr) {
        var st = self.show ? self.show.get(self.iris[+id]) : true;
        if (!st) return Object.assign({}, attr, { hidden: true });
        return st === "apart" ? Object.assign({}, attr, { color: fade(attr.color, 0.45) }) : attr;
      },
      edgeReducer: null
    }, programs));
    app.network = this.sigma;
    this.overlay = el("canvas", { cls: "kg-overlay", "aria-hidden": "true" });
    $("kg-network").appendChild(this.overlay);
    this.moveLikeAPicture();
    this.sigma.on("afterRender", function () { if (self.keep) self.drawOverlay(); });
    this.sigma.on("clickNode", function (ev) { app.select(self.iri(ev.node), { expand: false }); });
    this.sigma.on("clickStage", function () { app.unselect(); });
  };
  /* While the camera moves (drag, wheel zoom, inertia, any camera animation: sigma's own "moving"
     test), the last frame drawn is moved and scaled as a picture (a CSS transform of sigma's
     layers, done by the compositor) instead of being drawn again; the graph is drawn for real,
     edges and labels included, once the camera rests. With software WebGL (SwiftShader: headless
     chromium, machines without a GPU driver) a full draw at 20k nodes takes ~200 ms on screen
     (bench/viz_bench.py), most of it rasterising 48k lines and 20k points, and a moved picture
     ~20 ms. What the user sees while moving: the same picture, shifted or scaled (blurred while
     zooming), with blank margins where the view uncovers parts not yet drawn (drawn, nodes only,
     when a drag is held still for 300 ms), and no hover labels.
     Sigma 3.0 also reprocesses every node and edge after a drag when hideEdgesOnMove is set
     (jacomyal/sigma.js#1500, a second-long stall at 20k here); only the camera changed, so that
     refresh becomes a plain draw. */
  SigmaRenderer.prototype.moveLikeAPicture = function () {
    var s = this.sigma, self = this, camera = s.getCamera(), captor = s.getMouseCaptor();
    var layers = ["edges", "edgeLabels", "nodes", "labels"].map(function (k) { return s.elements[k]; }).filter(Boolean).concat([this.overlay]);
    var hovers = ["hovers", "hoverNodes"].map(function (k) { return s.elements[k]; }).filter(Boolean);
    var draw = s.render, refresh = s.refresh;
    this.drawnState = null;   // the camera of the picture on screen
    this.moved = false;       // is that picture shown moved (a CSS transform)?
    this.draws = 0;           // real draws, counted for tests
    this.pauseMs = 300;       // a drag held still this long draws the uncovered parts
    layers.forEach(function (c) { c.style.transformOrigin = "0 0"; });
    var moving = function () {
      return camera.isAnimated() || captor.isMoving || captor.draggedEvents > 0 || !!captor.currentWheelDirection;
    };
    var place = function (transform) {
      layers.forEach(function (c) { c.style.transform = transform; });
      hovers.forEach(function (c) { c.style.visibility = transform ? "hidden" : ""; });
    };
    var pause = null;
    var drawNow = function (args) {
      clearTimeout(pause);
      if (self.moved) { place(""); self.moved = false; }
      self.drawnState = camera.getState();
      self.draws += 1;
      return draw.apply(s, args || []);
    };
    s.render = function () {
      var from = self.drawnState, to = camera.getState();
      if (from && moving() && from.angle === to.angle && !s.needToProcess) {
        if (s.renderFrame) { cancelAnimationFrame(s.renderFrame); s.renderFrame = null; }
        /* where two points of the graph were drawn, and where the camera puts them now */
        var a0 = s.framedGraphToViewport({ x: 0, y: 0 }, { cameraState: from }), b0 = s.framedGraphToViewport({ x: 1, y: 1 }, { cameraState: from });
        var a1 = s.framedGraphToViewport({ x: 0, y: 0 }, { cameraState: to }), b1 = s.framedGraphToViewport({ x: 1, y: 1 }, { cameraState: to });
        var k = (b1.x - a1.x) / (b0.x - a0.x);
        if (isFinite(k) && k > 0) {
          place("matrix(" + k + ",0,0," + k + "," + (a1.x - k * a0.x) + "," + (a1.y - k * a0.y) + ")");
          self.moved = true;
          s.emit("kgMoved");
          /* a drag held still (button still down): draw the uncovered parts, nodes only
             (sigma hides edges while a drag lasts), and go on moving that picture */
          clearTimeout(pause);
          pause = setTimeout(function () {
            if (self.moved && captor.draggedEvents > 0 && !camera.isAnimated()) drawNow();
          }, self.pauseMs);
          return s;
        }
      }
      return drawNow(arguments);
    };
    /* sigma's captor refreshes everything in a timeout after a drag ends (mouseup); the flag lives
       until the timeouts queued with that mouseup have run */
    var afterDrag = false;
    captor.on("mouseup", function () {
      if (captor.draggedEvents > 0) { afterDrag = true; setTimeout(function () { afterDrag = false; }, 0); }
    });
    s.refresh = function (opts) {
      if (afterDrag && !opts) { afterDrag = false; return s.scheduleRender(); }
      return refresh.apply(s, arguments);
    };
  };
  SigmaRenderer.prototype.whenReady = function (cb) { cb(); };
  SigmaRenderer.prototype.afterNextDraw = function (cb) { this.sigma.once("afterRender", cb); this.sigma.scheduleRender(); };
  /* a reprocess of every node costs far more than a frame: only when what is shown changed,
     coalesced into the next animation frame, and without rebuilding the spatial index */
  SigmaRenderer.prototype.changed = function () { this.sigma.scheduleRefresh({ skipIndexation: true }); };
  SigmaRenderer.prototype.apply = function (show) {
    var all = show.size === this.graph.order, apart = 0;
    if (all) show.forEach(function (v) { if (v === "apart") apart += 1; });
    var next = all && !apart ? null : show;
    if (next === null && this.show === null) return;
    this.show = next;
    this.changed();
  };
  /* selection is drawn on a canvas of our own over sigma's (the rest veiled, the neighbourhood
     redrawn on top) after each frame, so selecting never makes sigma reprocess every node */
  SigmaRenderer.prototype.highlight = function (keep, keepEdges, selected) {
    if (!keep && !this.keep) return;
    this.keep = keep; this.keepEdges = keepEdges; this.selected = selected;
    this.drawOverlay();
  };
  SigmaRenderer.prototype.drawOverlay = function () {
    var c = this.overlay, box = $("kg-network"), ratio = window.devicePixelRatio || 1;
    var w = box.clientWidth, h = box.clientHeight;
    if (c.width !== Math.round(w * ratio) || c.height !== Math.round(h * ratio)) {
      c.width = Math.round(w * ratio); c.height = Math.round(h * ratio); c.style.width = w + "px"; c.style.height = h + "px";
    }
    var ctx = c.getContext("2d"), s = this.sigma, app = this.app, self = this;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    if (!this.keep) return;
    ctx.fillStyle = "rgba(251,252,253,0.82)";
    ctx.fillRect(0, 0, w, h);
    var shown = function (id) { return self.keys.has(id) && (!self.show || self.show.has(id)); };
    var at = function (id) { var d = self.displayData(id); if (!d) return null; var v = s.framedGraphToViewport(d); return { x: v.x, y: v.y, r: Math.max(3, s.scaleSize(d.size)), color: d.color }; };
    ctx.strokeStyle = "#344054"; ctx.lineWidth = 1.5;
    ctx.beginPath();
    (this.keepEdges || new Set()).forEach(function (eid) {
      var e = app.edgeInfo.get(eid);
      if (!e || !shown(e.from) || !shown(e.to)) return;
      var a = at(e.from), b = at(e.to);
      if (a && b) { ctx.moveTo(a.x, a.y); ctx.lineTo(b.x, b.y); }
    });
    ctx.stroke();
    ctx.font = "500 13px " + FONT; ctx.textBaseline = "middle"; ctx.lineJoin = "round";
    this.keep.forEach(function (id) {
      if (!shown(id)) return;
      var p = at(id), n = app.info.get(id);
      if (!p || !n) return;
      ctx.beginPath(); ctx.fillStyle = p.color; ctx.arc(p.x, p.y, id === self.selected ? p.r + 3 : p.r, 0, 2 * Math.PI); ctx.fill();
      if (id === self.selected) { ctx.lineWidth = 2; ctx.strokeStyle = "#111111"; ctx.stroke(); }
      var text = short(app.label(n), 16);
      ctx.lineWidth = 4; ctx.strokeStyle = "#ffffff"; ctx.strokeText(text, p.x + p.r + 4, p.y);
      ctx.fillStyle = "#1d2330"; ctx.fillText(text, p.x + p.r + 4, p.y);
    });
  };
  SigmaRenderer.prototype.fit = function () { this.sigma.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 }); };
  /* sigma's display data of a node (x, y in its framed graph, size, colour), by IRI */
  SigmaRenderer.prototype.displayData = function (iri) {
    var k = this.keys.get(iri);
    return k === undefined ? undefined : this.sigma.getNodeDisplayData(k);
  };
  SigmaRenderer.prototype.focusOn = function (iri) {
    var d = this.displayData(iri);
    if (d) this.sigma.getCamera().setState({ x: d.x, y: d.y, ratio: 0.15 });
  };
  SigmaRenderer.prototype.relabel = function () {
    var app = this.app, g = this.graph, self = this;
    g.forEachNode(function (id) { var n = app.info.get(self.iri(id)); g.mergeNodeAttributes(id, { label: short(app.label(n), 16), color: app.colourOf(n) }); });
  };
  SigmaRenderer.prototype.addNode = function (n) { this.addNodes([n]); };
  SigmaRenderer.prototype.addNodes = function (fresh) {
    var self = this;
    fresh.forEach(function (n) { if (!self.keys.has(n.id)) self.addKeyed(n, Math.random(), Math.random(), 3); });
  };
  SigmaRenderer.prototype.addEdge = true;
  SigmaRenderer.prototype.addEdgeLater = function (e) { this.link(e); };
  SigmaRenderer.prototype.labelBoxes = function () { return []; };
  SigmaRenderer.prototype.domPosition = function (id) {
    var d = this.displayData(id), p = this.sigma.framedGraphToViewport(d), r = $("kg-network").getBoundingClientRect();
    return [p.x + r.left, p.y + r.top];
  };
  SigmaRenderer.prototype.frame = function () {
    var t = performance.now();
    this.sigma.render();
    return performance.now() - t;
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
  var raw = dataNode ? JSON.parse(dataNode.textContent) : null, parsed = performance.now();
  var data = raw ? unpack(raw) : null;
  var provider = CONFIG.mode === "server" || !data ? new ServerProvider(CONFIG.api_base || "/api") : new EmbeddedProvider(data);
  var app = new Explorer(provider, data ? data.meta : {});
  app.timings.boot = BOOT;
  app.timings.parsed = parsed;
  window.kgExplorer = app;
  app.labelBoxes = function () { return app.renderer.labelBoxes(); };
  app.domPosition = function (id) { return app.renderer.domPosition(id); };
  app.frame = function () { return app.renderer.frame(); };
  $("kg-lang").addEventListener("change", function () { app.lang = this.value; app.relabel(); });
  $("kg-community").addEventListener("change", function () { app.state.community = this.checked; app.renderer.relabel(); app.applyState(false); });
  $("kg-fit").addEventListener("click", function () { app.renderer.fit(); });
  $("kg-all").addEventListener("click", function () { app.showAll(); });
  $("kg-overview").addEventListener("click", function () {
    var keepLang = app.lang;
    app.state = defaultState(app.meta); app.state.focus = null; app.state.lang = keepLang; app.lang = keepLang;
    app.pathStart = null; app.syncLegend(); app.drawTime(); app.applyState(true);
  });
  function timeChanged() { app.setTime($("kg-year").value, $("kg-mod").value, $("kg-undated").checked); }
  $("kg-year").addEventListener("change", timeChanged);
  $("kg-mod").addEventListener("change", timeChanged);
  $("kg-undated").addEventListener("change", timeChanged);
  $("kg-copy").addEventListener("click", function () {
    var url = window.location.href, btn = this;
    var done = function () { btn.textContent = app.t("copied"); setTimeout(function () { btn.textContent = app.t("copyLink"); }, 1500); };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(url).then(done, function () { window.prompt("", url); });
    else window.prompt("", url);
  });
  $("kg-close").addEventListener("click", function () { app.unselect(); });
  app.bindSearch();
  app.relabelChrome();
  app.start();
})();
