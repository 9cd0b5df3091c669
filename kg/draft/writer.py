"""Write a draft: the fact-file format plus `entities:` (proposals), atomically.

Draft-only keys, removed by ``kg draft accept``: ``confidence`` (0..1), ``todo`` (what the
reviewer must check or fill in: ``label.en`` is a pinyin placeholder, ``type`` is a guess from
the name's suffix, ``status``/``locatedIn``/``indicator``/``recipient`` were inferred), and, on
proposed entities, ``rule`` (which rule proposed it) and ``seen`` (spans where it is named).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from kg.draft.draft import Draft

DRAFT_ONLY_KEYS = ("confidence", "todo", "rule", "seen")

HEADER = """\
# DRAFT written by `kg draft`: review before `kg draft accept`. Nothing here is in the graph yet.
# Each record: span(s) = code points of the source, modality, confidence (0..1) and todo:
#   label.en  the English label is a pinyin placeholder: write a real one
#   type      the class was guessed from how the name ends: check it
#   indicator / recipient / status / locatedIn  inferred, not stated: check them
# Delete records that are wrong; `kg draft accept --only ID ...` takes only some.
"""


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, data: str):
    # quote what YAML would read back as a number or date (periods, years, codes)
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str)


def dump(data: dict) -> str:
    """YAML text for a draft or fact file (block style, unicode kept, key order kept)."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=160, default_flow_style=False)


def draft_dict(draft: Draft) -> dict:
    return {"document": draft.document, "entities": draft.entities, "records": draft.records}


def write_atomic(path: Path, text: str) -> None:
    """Write text to path via a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_draft(draft: Draft, path: Path) -> None:
    write_atomic(path, HEADER + dump(draft_dict(draft)))
