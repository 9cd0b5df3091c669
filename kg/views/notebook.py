"""Notebook display: query results as HTML tables and DataFrames, graph views in the cell.

- :func:`result_html`: a query result as an HTML table, IRIs shown by label and linked to
  their IRI (``QueryResult._repr_html_``);
- :func:`to_dataframe`: a pandas DataFrame with typed columns: numbers as numbers, dates as
  dates, IRIs with a label column beside them (``QueryResult.to_dataframe``);
- the explorer of a view in a cell: :mod:`kg.views.explorer_cell` (``kg.explore``);
- :func:`iframe`: any self-contained page in a cell.

pandas comes with the ``notebook`` extra: ``pip install 'yufeng-kg[notebook]'``.
"""
from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from typing import Any, Callable

from kg.namespaces import curie

MAX_HTML_ROWS = 200
XSD = "http://www.w3.org/2001/XMLSchema#"
_NUMBERS = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte",
                              "nonNegativeInteger", "positiveInteger", "negativeInteger",
                              "nonPositiveInteger", "unsignedInt", "unsignedLong", "unsignedShort",
                              "unsignedByte")}
_INTEGERS = {t for t in _NUMBERS if not t.endswith(("decimal", "double", "float"))}
_DATES = {XSD + "date", XSD + "dateTime", XSD + "dateTimeStamp"}

Labeler = Callable[[str, str], str]


def iframe(page: str, *, height: str | int = "720px") -> str:
    """HTML for a notebook cell: the page inside an iframe's srcdoc (escaped once, as HTML
    attribute text), so its scripts run in their own document and nothing is fetched."""
    h = f"{height}px" if isinstance(height, int) else str(height)
    return (f'<iframe srcdoc="{html.escape(page, quote=True)}" style="width:100%;height:{html.escape(h)};'
            'border:1px solid #ddd" sandbox="allow-scripts allow-popups" loading="lazy"></iframe>')


def _kind(term) -> str:
    name = type(term).__name__
    return "iri" if name == "URIRef" else "bnode" if name == "BNode" else "literal" if name == "Literal" else "other"


def _label(iri: str, label: Labeler | None, lang: str) -> str:
    if label is None:
        return curie(iri)
    try:
        return label(iri, lang) or curie(iri)
    except Exception:  # noqa: BLE001 - a label is a nicety: fall back to the curie
        return curie(iri)


def result_html(result, *, label: Labeler | None = None, lang: str = "zh", max_rows: int = MAX_HTML_ROWS) -> str:
    """A query result as an HTML table (every value escaped). IRIs show their label and link to
    the IRI; ASK gives yes/no; a graph result shows its triples the same way."""
    esc = html.escape
    if result.kind == "ASK":
        return f"<p><b>{'yes' if result.boolean else 'no'}</b> (ASK)</p>"
    if result.kind == "CONSTRUCT":
        cols = ["subject", "predicate", "object"]
        rows = [dict(zip(cols, t)) for t in sorted(result.graph or ())]
    else:
        cols = list(result.variables)
        rows = [r.asdict() for r in result.rows]

    def cell(t) -> str:
        if t is None:
            return ""
        if _kind(t) == "iri":
            iri = str(t)
            name = _label(iri, label, lang)
            c = curie(iri)
            extra = f' <small style="color:#888">{esc(c)}</small>' if name != c else ""
            return f'<a href="{esc(iri, quote=True)}" target="_blank" rel="noopener">{esc(name)}</a>{extra}'
        text = str(t)
        lang_tag = getattr(t, "language", None)
        return esc(text) + (f' <small style="color:#888">@{esc(lang_tag)}</small>' if lang_tag else "")

    head = "".join(f"<th style=\"text-align:left\">{esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td style=\"text-align:left\">{cell(r.get(c))}</td>" for c in cols) + "</tr>"
                   for r in rows[:max_rows])
    more = f"<p>… {len(rows) - max_rows} more rows</p>" if len(rows) > max_rows else ""
    count = f"<p><small>{len(rows)} row{'s' if len(rows) != 1 else ''}</small></p>"
    return f'<table class="kg-result"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}{count}'


