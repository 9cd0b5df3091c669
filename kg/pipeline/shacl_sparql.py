"""SHACL Core validation compiled to SPARQL and run on Oxigraph.

SHACL: https://www.w3.org/TR/shacl/ (Core constraint components, section 4). pySHACL walks the
graph in Python and grew as data^1.4 on our shapes (10x data: minutes); here each constraint of
each shape becomes one SPARQL query over the store's union graph, so validation grows with the
data like any indexed query. Only the components our shapes use are compiled (targets by class
and subjects-of; class, datatype, nodeKind, pattern, minInclusive, languageIn, or, not,
minCount, maxCount, uniqueLang, lessThan, qualifiedValueShape with min/max counts; IRI paths);
anything else raises :class:`Unsupported`, and the caller falls back to pySHACL.
``tests/test_shacl_sparql.py`` runs both engines on every shapes fixture and compares results.
"""
from __future__ import annotations

import re

from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>*"
_NODE_KINDS = {SH.IRI: "isIRI({v})", SH.Literal: "isLiteral({v})", SH.BlankNode: "isBlank({v})",
               SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))", SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
               SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))"}
# parameters that are not constraints of their own (read with the component they belong to)
_PARAMETERS = {RDF.type, SH.path, SH.message, SH.severity, SH.name, SH.description, SH.targetClass,
               SH.targetSubjectsOf, SH.property, SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.deactivated,
               SH.order, SH.group}
_VALUE_COMPONENTS = {SH["class"], SH.datatype, SH.nodeKind, SH.pattern, SH.flags, SH.minInclusive,
                     SH.languageIn, SH["or"], SH["not"], SH["in"]}


class Unsupported(Exception):
    """The shapes use a SHACL feature this compiler does not handle."""


@dataclass
class Result:
    focus: str
    path: str | None
    severity: str
    message: str


def _n3(term) -> str:
    if isinstance(term, BNode):
        raise Unsupported("blank node as a constraint value")
    return term.n3()


class _Compiler:
    def __init__(self, shapes: Graph):
        self.g = shapes
        self.fresh = 0

    def var(self) -> str:
        self.fresh += 1
        return f"?_v{self.fresh}"

    def items(self, node) -> list:
        return list(Collection(self.g, node))

    def value_expr(self, shape, v: str) -> str:
        """A SPARQL expression true when the node in ``v`` conforms to ``shape`` (a node shape or a
        property shape with only minCount 1, as the members of sh:or / sh:not / qualified shapes)."""
        parts = []
        path = self.g.value(shape, SH.path)
        for p, o in self.g.predicate_objects(shape):
            if p in (SH.message, SH.severity, SH.name, SH.description, RDF.type, SH.path, SH.flags):
                continue
            if path is not None:
                if p == SH.minCount and int(str(o)) == 1:
                    parts.append(f"EXISTS {{ {v} {_n3(path)} {self.var()} }}")
                    continue
                raise Unsupported(f"{p} inside a nested property shape")
            parts.append(self.component_expr(shape, p, o, v))
        return "(" + " && ".join(parts or ["true"]) + ")"

    def component_expr(self, shape, p, o, v: str) -> str:
        """The expression a value node in ``v`` must satisfy for one value-type component."""
        if p == SH["class"]:
            return f"EXISTS {{ {v} {_TYPE} {_n3(o)} }}"
        if p == SH.datatype:
            return f"(isLiteral({v}) && datatype({v}) = {_n3(o)})"
        if p == SH.nodeKind:
            if o not in _NODE_KINDS:
                raise Unsupported(f"sh:nodeKind {o}")
            return _NODE_KINDS[o].format(v=v)
        if p == SH.pattern:
            flags = self.g.value(shape, SH.flags)
            extra = f", {_n3(Literal(str(flags)))}" if flags is not None else ""
            return f"(!isBlank({v}) && REGEX(STR({v}), {_n3(Literal(str(o)))}{extra}))"
        if p == SH.minInclusive:
            return f"COALESCE({v} >= {_n3(o)}, false)"
        if p == SH.languageIn:
            tags = " || ".join(f"langMatches(lang({v}), {_n3(Literal(str(t)))})" for t in self.items(o))
            return f"(isLiteral({v}) && ({tags or 'false'}))"
        if p == SH["in"]:
            members = [m for m in self.items(o)]
            return "(" + (" || ".join(f"sameTerm({v}, {_n3(m)})" for m in members) or "false") + ")"
        if p == SH["or"]:
            return "(" + " || ".join(self.value_expr(m, v) for m in self.items(o)) + ")"
        if p == SH["not"]:
            return f"(!{self.value_expr(o, v)})"
        raise Unsupported(str(p))


