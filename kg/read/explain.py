"""`kg explain ENTITY`: every fact in and out of an entity, grouped by predicate, with evidence.

ENTITY is an id (jinsangzi), a curie (yfid:jinsangzi), an IRI, a zh/en label, an alias or pinyin
with or without tones. An ambiguous or unknown name lists the closest candidates (exit 2).
"""
from __future__ import annotations

import sys
from itertools import groupby
from pathlib import Path

from kg import paths
from kg.read.describe import Description, Describer, Evidence, Fact
from kg.namespaces import curie


def evidence_text(ev: Evidence) -> str:
    """One evidence line: [modality] document:start-end “quote” (white space removed)."""
    doc = ev.document.rsplit("/", 1)[-1]
    text = f"{doc}:{ev.start}-{ev.end}"
    if ev.modality:
        text = f"[{ev.modality}] " + text
    if ev.quote:
        text += " “" + "".join(ev.quote.split()) + "”"
    if ev.inferred_from:
        text += " (inferred from " + ", ".join(ev.inferred_from) + ")"
    return text


def _value(f: Fact, lang: str) -> str:
    if f.display is not None:  # a number: as written, then as the graph reads it
        shown = f"{f.written} ({f.display})" if f.written else f.display
        return shown + (f" [{f.qualifier}]" if f.qualifier and f.qualifier != "exact" else "")
    if not f.is_resource:
        return f.value + (f"@{f.lang}" if f.lang else "")
    label = f.value_label_zh if lang == "zh" else f.value_label_en
    c = curie(f.value)
    return f"{label} [{c}]" if label and label != c else c


def render(d: Description, lang: str = "zh") -> str:
    """The description as text: header, then outgoing and incoming facts grouped by predicate.

    Args:
        d: the entity's description (kg.read.describe.Describer.describe).
        lang: "zh" or "en", the language of labels shown first.
    """
    first, second = (d.label_zh, d.label_en) if lang == "zh" else (d.label_en, d.label_zh)
    lines = [f"{first} / {second}", f"  {d.iri}  ({curie(d.iri)})"]
    if d.types:
        lines.append("  types: " + ", ".join(curie(t) for t in d.types))
    if d.external:
        lines.append("  external: " + ", ".join(d.external))
    for title, facts, arrow in (("out", d.out, "→"), ("in", d.incoming, "←")):
        shown = [f for f in facts if not f.predicate.endswith("#type")]
        lines.append(f"{title} ({len(shown)}):")
        for _, group in groupby(shown, key=lambda f: f.predicate):
            group = list(group)
            p = group[0]
            plabel = p.predicate_label_zh if lang == "zh" else p.predicate_label_en
            lines.append(f"  {plabel} ({curie(p.predicate)})")
            for f in group:
                tag = " (inferred)" if f.inferred else ""
                if f.support == "implied":
                    tag += " (implied: " + ((f.support_reason_zh if lang == "zh" else f.support_reason_en) or "") + ")"
                lines.append(f"    {arrow} {_value(f, lang)}{tag}")
                for ev in f.evidence:
                    lines.append(f"        {evidence_text(ev)}")
    return "\n".join(lines)


def cmd_explain(args) -> int:
    """Print the description of one entity. Raises Ambiguous/Unknown (exit 2) for a bad name."""
    from kg.read.store import open_store

    store = open_store(args.build or paths.build_dir())
    describer = Describer(store)
    iri = describer.index.resolve(args.entity)
    sys.stdout.write(render(describer.describe(iri), args.lang) + "\n")
    return 0


def register(sub) -> None:
    """Add `kg explain` to the CLI."""
    p = sub.add_parser("explain", help="every fact in and out of an entity, with evidence")
    p.add_argument("entity", help="id, IRI, zh/en label, alias or pinyin")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.set_defaults(func=cmd_explain)
