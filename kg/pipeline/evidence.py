"""Source documents and the spans that cite them.

The project stores spans and checksums, never the source's sentences. When the document is
given (a sources directory), it is checked against its sha256 and the quotes are read from it.
Offsets are Unicode code points into the file exactly as it is, line breaks included.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import InputError
from kg.pipeline.records import Curated, FactFile, Span

_WS = re.compile(r"\s+")


def compact(text: str) -> str:
    """The text with all white space removed (how spans are compared with labels and numbers)."""
    return _WS.sub("", text)


_BREAK = re.compile(r"\s+")
_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f\u2018-\u201f\u2014\u2026]")


def readable(quote: str) -> str:
    """A quote as a reader wants it: the narrow-column line breaks and the spacing-out of
    Chinese text removed, one space kept between Latin letters or digits."""

    def join(m: re.Match) -> str:
        before = quote[m.start() - 1] if m.start() else ""
        after = quote[m.end()] if m.end() < len(quote) else ""
        if not before or not after or _WIDE.match(before) or _WIDE.match(after):
            return ""
        return " "

    return _BREAK.sub(join, quote).strip()


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class SourceTexts:
    """The texts of the source documents that were found, and the ones that were not.

    Attributes:
        texts: document id -> full text (only for documents found with the right checksum).
        missing: document ids whose file was not found (quotes are left out for them).
    """

    texts: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def quote(self, doc_id: str, span: Span) -> str | None:
        """The exact text of a span, or None when the document is not present."""
        text = self.texts.get(doc_id)
        return None if text is None else text[span.start : span.end]


def read_sources(curated: Curated, sources_dir: Path | None) -> SourceTexts:
    """Find each fact file's document in sources_dir, check its checksum and every span.

    Raises:
        InputError: checksum mismatch, or a span beyond the end of its document.
    """
    found = SourceTexts()
    for ff in curated.fact_files:
        doc = ff.document
        path = Path(sources_dir) / doc.file if sources_dir else None
        if path is None or not path.is_file():
            found.missing.append(doc.id)
            continue
        actual = sha256_of(path)
        if actual != doc.sha256:
            raise InputError(
                f"checksum mismatch for {path}: the fact file says {doc.sha256}, the file has {actual}; "
                "the spans were made against another version of the document",
                doc.fields.get("sha256", doc.position),
            )
        text = path.read_text(encoding="utf-8")
        _check_spans(ff, text)
        found.texts[doc.id] = text
    return found


def _check_spans(ff: FactFile, text: str) -> None:
    n = len(text)
    for rec in ff.records:
        spans = [(rec.where("span"), s) for s in rec.spans]
        spans.extend((rec.where("supportSpan"), s) for s in rec.support_spans)
        for values in rec.properties.values():
            spans.extend((v.position, s) for v in values for s in v.spans)
        for pos, span in spans:
            if span.end > n:
                raise InputError(
                    f"span {span.start}-{span.end} lies outside the document ({n} characters)",
                    pos,
                )