def _messages(g: Graph, shape) -> str:
    msgs = sorted(g.objects(shape, SH.message), key=lambda m: (getattr(m, "language", "") or "") != "en")
    return " / ".join(str(m) for m in msgs)


def compile_shapes(shapes: Graph) -> list[tuple[str, str, str | None, str, str]]:
    """Every constraint as (SPARQL selecting ?f for each violation, kind, path IRI, severity, message).

    Raises:
        Unsupported: a feature outside the compiled subset.
    """
    c = _Compiler(shapes)
    g = shapes
    out: list[tuple[str, str, str | None, str, str]] = []
    for shape in sorted(set(g.subjects(RDF.type, SH.NodeShape)), key=str):
        targets = []
        for cls in g.objects(shape, SH.targetClass):
            targets.append(f"{{ ?f {_TYPE} {_n3(cls)} }}")
        for prop in g.objects(shape, SH.targetSubjectsOf):
            targets.append(f"{{ ?f {_n3(prop)} ?_t }}")
        for p in set(g.predicates(shape)) - _PARAMETERS - _VALUE_COMPONENTS - {SH.sparql}:
            raise Unsupported(f"{p} on a node shape")
        if any(g.value(shape, p) is not None for p in (SH.targetNode, SH.targetObjectsOf)):
            raise Unsupported("sh:targetNode / sh:targetObjectsOf")
        if not targets:
            continue
        target = "{ SELECT DISTINCT ?f WHERE { " + " UNION ".join(targets) + " } }"
        severity = str(g.value(shape, SH.severity) or SH.Violation).rsplit("#", 1)[-1]
        # constraints on the focus node itself (e.g. sh:or of property shapes)
        for p, o in g.predicate_objects(shape):
            if p in _VALUE_COMPONENTS and p != SH.flags:
                expr = c.component_expr(shape, p, o, "?f")
                out.append((f"SELECT DISTINCT ?f WHERE {{ {target} FILTER(!{expr}) }}", "node", None, severity,
                            _messages(g, shape)))
        for prop in g.objects(shape, SH.property):
            out += _property(c, g, prop, target, severity)
        for constraint in g.objects(shape, SH.sparql):
            out.append((_sparql_constraint(g, constraint, target), "sparql", None, severity,
                        _messages(g, constraint) or _messages(g, shape)))
    return out


def _sparql_constraint(g: Graph, constraint, target: str) -> str:
    """A SHACL-SPARQL constraint (https://www.w3.org/TR/shacl/#sparql-constraints) as a query over
    the shape's focus nodes: its SELECT with $this as ?f, the prefixes of its sh:prefixes declared
    up front; ?path, when the constraint selects it, names the result path."""
    select = g.value(constraint, SH.select)
    if select is None or g.value(constraint, SH.deactivated) is not None:
        raise Unsupported("a sh:sparql constraint without sh:select, or deactivated")
    prefixes = []
    for holder in g.objects(constraint, SH.prefixes):
        for decl in g.objects(holder, SH.declare):
            prefixes.append(f"PREFIX {g.value(decl, SH.prefix)}: <{g.value(decl, SH.namespace)}>")
    body = re.sub(r"\$this\b", "?f", str(select))
    path = "?path" if re.search(r"\?path\b", body) else "(?_none AS ?path)"
    return "\n".join(prefixes) + f"\nSELECT DISTINCT ?f {path} WHERE {{ {target} {{ {body} }} }}"


