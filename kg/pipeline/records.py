"""Load the curated data (data/entities.yaml, data/facts/*.yaml) into typed records.

Pure parsing and shape checks: it knows the file format (see data/README.md) but not the
ontology; term and reference checks happen in :mod:`kg.pipeline.rdfize`, which knows both.

Raises :class:`kg.errors.InputError` naming file, line and field for anything malformed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kg.errors import InputError, Position

SLUG = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
SPAN = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
DOC_ID = re.compile(r"^[A-Za-z0-9_.-]+$")

RESERVED = {"id", "about", "type", "label", "altLabel", "pinyin", "definition", "span", "modality",
            "qualifier", "support", "supportReason", "supportSpan"}
MODALITIES = ("plan", "result", "background")
# How strongly the text gives a number (yfid:qualifier-*) and a fact (yfid:support-*); see data/README.md.
QUALIFIERS = ("exact", "at-least", "at-most", "about", "size-class")
SUPPORTS = ("stated", "implied")


class _Map(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


# libyaml's parser (PyYAML's C extension) when it is there: parsing is ~5x faster than the
# pure-Python one, the constructors below (positions, duplicates, strings) stay Python's.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):
    """SafeLoader that keeps line numbers and refuses duplicate keys."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

MAX_TEXT = 10_000
"""Longest text value (label, definition, quote, ...) in characters. The longest in the data is a
few hundred; a value far longer is a mistake (a pasted document), and a multi-megabyte label
makes a build that pages and the explorer cannot show."""


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    value = loader.construct_scalar(node)
    if len(value) > MAX_TEXT:
        raise yaml.constructor.ConstructorError(
            None, None, f"a text value of {len(value):,} characters: at most {MAX_TEXT:,} are allowed "
                        "(is a whole document pasted here?)", node.start_mark)
    return value


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
# Dates stay strings: the literal's datatype is chosen from the text's shape, not by YAML.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Span:
    """A character span [start, end) in code points of a source document."""

    start: int
    end: int


@dataclass
class Value:
    """One property value as written in the data, with its position and optional own span."""

    raw: Any
    position: Position
    spans: tuple[Span, ...] = ()


@dataclass
class Record:
    """One node description: a registry entity, a new fact node, or statements ``about`` a node.

    Attributes:
        id: the slug of the node described.
        defines: True when the record defines the node (``id:``), False for ``about:``.
        types: ontology class local names or CURIEs.
        labels: {lang: [labels]} for rdfs:label; alt_labels likewise for skos:altLabel.
        properties: property name -> list of values.
        spans: the evidence spans (empty for registry records).
        modality: plan / result / background, or None.
        qualifier: how the record's one quantity is qualified (exact when None), see QUALIFIERS.
        support: stated (when None) or implied; an implied record has support_reason {zh, en}
            and optionally support_spans, the passages its inference rests on.
        document: the source document id for fact records, None for the registry.
    """

    id: str
    defines: bool
    position: Position
    types: list[str] = field(default_factory=list)
    labels: dict[str, list[str]] = field(default_factory=dict)
    alt_labels: dict[str, list[str]] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    pinyin: list[str] = field(default_factory=list)
    properties: dict[str, list[Value]] = field(default_factory=dict)
    spans: tuple[Span, ...] = ()
    modality: str | None = None
    document: str | None = None
    fields: dict[str, Position] = field(default_factory=dict)
    qualifier: str | None = None
    support: str | None = None
    support_reason: dict[str, str] = field(default_factory=dict)
    support_spans: tuple[Span, ...] = ()

    def where(self, key: str) -> Position:
        """The position of one of the record's keys (the record's own position if absent)."""
        return self.fields.get(key, self.position)


@dataclass
class Document:
    """A source document as described in its fact file."""

    id: str
    file: str
    sha256: str
    position: Position
    title: dict[str, str] = field(default_factory=dict)
    published: str | None = None
    creator: str | None = None
    publisher: str | None = None
    fields: dict[str, Position] = field(default_factory=dict)


