"""Plain-text tables that fit the terminal, and where a verb's printed result goes.

Widths are display widths (https://www.unicode.org/reports/tr11/: East Asian Wide and Fullwidth
characters take two columns), so Chinese labels line up. Cells too wide for their share of the
terminal wrap (at spaces where there are any, else between characters) onto at most
``max_lines`` lines, the last ending in an ellipsis when text is cut.

Query results become one column per variable: an IRI shows its label in the chosen language
(from the result's own ``?x_zh``/``?x_en`` columns, else from the store), ``?x_zh``/``?x_en``
pairs without an ``?x`` collapse into one ``x`` column, and IRIs are shown on request.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import unicodedata
from pathlib import Path

import pyoxigraph as ox

from kg.namespaces import curie

GAP = "  "
_NUMERIC = {"http://www.w3.org/2001/XMLSchema#" + t for t in
            ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger", "positiveInteger")}


def char_width(c: str) -> int:
    """Columns one character takes: 2 for East Asian wide/fullwidth, 0 for combining marks."""
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in "WF" else 1


def display_width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(char_width(c) for c in text)


def truncate(text: str, width: int) -> str:
    """text cut to at most ``width`` columns, ending in '…' when cut."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for c in text:
        w = char_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def wrap(text: str, width: int, max_lines: int = 4) -> list[str]:
    """text broken into lines of at most ``width`` columns (at spaces when possible)."""
    width = max(width, 1)
    lines: list[str] = []
    line, used = "", 0
    for token in re.findall(r"\S+|\s+", text):
        tw = display_width(token)
        if token.isspace():
            if line and used + tw <= width:
                line, used = line + token, used + tw
            elif line:
                lines.append(line.rstrip())
                line, used = "", 0
            continue
        if used + tw <= width:
            line, used = line + token, used + tw
            continue
        if line and tw <= width:
            lines.append(line.rstrip())
            line, used = token, tw
            continue
        for c in token:  # a word (or CJK run) wider than the room left: break between characters
            cw = char_width(c)
            if used + cw > width:
                lines.append(line.rstrip())
                line, used = "", 0
            line, used = line + c, used + cw
    if line.strip() or not lines:
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        cut = lines[-1]
        while cut and display_width(cut) > width - 1:
            cut = cut[:-1]
        lines[-1] = cut + "…"
    return lines


def terminal_width(default: int = 80) -> int:
    """The terminal's width ($COLUMNS first), else ``default`` (when writing to a pipe or file)."""
    return shutil.get_terminal_size((default, 24)).columns


