"""Dates and periods, resolved against the publication date.

Explicit dates (2025年6月, 7月12日, 今年9月, 去年11月, 同年11月) and periods (全年, 上半年,
前三季度, 1至6月, 一季度) are found on the compact text. A month without a year takes the
publication year unless the text names one (the genre's convention); 同年 takes the year last
written. The *period in force* at a position is the last period or year that opened a clause
before it (2023年，…; 下半年，…), which is how a report's sections say which year they speak of.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from kg.draft import rules
from kg.draft.normalise import Text

_CN_MONTH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
             "十一": 11, "十二": 12}
_MONTH = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])"


@dataclass(frozen=True)
class Published:
    """The publication date: year and month (month 12 when only a year is known)."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Published":
        m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-\d{2})?", text or "")
        if not m or not (1 <= int(m.group(2) or 12) <= 12):
            raise ValueError(f"--published {text!r} is not YYYY-MM (or YYYY, YYYY-MM-DD)")
        return cls(int(m.group(1)), int(m.group(2) or 12))


@dataclass
class Period:
    """A stated period: a year, or months first..last of a year."""

    year: int
    first: int = 1
    last: int = 12
    # compact [start, end) of the words that set the period (None: the publication year by default)
    at: tuple[int, int] | None = field(default=None, compare=False)

    @property
    def whole_year(self) -> bool:
        """True for a year the text names as the subject of a passage (2023年，…; 回首2023年)."""
        return self.at is not None and (self.first, self.last) == (1, 12)

    @property
    def iso(self) -> str:
        """'2023' for a whole year, '2024-01/2024-06' for months of it, '2024-03' for one month."""
        if (self.first, self.last) == (1, 12):
            return str(self.year)
        if self.first == self.last:
            return f"{self.year}-{self.first:02d}"
        return f"{self.year}-{self.first:02d}/{self.year}-{self.last:02d}"

    def ends_after(self, pub: Published) -> bool:
        return (self.year, self.last) > (pub.year, pub.month)


@dataclass
class DateMention:
    """An explicit date in the text: compact span, ISO value, how it was resolved."""

    start: int
    end: int
    iso: str
    written: str
    inferred_year: bool


def _month(text: str) -> int:
    return int(text) if text.isdigit() else _CN_MONTH[text]


@lru_cache(maxsize=1)
def _date_rx() -> re.Pattern:
    rel = rules.alternation(list(rules.load("periods")["relative_years"]) + rules.load("periods")["same_year"])
    return re.compile(
        rf"(?:(?P<year>\d{{4}})年|(?P<rel>{rel}))?(?P<month>{_MONTH})月(?:(?P<day>{_DAY})[日号])?(?!份?以来)"
    )


def find_dates(text: Text, pub: Published, contexts: list[tuple[int, "Period"]] | None = None) -> list[DateMention]:
    """Explicit dates (a month at least), resolved to ISO.

    A month written without a year takes the year the passage speaks of (a year that opened a
    clause or a section heading before it: contexts from period_contexts), else the publication's.
    """
    prules = rules.load("periods")
    out = []
    s = text.compact
    for m in _date_rx().finditer(s):
        # 1至6月 is a period, not a date; 6月份 is fine; a month right after another number is not a month
        if re.search(r"(至|到|-|~|—)$", s[max(0, m.start() - 1) : m.start()]):
            continue
        if m.start() > 0 and not m.group("year") and not m.group("rel") and re.match(r"[\d.个第]", s[m.start() - 1]):
            continue
        # “三月三” and other quoted names are not dates; nor is a Chinese month run into a numeral
        if _inside_quotes(s, m.start()) or (not m.group("day") and re.match(r"[一二三四五六七八九十廿]", s[m.end() : m.end() + 1])):
            continue
        month = _month(m.group("month"))
        inferred = False
        if m.group("year"):
            year = int(m.group("year"))
        elif m.group("rel") in prules["same_year"]:
            year = _last_year_before(s, m.start()) or pub.year
            inferred = True
        elif m.group("rel"):
            year = pub.year + prules["relative_years"][m.group("rel")]
        else:
            ctx = period_at(contexts, m.start(), pub) if contexts else None
            year, inferred = (ctx.year if ctx is not None and ctx.at is not None else pub.year), True
        iso = f"{year}-{month:02d}" + (f"-{int(m.group('day')):02d}" if m.group("day") else "")
        out.append(DateMention(m.start(), m.end(), iso, m.group(0), inferred))
    return out