@dataclass
class FactFile:
    """One fact file: the document it reports on and its records."""

    path: Path
    document: Document
    records: list[Record]


@dataclass
class Curated:
    """All curated data: the registry records and the fact files."""

    registry: list[Record]
    fact_files: list[FactFile]

    def all_records(self) -> list[Record]:
        out = list(self.registry)
        for ff in self.fact_files:
            out.extend(ff.records)
        return out


def plain(obj: Any) -> Any:
    """What :func:`read_yaml` returned, as plain dicts and lists (its line bookkeeping dropped),
    for code that rewrites and dumps the data."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    return obj


def read_yaml(path: Path) -> Any:
    """Parse one YAML file with line positions; raise InputError with the parser's position."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})", Position(str(path))) from exc
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or str(exc)
        raise InputError(f"malformed YAML: {problem}", Position(str(path), line)) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", Position(str(path))) from exc


def parse_span(raw: Any, pos: Position) -> tuple[Span, ...]:
    """Parse ``"start-end"`` or a list of them into Spans; check start < end."""
    items = raw if isinstance(raw, list) else [raw]
    spans = []
    for item in items:
        m = SPAN.match(str(item)) if isinstance(item, (str, int)) else None
        if not m:
            raise InputError(f"span {item!r} is not of the form START-END (e.g. 1336-1345)", pos)
        start, end = int(m.group(1)), int(m.group(2))
        if start >= end:
            raise InputError(f"span {item!r} is empty or reversed (start must be < end)", pos)
        spans.append(Span(start, end))
    if not spans:
        raise InputError("span list is empty", pos)
    return tuple(spans)


def _lang_map(raw: Any, pos: Position, *, many: bool) -> dict[str, list[str]]:
    if not isinstance(raw, dict):
        raise InputError("expected a map of language tag to text, e.g. {zh: 鱼峰区, en: Yufeng District}", pos)
    out: dict[str, list[str]] = {}
    for lang, text in raw.items():
        texts = text if isinstance(text, list) else [text]
        if not many and len(texts) != 1:
            raise InputError(f"{lang}: expected one text, got {len(texts)}", pos)
        for t in texts:
            if not isinstance(t, str) or not t.strip():
                raise InputError(f"{lang}: expected non-empty text, got {t!r}", pos)
        out[str(lang)] = [t.strip() for t in texts]
    return out


