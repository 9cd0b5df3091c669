"""`kg explain ENTITY`: every fact in and out of an entity, grouped by predicate, with evidence.

ENTITY is an id (jinsangzi), a curie (yfid:jinsangzi), an IRI, a zh/en label, an alias or pinyin
with or without tones. An ambiguous or unknown name lists the closest candidates (exit 2).
"""
from __future__ import annotations

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


def resolve(store, index, name: str) -> tuple[str, bool]:
    """The IRI ``name`` stands for, and whether it lives in the ontology graph.

    Any IRI the server serves is accepted (entities, fact nodes, sources, ontology terms and
    concepts such as yfid:level-national, unit IRIs): a full IRI, ``<IRI>`` or ``prefix:local``
    with one of the project's prefixes, when the graph says anything about it. Other names go
    through the entity index (id, label, alias, pinyin).

    Raises:
        Ambiguous, Unknown: a name that fits several entities or none (exit 2).
    """
    import pyoxigraph as ox

    from kg.namespaces import PREFIXES, curie_to_iri

    text = name.strip()
    iri = text[1:-1] if text.startswith("<") and text.endswith(">") else None
    if iri is None and text.startswith(("http://", "https://")):
        iri = text
    if iri is None and ":" in text and text.split(":", 1)[0] in PREFIXES:
        iri = curie_to_iri(text)
    if iri is None and "/" not in text and ":" not in text and " " not in text:
        candidate = PREFIXES["yfid"] + text
        if candidate not in index.names and _mentioned(store, candidate):
            iri = candidate
    if iri is not None:
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            node = None
        if node is not None and _mentioned(store, iri):
            in_ontology = iri not in index.names and next(iter(store.quads_for_pattern(
                node, None, None, ox.NamedNode(PREFIXES["yfg"] + "ontology"))), None) is not None
            return iri, in_ontology
    return index.resolve(name), False


def _mentioned(store, iri: str) -> bool:
    import pyoxigraph as ox

    node = ox.NamedNode(iri)
    return (next(iter(store.quads_for_pattern(node, None, None, None)), None) is not None
            or next(iter(store.quads_for_pattern(None, None, node, None)), None) is not None)


def as_json(d: Description) -> dict:
    """The description as plain data (``kg explain --format json``)."""
    from dataclasses import asdict

    return asdict(d)


def cmd_explain(args) -> int:
    """Print the description of one entity. Raises Ambiguous/Unknown (exit 2) for a bad name."""
    import json

    from kg.read.store import open_store
    from kg.read.table import emit

    store = open_store(args.build or paths.build_dir())
    describer = Describer(store)
    iri, in_ontology = resolve(store, describer.index, args.entity)
    d = describer.describe(iri, include_ontology=in_ontology)
    if args.format == "json":
        emit(json.dumps(as_json(d), ensure_ascii=False, indent=1) + "\n", args.out)
    else:
        emit(render(d, args.lang) + "\n", args.out)
    return 0


def register(sub) -> None:
    """Add `kg explain` to the CLI."""
    p = sub.add_parser("explain", help="every fact in and out of an entity, with evidence")
    p.add_argument("entity", help="id, prefix:local, IRI, zh/en label, alias or pinyin")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("-o", "--out", metavar="FILE", help="write to FILE (- for stdout, the default)")
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.set_defaults(func=cmd_explain)
