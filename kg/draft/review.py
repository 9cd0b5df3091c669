"""The review page of a draft: the document as written, every proposed fact highlighted at its span.

Colour by kind (figure, conferral, event, known entity, new entity), opacity by confidence.
Clicking a highlight shows its record(s); clicking a record scrolls to its text. One
self-contained HTML file: no CDN, vanilla JS, every label escaped (the data travels as JSON in a
<script type="application/json"> block and is put on the page with textContent).
"""
from __future__ import annotations

import html
import json

from kg.draft.draft import Draft
from kg.draft.writer import dump

KINDS = {"figure": "#e4572e", "conferral": "#7b2cbf", "event": "#2a9d8f", "known": "#3a86ff", "new": "#f4a261"}


def _kind(rec: dict, proposed: set[str]) -> str:
    if "value" in rec:
        return "figure"
    if rec.get("type") == "DesignationConferral":
        return "conferral"
    if "date" in rec:
        return "event"
    return "new" if rec.get("about") in proposed else "known"


def _spans(raw) -> list[tuple[int, int]]:
    out = []
    for it in raw if isinstance(raw, list) else [raw]:
        a, b = str(it).split("-")
        out.append((int(a), int(b)))
    return out


def render(draft: Draft) -> str:
    """The review page as one HTML string."""
    proposed = {e["id"] for e in draft.entities}
    items = []
    for i, rec in enumerate(draft.records):
        name = rec.get("id") or rec.get("about")
        label = (rec.get("label") or {}).get("zh") or name
        items.append({"i": i, "name": name, "label": label, "kind": _kind(rec, proposed),
                      "confidence": float(rec.get("confidence", 0.5)), "spans": _spans(rec["span"]),
                      "yaml": dump(rec)})
    text = draft.text
    bounds = sorted({0, len(text), *(p for it in items for s in it["spans"] for p in s)})
    cover: dict[int, list[int]] = {}
    for it in items:
        for a, b in it["spans"]:
            for k, start in enumerate(bounds[:-1]):
                if start >= a and bounds[k + 1] <= b:
                    cover.setdefault(start, []).append(it["i"])
    parts = []
    for k, start in enumerate(bounds[:-1]):
        seg = html.escape(text[start : bounds[k + 1]])
        ids = cover.get(start)
        if not ids:
            parts.append(seg)
            continue
        top = min(ids, key=lambda i: sum(b - a for a, b in items[i]["spans"]))
        it = items[top]
        alpha = 0.25 + 0.6 * max(0.0, min(1.0, it["confidence"]))
        parts.append(f'<mark class="k-{it["kind"]}" data-ids="{" ".join(map(str, ids))}" '
                     f'style="--a:{alpha:.2f}">{seg}</mark>')
    data = json.dumps({"items": items, "document": draft.document}, ensure_ascii=False).replace("</", "<\\/")
    legend = "".join(f'<span class="lg k-{k}" style="--a:.8">{k}</span>' for k in KINDS)
    css_kinds = "".join(f".k-{k}{{background:color-mix(in srgb,{c} calc(var(--a)*100%),transparent)}}"
                        for k, c in KINDS.items())
    title = html.escape(f"Draft review: {draft.document.get('id', '')}")
    return f"""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>{title}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<style>
body{{margin:0;font:14px/1.5 "Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;display:flex;height:100vh}}
#doc{{flex:1 1 55%;overflow:auto;padding:12px 20px;white-space:pre-wrap;border-right:1px solid #ccc}}
#side{{flex:1 1 45%;display:flex;flex-direction:column;min-width:0}}
#rec{{height:40%;overflow:auto;margin:0;padding:8px;background:#f7f7f7;border-bottom:1px solid #ccc;white-space:pre-wrap}}
#list{{flex:1;overflow:auto;margin:0;padding:0;list-style:none}}
#list li{{padding:2px 8px;cursor:pointer;border-bottom:1px solid #eee}} #list li.sel{{outline:2px solid #333}}
mark{{cursor:pointer;color:inherit;border-radius:2px}} mark.flash{{outline:2px solid #000}}
.lg{{padding:0 6px;margin-right:4px;border-radius:3px}} header{{padding:6px 8px;border-bottom:1px solid #ccc}}
{css_kinds}
</style></head><body>
<div id="doc">{''.join(parts)}</div>
<div id="side"><header>{title} · {legend}</header><pre id="rec">Click a highlight or a record.</pre><ul id="list"></ul></div>
<script type="application/json" id="data">{data}</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const list = document.getElementById("list"), rec = document.getElementById("rec");
function show(ids) {{
  rec.textContent = ids.map(i => DATA.items[i].yaml).join("\\n");
  for (const li of list.children) li.classList.toggle("sel", ids.includes(Number(li.dataset.i)));
  const first = list.querySelector('li[data-i="' + ids[0] + '"]');
  if (first) first.scrollIntoView({{block: "nearest"}});
}}
for (const it of DATA.items) {{
  const li = document.createElement("li");
  li.dataset.i = it.i; li.className = "k-" + it.kind; li.style.setProperty("--a", 0.25 + 0.6 * it.confidence);
  li.textContent = it.kind + " · " + it.name + " · " + it.label + " · " + it.confidence;
  li.addEventListener("click", () => {{
    show([it.i]);
    const mark = [...document.querySelectorAll("mark")].find(m => m.dataset.ids.split(" ").includes(String(it.i)));
    if (mark) {{ mark.scrollIntoView({{block: "center"}}); mark.classList.add("flash"); setTimeout(() => mark.classList.remove("flash"), 1500); }}
  }});
  list.appendChild(li);
}}
document.getElementById("doc").addEventListener("click", e => {{
  const m = e.target.closest("mark"); if (m) show(m.dataset.ids.split(" ").map(Number));
}});
</script></body></html>
"""