def _record(raw: Any, file: str, document: str | None) -> Record:
    if not isinstance(raw, _Map):
        line = getattr(raw, "line", None)
        raise InputError("a record must be a mapping (key: value lines)", Position(file, line))
    pos = Position(file, raw.line)

    def fpos(key: str) -> Position:
        return Position(file, raw.line_of(key), key)

    has_id, has_about = "id" in raw, "about" in raw
    if has_id == has_about:
        raise InputError("a record needs exactly one of `id` (defines a node) or `about` (adds to one)", pos)
    key = "id" if has_id else "about"
    slug = raw[key]
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise InputError(
            f"{slug!r} is not a slug: use lowercase ASCII letters, digits and hyphens (e.g. yufeng-qu)",
            fpos(key),
        )
    rec = Record(id=slug, defines=has_id, position=Position(file, raw.line, key), document=document)
    rec.fields = {str(k): fpos(str(k)) for k in raw}

    if "type" in raw:
        types = raw["type"] if isinstance(raw["type"], list) else [raw["type"]]
        if not all(isinstance(t, str) and t for t in types):
            raise InputError("type must be a class name or a list of them", fpos("type"))
        rec.types = types
    elif has_id:
        raise InputError(f"record {slug!r} defines a node but has no `type`", pos)
    if "label" in raw:
        rec.labels = _lang_map(raw["label"], fpos("label"), many=False)
    if "altLabel" in raw:
        rec.alt_labels = _lang_map(raw["altLabel"], fpos("altLabel"), many=True)
    if "definition" in raw:
        rec.definitions = {k: v[0] for k, v in _lang_map(raw["definition"], fpos("definition"), many=False).items()}
    if "pinyin" in raw:
        py = raw["pinyin"] if isinstance(raw["pinyin"], list) else [raw["pinyin"]]
        rec.pinyin = [str(p) for p in py]
    if "modality" in raw:
        if raw["modality"] not in MODALITIES:
            raise InputError(f"modality {raw['modality']!r} is not one of {', '.join(MODALITIES)}", fpos("modality"))
        rec.modality = raw["modality"]
    if document is not None:
        if "span" not in raw:
            raise InputError(f"record {slug!r} has no `span`: every fact needs its evidence", pos)
        rec.spans = parse_span(raw["span"], fpos("span"))
    elif "span" in raw:
        raise InputError("registry entries carry no span; state document facts in data/facts/", fpos("span"))

    _fidelity(rec, raw, fpos, pos)

    for prop, value in raw.items():
        if prop in RESERVED:
            continue
        if not isinstance(prop, str):
            raise InputError(f"property name {prop!r} must be text", pos)
        values = value if isinstance(value, list) else [value]
        out = []
        for v in values:
            vpos = fpos(prop)
            if isinstance(v, _Map) and "value" in v:
                extra = set(v) - {"value", "span"}
                if extra:
                    raise InputError(f"unexpected keys {sorted(extra)} in a value (only value, span)", vpos)
                spans = parse_span(v["span"], vpos) if "span" in v else ()
                out.append(Value(v["value"], vpos, spans))
            elif v is None:
                raise InputError(f"property {prop!r} has no value", vpos)
            else:
                out.append(Value(v, vpos))
        rec.properties[prop] = out
    return rec


def _fidelity(rec: Record, raw: "_Map", fpos, pos: Position) -> None:
    """Read the qualifier and support keys (fact files only), checking their values."""
    keys = [k for k in ("qualifier", "support", "supportReason", "supportSpan") if k in raw]
    if keys and rec.document is None:
        raise InputError(f"registry entries carry no {keys[0]}: state it with the fact in data/facts/", fpos(keys[0]))
    if "qualifier" in raw:
        if raw["qualifier"] not in QUALIFIERS:
            raise InputError(f"qualifier {raw['qualifier']!r} is not one of {', '.join(QUALIFIERS)}", fpos("qualifier"))
        rec.qualifier = raw["qualifier"]
    support = raw.get("support", "stated")
    if support not in SUPPORTS:
        raise InputError(f"support {support!r} is not one of {', '.join(SUPPORTS)}", fpos("support"))
    if "support" in raw:
        rec.support = support
    if support == "implied":
        if "supportReason" not in raw:
            raise InputError("an implied record needs `supportReason: {zh: ..., en: ...}` saying why", pos)
        reason = {k: v[0] for k, v in _lang_map(raw["supportReason"], fpos("supportReason"), many=False).items()}
        if not {"zh", "en"} <= set(reason):
            raise InputError("supportReason needs both zh and en", fpos("supportReason"))
        rec.support_reason = reason
        if "supportSpan" in raw:
            rec.support_spans = parse_span(raw["supportSpan"], fpos("supportSpan"))
    else:
        for key in ("supportReason", "supportSpan"):
            if key in raw:
                raise InputError(f"`{key}` belongs to an implied record: add `support: implied` or remove it", fpos(key))


def _records(raw: Any, key: str, file: str, document: str | None, errors: list | None = None) -> list[Record]:
    if not isinstance(raw, dict) or key not in raw:
        raise InputError(f"expected a top-level `{key}:` list", Position(file, 1))
    items = raw[key]
    if not isinstance(items, list):
        raise InputError(f"`{key}` must be a list of records", Position(file, raw.line_of(key), key))
    if errors is None:
        return [_record(item, file, document) for item in items]
    out = []
    for item in items:  # collecting (kg validate): a bad record is reported and left out
        try:
            out.append(_record(item, file, document))
        except InputError as exc:
            errors.append(exc)
    return out