def column_widths(natural: list[int], headers: list[int], total: int) -> list[int]:
    """Widths for columns of the given natural widths so the table fits ``total`` columns:
    narrow columns keep their width, the wide ones share what is left equally."""
    n = len(natural)
    room = total - len(GAP) * (n - 1)
    if sum(natural) <= room:
        return list(natural)
    widths = [0] * n
    order = sorted(range(n), key=lambda i: natural[i])
    # a column keeps at least its header's first 8 columns, less when that would not fit either
    floor = max(3, min(8, room // max(n, 1)))
    left = room
    for k, i in enumerate(order):
        share = left // (n - k)
        widths[i] = min(natural[i], max(share, min(headers[i], floor), 3))
        left -= widths[i]
    return widths


def render(headers: list[str], rows: list[list[str]], width: int | None = None, *,
           right: set[int] | None = None, max_lines: int = 4) -> str:
    """A table with a header and a rule, fitted to ``width`` columns (default: the terminal)."""
    width = width or terminal_width()
    right = right or set()
    rows = [[" ".join(str(c).split()) for c in r] for r in rows]
    data = [max([display_width(r[i]) for r in rows], default=0) for i in range(len(headers))]
    # a long header over narrow data wraps (at its underscores) rather than widening its column
    natural = [max(d, min(display_width(h), max(d, 8))) for d, h in zip(data, headers)]
    widths = column_widths(natural, [min(display_width(h), 8) for h in headers], width)

    def pad(text: str, w: int, i: int) -> str:
        space = " " * (w - display_width(text))
        return space + text if i in right else text + space

    def lines_of(cells: list[str], limit: int) -> list[str]:
        wrapped = [wrap(c, w, limit) for c, w in zip(cells, widths)]
        height = max((len(c) for c in wrapped), default=1)
        out = []
        for k in range(height):
            parts = [pad(c[k] if k < len(c) else "", w, i) for i, (c, w) in enumerate(zip(wrapped, widths))]
            out.append(GAP.join(parts).rstrip())
        return out

    head = lines_of([h.replace("_", "_ ") for h in headers], 2)
    out = [line.replace("_ ", "_") for line in head] + [GAP.join("-" * w for w in widths)]
    for r in rows:
        out += lines_of(r, max_lines)
    return "\n".join(out)


# -- query results --------------------------------------------------------------------------------

def columns(variables: list[str], lang: str) -> list[tuple[str, str | None, list[str]]]:
    """The table's columns: (header, value variable or None, label variables in preference order).

    ``?x`` with ``?x_zh``/``?x_en`` is one column (the labels name x's IRI); ``?x_zh``/``?x_en``
    without ``?x`` is one column ``x`` showing the chosen language, the other as fallback.
    """
    other = "en" if lang == "zh" else "zh"
    present = set(variables)
    cols: list[tuple[str, str | None, list[str]]] = []
    seen: set[str] = set()
    for v in variables:
        base, _, suffix = v.rpartition("_")
        if suffix in ("zh", "en") and base:
            if base in present or base in seen:
                continue
            seen.add(base)
            labels = [n for n in (f"{base}_{lang}", f"{base}_{other}") if n in present]
            cols.append((base, None, labels))
        else:
            labels = [n for n in (f"{v}_{lang}", f"{v}_{other}") if n in present]
            cols.append((v, v, labels))
    return cols


def store_labels(store: ox.Store | None, iris: set[str], lang: str) -> dict[str, str]:
    """rdfs:label of each IRI in the chosen language (else zh, else en) from the store."""
    if store is None or not iris:
        return {}
    values = " ".join(f"<{i}>" for i in sorted(iris) if ">" not in i and " " not in i)
    q = ("SELECT ?s ?l WHERE { VALUES ?s { " + values + " } ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }")
    rank = {lang: 0, "zh": 1, "en": 2}
    best: dict[str, tuple[int, str]] = {}
    for sol in store.query(q, use_default_graph_as_union=True):
        lit = sol["l"]
        r = rank.get((lit.language or "").lower(), 3)
        s = sol["s"].value
        if s not in best or r < best[s][0] or (r == best[s][0] and lit.value < best[s][1]):
            best[s] = (r, lit.value)
    return {s: v for s, (_, v) in best.items()}


def term_text(term, label: str | None = None, iris: bool = False) -> str:
    """A cell: an IRI as its label (with its curie when ``iris``), a literal as its value."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        c = curie(term.value)
        if not label or label == c:
            return c
        return f"{label} [{c}]" if iris else label
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def result_table(result, store: ox.Store | None = None, lang: str = "zh", iris: bool = False,
                 width: int | None = None) -> str:
    """A kg.read.query.QueryResult (SELECT or ASK) as a table that fits ``width`` columns."""
    if result.kind == "ASK":
        return "yes" if result.boolean else "no"
    cols = columns(result.variables, lang)
    need: set[str] = set()
    for row in result.rows:
        for _, var, labels in cols:
            t = row.raw(var) if var else None
            if isinstance(t, ox.NamedNode) and not any(row.raw(n) is not None for n in labels):
                need.add(t.value)
    looked_up = store_labels(store, need, lang)
    grid, numeric = [], [True] * len(cols)
    for row in result.rows:
        line = []
        for i, (_, var, labels) in enumerate(cols):
            t = row.raw(var) if var else None
            label = next((row.raw(n).value for n in labels if row.raw(n) is not None), None)
            if var is None:
                line.append(label or "")
                numeric[i] = False
                continue
            if isinstance(t, ox.NamedNode) and label is None:
                label = looked_up.get(t.value)
            if t is not None and not (isinstance(t, ox.Literal) and t.datatype.value in _NUMERIC):
                numeric[i] = False
            line.append(term_text(t, label, iris))
        grid.append(line)
    right = {i for i, n in enumerate(numeric) if n and grid}
    table = render([h for h, _, _ in cols], grid, width, right=right)
    n = len(result.rows)
    return table + f"\n({n} row{'s' if n != 1 else ''})"


# -- where output goes ----------------------------------------------------------------------------

def emit(text: str, out: str | Path | None = None) -> None:
    """Write a verb's result: to stdout when ``out`` is None or "-", else to the file ``out``
    (written to a temporary file beside it, then renamed, so it is never half-written)."""
    if out is None or str(out) == "-":
        sys.stdout.write(text)
        return
    path = Path(out)
    if path.is_dir():
        from kg.errors import InputError

        raise InputError(f"{path} is a folder: give a file name to --out")
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