def python_value(term) -> Any:
    """A term as the value a DataFrame column should hold: int/float for numbers, date or
    datetime for dates, the year (int) for xsd:gYear, a str otherwise; IRIs as their IRI text."""
    if term is None:
        return None
    if _kind(term) != "literal":
        return str(term)
    dtype = str(term.datatype) if term.datatype else ""
    value = term.toPython()
    if dtype in _INTEGERS:
        return int(value) if not isinstance(value, str) else _number(value, int)
    if dtype in _NUMBERS:
        return float(value) if isinstance(value, (int, float, Decimal)) else _number(value, float)
    if dtype in _DATES:
        return value if isinstance(value, (dt.date, dt.datetime)) else None
    if dtype == XSD + "gYear":
        return _number(str(term)[:4], int)
    if dtype == XSD + "gYearMonth":
        text = str(term)
        return dt.date(int(text[:4]), int(text[5:7]), 1) if len(text) >= 7 and text[:4].isdigit() else text
    return str(term)


def _number(text: str, kind):
    try:
        return kind(text)
    except (TypeError, ValueError):
        return None


def to_dataframe(result, *, label: Labeler | None = None, lang: str = "zh"):
    """A query result as a pandas DataFrame with typed columns.

    A column of numbers becomes int64 (nullable ``Int64`` with gaps) or float64; dates
    (xsd:date, xsd:dateTime, xsd:gYearMonth as its first day) become datetime64; xsd:gYear
    becomes the year as ``Int64``; IRIs stay as IRI text with a ``<name>_label`` column beside
    them (the zh or en label) unless the query already returns ``<name>_zh``/``<name>_en``.

    Raises:
        ImportError: pandas is missing (the ``notebook`` extra).
        ValueError: an ASK result (it has no rows).
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("pandas is not installed: pip install 'yufeng-kg[notebook]'") from exc
    if result.kind == "ASK":
        raise ValueError("an ASK result has no rows: use result.boolean")
    if result.kind == "CONSTRUCT":
        cols = ["subject", "predicate", "object"]
        raw = [dict(zip(cols, t)) for t in sorted(result.graph or ())]
    else:
        cols = list(result.variables)
        raw = [r.asdict() for r in result.rows]
    data: dict[str, Any] = {}
    for c in cols:
        terms = [r.get(c) for r in raw]
        values = [python_value(t) for t in terms]
        data[c] = _column(pd, terms, values)
        kinds = {_kind(t) for t in terms if t is not None}
        if kinds == {"iri"} and f"{c}_{lang}" not in cols and f"{c}_label" not in cols:
            data[f"{c}_label"] = pd.Series([None if t is None else _label(str(t), label, lang) for t in terms],
                                           dtype="string")
    return pd.DataFrame(data, columns=list(data))


def _column(pd, terms: list, values: list):
    present = [(t, v) for t, v in zip(terms, values) if t is not None]
    dtypes = {str(t.datatype) if _kind(t) == "literal" and t.datatype else _kind(t) for t, _ in present}
    if not present:
        return pd.Series(values, dtype="object")
    if dtypes <= _INTEGERS and all(isinstance(v, int) for _, v in present):
        return pd.Series(values, dtype="Int64" if len(present) < len(values) else "int64")
    if dtypes <= _NUMBERS and all(isinstance(v, (int, float)) for _, v in present):
        return pd.Series([None if v is None else float(v) for v in values], dtype="float64")
    if dtypes <= _DATES | {XSD + "gYearMonth"} and all(isinstance(v, (dt.date, dt.datetime)) for _, v in present):
        return pd.to_datetime(pd.Series(values, dtype="object"))
    if dtypes == {XSD + "gYear"} and all(isinstance(v, int) for _, v in present):
        return pd.Series(values, dtype="Int64")
    if all(isinstance(v, str) for _, v in present):
        return pd.Series(values, dtype="string")
    return pd.Series(values, dtype="object")