def _document(raw: Any, file: str) -> Document:
    if not isinstance(raw, _Map) or "document" not in raw or not isinstance(raw["document"], _Map):
        raise InputError("expected a top-level `document:` mapping (id, file, sha256, ...)", Position(file, 1))
    d = raw["document"]

    def req(key: str, rx: re.Pattern | None = None, hint: str = "") -> str:
        if key not in d:
            raise InputError(f"document has no `{key}`", Position(file, d.line, "document"))
        value = str(d[key])
        if rx is not None and not rx.match(value):
            raise InputError(f"document {key} {value!r} is malformed{hint}", Position(file, d.line_of(key), key))
        return value

    doc = Document(
        id=req("id", DOC_ID),
        file=req("file"),
        sha256=req("sha256", HEX64, ": expected 64 lowercase hex digits"),
        position=Position(file, d.line, "document"),
        fields={str(k): Position(file, d.line_of(k), str(k)) for k in d},
    )
    if "title" in d:
        doc.title = {k: v[0] for k, v in _lang_map(d["title"], Position(file, d.line_of("title"), "title"), many=False).items()}
    for key in ("published", "creator", "publisher"):
        if key in d:
            setattr(doc, key, str(d[key]))
    return doc


def load_curated(data_dir: Path) -> Curated:
    """Read data_dir/entities.yaml and every data_dir/facts/*.yaml, in sorted order.

    Raises:
        InputError: a file is missing, malformed or breaks the format; ids are duplicated.
    """
    data_dir = Path(data_dir)
    registry = load_registry(data_dir)
    fact_files = [load_fact_file(path) for path in fact_file_paths(data_dir)]
    curated = Curated(registry, fact_files)
    _check_unique(curated)
    return curated


def load_registry(data_dir: Path, errors: list | None = None) -> list[Record]:
    """The records of data_dir/entities.yaml (bad records go to ``errors`` when it is given).

    Raises:
        InputError: the file is missing or malformed (or a record is bad and errors is None).
    """
    registry_path = Path(data_dir) / "entities.yaml"
    if not registry_path.is_file():
        raise InputError("no entity registry: create entities.yaml with an `entities:` list", Position(str(registry_path)))
    registry = []
    for rec in _records(read_yaml(registry_path), "entities", str(registry_path), None, errors):
        if not rec.defines:
            problem = InputError("the registry defines entities: use `id:`, not `about:`", rec.position)
            if errors is None:
                raise problem
            errors.append(problem)
            continue
        registry.append(rec)
    return registry


def fact_file_paths(data_dir: Path) -> list[Path]:
    """data_dir/facts/*.yaml in sorted order."""
    return sorted((Path(data_dir) / "facts").glob("*.yaml"))


def load_fact_file(path: Path, errors: list | None = None) -> FactFile:
    """One fact file (bad records go to ``errors`` when it is given).

    Raises:
        InputError: the file or its document header is malformed (or a record is bad and errors is None).
    """
    raw = read_yaml(path)
    doc = _document(raw, str(path))
    if path.stem != doc.id:
        raise InputError(f"file is named {path.stem!r} but its document id is {doc.id!r}", doc.position)
    return FactFile(path, doc, _records(raw, "records", str(path), doc.id, errors))


def check_unique(curated: Curated, errors: list | None = None) -> None:
    """Every id is defined once (duplicates go to ``errors`` when it is given)."""
    _check_unique(curated, errors)


def _check_unique(curated: Curated, errors: list | None = None) -> None:
    seen: dict[str, Position] = {}
    for rec in curated.all_records():
        if not rec.defines:
            continue
        if rec.id in seen:
            problem = InputError(f"duplicate id {rec.id!r} (first defined at {seen[rec.id]})", rec.position)
            if errors is None:
                raise problem
            errors.append(problem)
        seen.setdefault(rec.id, rec.position)
