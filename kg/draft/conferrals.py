"""Designations and awards: RECIPIENT + trigger (获评, 入选, 被认定为 …) + DESIGNATION.

The designation runs from the trigger to the end of its clause, split at 、 when one recipient
gets several (入选首批A、第三批B); batch (第三批, 首批) and a leading year (2023年, 2023年度)
are taken out of the name into their own fields; the level comes from the designation's words
or the words just before the trigger (rules/conferrals.yaml). The recipient is the nearest
entity named before the trigger in the same sentence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kg.draft import rules
from kg.draft.dates import _CN_MONTH
from kg.draft.entities import clean_name
from kg.draft.normalise import Text


@dataclass
class Conferral:
    """One designation conferred, as found (compact positions)."""

    start: int
    end: int
    trigger: int
    designation: str
    designation_start: int
    designation_end: int
    level: str
    batch: int | None
    year: str | None
    written: str = ""  # the designation as written (with its level word), kept as an alias


@lru_cache(maxsize=1)
def _trigger_rx() -> re.Pattern:
    return re.compile(rules.alternation(rules.load("conferrals")["triggers"]))


def _level(words: str, cfg: dict) -> str | None:
    for row in cfg["levels"]:
        if any(w in words for w in row["words"]):
            return row["level"]
    return None


def _batch(text: str) -> int | None:
    m = re.search(rules.load("conferrals")["batch"], text)
    if not m:
        return None
    if m.group(1) is None:
        return 1
    n = m.group(1)
    return int(n) if n.isdigit() else _CN_MONTH.get(n)


def find_conferrals(text: Text) -> list[Conferral]:
    """Every conferral the trigger rules find, in order."""
    cfg = rules.load("conferrals")
    suffix_ok = tuple(cfg["designation_suffixes"])
    tails = sorted(cfg["tail_words"], key=len, reverse=True)
    s = text.compact
    out = []
    for m in _trigger_rx().finditer(s):
        _, c1 = text.clause(m.end())
        body = s[m.end() : c1].rstrip("，,。；;：:！？")
        body_start = m.end()
        prefix = ""
        # 在X中获评“好”等次: the designation is X + what follows
        s0, _ = text.clause(m.start())
        ctx = re.search(r"在(.{2,30})中$", s[s0 : m.start()])
        if not body and m.group(0) in cfg["list_triggers"]:
            # 第三批X名单公布，Y入选: Y is selected for the list announced before it in the sentence
            ss0, _ = text.sentence(m.start())
            lm = None
            for lm in re.finditer(rf"((?:{cfg['batch']})?[^，。；：、]{{2,30}}?)名单(?:{rules.alternation(cfg['list_announced'])})", s[ss0 : m.start()]):
                pass
            if lm is not None:
                body, body_start = lm.group(1), ss0 + lm.start(1)
        parts = body.split("、") if "、" in body else [body]
        # A、B获评C: a part with a trigger of its own starts a new conferral (found on its own)
        for k, part in enumerate(parts):
            if k and _trigger_rx().search(part):
                parts = parts[:k]
                break
        pos = body_start
        for part in parts:
            raw = part
            name = raw
            for t in tails:
                if name.endswith(t) and len(name) > len(t) + 1 and t not in ("等次",):
                    name = name[: -len(t)]
                    break
            year = None
            ym = re.match(r"[“\"]?(\d{4})年度?", name)
            if ym:
                year = ym.group(1)
            batch = _batch(name)
            clean = re.sub(r"^[“\"]?(\d{4})年度?", "", name)
            clean = re.sub(rules.load("conferrals")["batch"], "", clean)
            # a grade in brackets after the name (（四星级）) qualifies it; it is not part of the name
            clean = re.sub(r"[（(][^（）()]{1,8}[）)]$", "", clean_name(clean)).strip("（）()")
            if ctx and len(clean) <= 4:
                cy = re.search(r"(\d{4})年度?", ctx.group(1))
                year = year or (cy.group(1) if cy else None)
                clean = re.sub(r"^(自治区|\d{4}年度?)+", "", clean_name(ctx.group(1))) + clean
            written = clean
            clean = re.sub(rf"^(?:{rules.alternation(cfg['level_prefixes'])})", "", clean)
            # named as conferred (…认定, …称号) or ending like a designation
            gate = cfg.get("gated_triggers", {}).get(m.group(0))
            if gate and not raw.endswith(tuple(gate)):
                pos += len(part) + 1
                continue
            if len(clean) < 3 or not (clean.endswith(suffix_ok) or raw.endswith(tuple(tails))):
                pos += len(part) + 1
                continue
            level = _level(raw, cfg) or _level(s[max(s0, m.start() - 8) : m.start()], cfg) or \
                _level(ctx.group(1) if ctx else "", cfg) or "level-not-stated"
            out.append(Conferral(m.start(), pos + len(part), m.start(), clean, pos, pos + len(part),
                                 level, batch, year, written))
            pos += len(part) + 1
    return out
