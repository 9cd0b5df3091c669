"""The drafting rules and dictionaries: YAML files under kg/draft/rules/, shipped with the package.

Rules are data so that a new genre or region needs edited YAML, not new Python.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, Any]:
    """The parsed rule file ``kg/draft/rules/<name>.yaml``."""
    text = resources.files("kg.draft").joinpath("rules", f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def alternation(words) -> str:
    """A regex alternation of literal words, longest first (so 超过 wins over 超)."""
    import re

    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))
