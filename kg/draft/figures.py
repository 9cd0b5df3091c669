"""Figures: number + unit as written, normalised to base units, with their qualifier.

Handles Arabic and Chinese numerals (一百零一点四七亿元, 近万人), magnitudes (万, 亿), the
approximation words of rules/figures.yaml (约, 近, 超, 超过, 以上, 突破, 余, 左右 …) as a
structured qualifier, size classes (千亩级) and falls (下降2.3% → -2.3). Works on the compact
text, so numbers broken across lines or spaced out (4\\n0个, 2 0 2 3) are found whole.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from kg.draft import rules
from kg.draft.normalise import Text

_ARABIC = r"\d+(?:\.\d+)?"
_CHINESE = r"[零〇一二两三四五六七八九十百千万亿点]+"


@dataclass
class Figure:
    """One number with its unit, as found in the compact text.

    Attributes:
        start, end: compact span of the figure as written (approximation words included).
        number_start: compact position of the number itself.
        value: normalised value in base units (negative for a fall).
        unit: unit concept id (unit-cny, unit-percent, …).
        written: the figure as written, white space removed (超10亿元).
        qualifier: exact | at-least | at-most | about | size-class.
        growth: True when the clause makes it a rate of change.
    """

    start: int
    end: int
    number_start: int
    value: int | float
    unit: str
    written: str
    qualifier: str
    growth: bool
    unit_end: int


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern:
    fig, units = rules.load("figures"), rules.load("units")
    before = rules.alternation(fig["approximation"]["before"])
    after_num = rules.alternation(fig["approximation"]["after_number"])
    after_unit = rules.alternation(fig["approximation"]["after_unit"])
    mags = rules.alternation(units["magnitudes"])
    unit_words = rules.alternation(units["units"])
    return re.compile(
        rf"(?P<pre>{before})?(?P<num>{_ARABIC}|{_CHINESE})(?P<mag>{mags})?(?P<post>{after_num})?"
        rf"(?P<unit>{unit_words})(?P<after>{after_unit})?(?P<cls>{re.escape(fig['size_class_suffix'])})?"
    )


def chinese_number(text: str) -> Decimal:
    """Value of a Chinese numeral (一百零一点四七, 万, 两万五千) via cn2an.

    Raises:
        ValueError: not a numeral.
    """
    import cn2an

    mult = Decimal(1)
    while len(text) > 1 and text[-1] in "万亿" and "点" in text:
        mult *= Decimal(10000 if text[-1] == "万" else 100000000)
        text = text[:-1]
    if text[0] in "十百千万亿":
        text = "一" + text
    try:
        return Decimal(str(cn2an.cn2an(text, "smart"))) * mult
    except (ValueError, KeyError) as exc:
        raise ValueError(f"not a Chinese numeral: {text}") from exc


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def find_figures(text: Text) -> list[Figure]:
    """Every figure in the text, in order."""
    fig_rules, unit_rules = rules.load("figures"), rules.load("units")
    approx = fig_rules["approximation"]
    not_before = fig_rules["not_before"]
    out = []
    s = text.compact
    for m in _pattern().finditer(s):
        num = m.group("num")
        if any(s[max(0, m.start("num") - len(w)) : m.start("num")] == w for w in not_before) and not m.group("pre"):
            continue
        if m.start("num") > 0 and re.match(r"[\d.]", s[m.start("num") - 1]):
            continue  # the tail of a longer number the pattern could not take
        unit = m.group("unit")
        nxt = s[m.end("unit") : m.end("unit") + 1]
        if not m.group("after") and nxt and nxt in unit_rules.get("not_after_unit", {}).get(unit, []):
            continue
        try:
            number = Decimal(num) if re.fullmatch(_ARABIC, num) else chinese_number(num)
        except (ValueError, ArithmeticError):
            continue
        if re.fullmatch(_CHINESE, num) and len(num) == 1 and num in "万亿百千" and not (m.group("pre") or m.group("cls")):
            continue
        if m.group("mag"):
            number *= Decimal(unit_rules["magnitudes"][m.group("mag")])
        spec = unit_rules["units"][unit]
        value = number * Decimal(spec["factor"])
        qualifier = "exact"
        for key, table in (("pre", approx["before"]), ("post", approx["after_number"]), ("after", approx["after_unit"])):
            if m.group(key) and table.get(m.group(key)):
                qualifier = table[m.group(key)]
        if m.group("cls"):
            qualifier = "size-class"
        growth = False
        clause_start, _ = text.clause(m.start())
        before = s[clause_start : m.start()]
        if spec["id"] in ("unit-percent", "unit-percentage-point"):
            growth = any(w in before for w in fig_rules["growth"])
            if _falls(before, fig_rules):
                value = -value
        start = m.start() if m.group("pre") and approx["before"].get(m.group("pre")) else m.start("num")
        end = m.end()
        out.append(Figure(start, end, m.start("num"), _plain(value), spec["id"],
                          s[start:end], qualifier, growth, m.end("unit")))
    return out


def _falls(before: str, fig_rules: dict) -> bool:
    """True when the change word nearest before the number is a fall (下降, 减少 …)."""
    best, fall = -1, False
    for words, is_fall in ((fig_rules["fall"], True), (fig_rules["rise"], False)):
        for w in words:
            i = before.rfind(w)
            if i > best:
                best, fall = i, is_fall
    return fall