def _inside_quotes(s: str, pos: int) -> bool:
    """True when pos is inside a “…” quotation opened earlier in its sentence."""
    start = max(s.rfind(c, 0, pos) for c in "。！？") + 1
    seg = s[start:pos]
    return seg.count("“") > seg.count("”")


def _last_year_before(s: str, pos: int) -> int | None:
    years = re.findall(r"(\d{4})年", s[:pos])
    return int(years[-1]) if years else None


def period_contexts(text: Text, pub: Published) -> list[tuple[int, Period]]:
    """(position, period) for each clause-opening year or period expression, in order.

    A year that opens a clause (2023年，…; 回首2023年，…) or a period that does (上半年，…;
    1至6月，…) sets the period in force for what follows.
    """
    prules = rules.load("periods")
    names = rules.alternation(prules["periods"])
    rel = rules.alternation(prules["relative_years"])
    heads = rules.alternation(prules["heading_words"])
    rx = re.compile(
        rf"(?:(?P<year>\d{{4}})年|(?P<rel>{rel}))?(?:(?P<name>{names})|(?P<m1>{_MONTH})(?:至|到|-|—|~)(?P<m2>{_MONTH})月)?"
        rf"(?=[，,：:]|以来|(?<=年)(?:{heads}))"
    )
    out: list[tuple[int, Period]] = []
    year_now = pub.year
    for m in rx.finditer(text.compact):
        if not any(m.group(k) for k in ("year", "rel", "name", "m1")):
            continue
        if m.group("year"):
            year = int(m.group("year"))
        elif m.group("rel"):
            year = pub.year + prules["relative_years"][m.group("rel")]
        else:
            year = out[-1][1].year if out else year_now
        if m.group("name"):
            first, last = prules["periods"][m.group("name")]
        elif m.group("m1"):
            first, last = _month(m.group("m1")), _month(m.group("m2"))
        else:
            first, last = 1, 12
        out.append((m.start(), Period(year, first, last, at=(m.start(), m.end()))))
    return out


def period_at(contexts: list[tuple[int, Period]], pos: int, pub: Published) -> Period:
    """The period in force at compact position pos (the publication year before any is set)."""
    current = Period(pub.year)
    for start, period in contexts:
        if start > pos:
            break
        current = period
    return current


def stated_period(text: Text, start: int, end: int, fallback: Period, pub: Published) -> Period:
    """A period written inside [start, end) (e.g. 全年 before a figure), else the fallback."""
    prules = rules.load("periods")
    names = rules.alternation(prules["periods"])
    seg = text.compact[start:end]
    found = None
    for m in re.finditer(rf"(?:(?P<year>\d{{4}})年)?(?P<name>{names})|(?P<y2>\d{{4}})年(?!\d|度)", seg):
        year = int(m.group("year") or m.group("y2") or fallback.year)
        if m.group("name"):
            first, last = prules["periods"][m.group("name")]
        else:
            first, last = 1, 12
        found = Period(year, first, last)
    return found or fallback


@dataclass
class ProgrammeYear:
    """"2024年，是…的关键一年": a year placed within a plan or programme (compact positions)."""

    year: int
    year_span: tuple[int, int]
    start: int  # the phrase naming the plan and the role, up to the role word's end
    end: int
    role: str | None
    contiguous: bool  # nothing but 是/站在 between the year and the phrase


def find_programme_years(text: Text, pub: Published) -> list[ProgrammeYear]:
    """Years the text places in a plan or programme (开局之年, 关键一年, 收官之年 …).

    The year is the nearest year written before the role word in its sentence (2024年, 今年);
    the phrase runs back from the role word to the clause start or to 是/站在.
    """
    prules = rules.load("periods")["programme_year"]
    s = text.compact
    rel = rules.load("periods")["relative_years"]
    out = []
    for m in re.finditer(rules.alternation(prules["roles"]), s):
        s0, _ = text.sentence(m.start())
        years = list(re.finditer(rf"(\d{{4}})年(?!度)|{rules.alternation(rel)}", s[s0 : m.start()]))
        if not years:
            continue
        y = years[-1]
        year = int(y.group(1)) if y.group(1) else pub.year + rel[y.group(0)]
        c0, _ = text.clause(m.start())
        link = max((s.rfind(w, c0, m.start()) + len(w) for w in prules["links"] if s.rfind(w, c0, m.start()) >= 0), default=c0)
        start = max(c0, link)
        between = s[s0 + y.end() : start]
        contiguous = not re.search(rules.alternation(prules["roles"]), between) and len(between) <= 4
        out.append(ProgrammeYear(year, (s0 + y.start(), s0 + y.end()), start, m.end(), prules["roles"][m.group(0)], contiguous))
    return out