def _property(c: _Compiler, g: Graph, prop, target: str, severity: str) -> list:
    path = g.value(prop, SH.path)
    if not isinstance(path, URIRef):
        raise Unsupported("a path that is not an IRI")
    p = _n3(path)
    sev = str(g.value(prop, SH.severity) or severity).rsplit("#", 1)[-1]
    msg = _messages(g, prop)
    out = []

    def add(query: str, kind: str) -> None:
        out.append((query, kind, str(path), sev, msg))

    for comp, value in g.predicate_objects(prop):
        if comp in _PARAMETERS or comp == SH.flags:
            continue
        if comp in _VALUE_COMPONENTS:
            expr = c.component_expr(prop, comp, value, "?v")
            add(f"SELECT DISTINCT ?f WHERE {{ {target} ?f {p} ?v FILTER(!{expr}) }}", str(comp))
        elif comp == SH.minCount:
            add(f"SELECT ?f WHERE {{ {target} OPTIONAL {{ ?f {p} ?v }} }} GROUP BY ?f "
                f"HAVING (COUNT(DISTINCT ?v) < {int(str(value))})", "minCount")
        elif comp == SH.maxCount:
            add(f"SELECT ?f WHERE {{ {target} ?f {p} ?v }} GROUP BY ?f HAVING (COUNT(DISTINCT ?v) > {int(str(value))})",
                "maxCount")
        elif comp == SH.uniqueLang:
            if str(value).lower() == "true":
                add(f"SELECT DISTINCT ?f WHERE {{ {target} ?f {p} ?v . ?f {p} ?w "
                    f"FILTER(?v != ?w && lang(?v) != \"\" && lcase(lang(?v)) = lcase(lang(?w))) }}", "uniqueLang")
        elif comp == SH.lessThan:
            add(f"SELECT DISTINCT ?f WHERE {{ {target} ?f {p} ?v . ?f {_n3(value)} ?w "
                f"FILTER(!COALESCE(?v < ?w, false)) }}", "lessThan")
        elif comp == SH.qualifiedValueShape:
            expr = c.value_expr(value, "?v")
            count = f"SUM(IF(BOUND(?v) && COALESCE({expr}, false), 1, 0))"
            body = f"SELECT ?f ({count} AS ?n) WHERE {{ {target} OPTIONAL {{ ?f {p} ?v }} }} GROUP BY ?f"
            low, high = g.value(prop, SH.qualifiedMinCount), g.value(prop, SH.qualifiedMaxCount)
            if low is not None:
                add(f"SELECT ?f WHERE {{ {{ {body} }} FILTER(?n < {int(str(low))}) }}", "qualifiedMinCount")
            if high is not None:
                add(f"SELECT ?f WHERE {{ {{ {body} }} FILTER(?n > {int(str(high))}) }}", "qualifiedMaxCount")
        else:
            raise Unsupported(str(comp))
    return out


def validate_store(store: ox.Store, shapes: Graph) -> list[Result]:
    """Every SHACL result of the store's union graph (data + ontology) against the shapes.

    Raises:
        Unsupported: the shapes use a feature outside the compiled subset.
    """
    results = []
    for query, _kind, path, severity, message in compile_shapes(shapes):
        for sol in store.query(query, use_default_graph_as_union=True):
            f = sol["f"]
            if f is None:
                continue
            if _kind == "sparql":
                found = sol["path"]
                path = found.value if isinstance(found, ox.NamedNode) else None
            results.append(Result(f.value if isinstance(f, (ox.NamedNode, ox.BlankNode)) else str(f), path,
                                  severity, message or "(no message)"))
    return results
