"""Plan, result or background: from the clause, then the sentence, then the period in force.

Cue words live in rules/modality.yaml. A strong cue in the clause decides (将, 力争, 确保 → plan;
完成, 实现, 获评, 入选 → result); else one earlier in the sentence; else the period: one that
ends after the publication date is still to come (plan), one before it is reported (result).
"""
from __future__ import annotations

from kg.draft import rules
from kg.draft.dates import Period, Published
from kg.draft.normalise import Text


def _cue(segment: str) -> str | None:
    """plan, result or None from the cue words of a segment (rules/modality.yaml).

    A plan cue governs what follows it (计划建成 → plan) unless 已 comes after it; otherwise the
    last cue wins. Cue words used as nouns (年度计划) are blanked out first.
    """
    cfg = rules.load("modality")
    for w in cfg["noun_uses"]:
        segment = segment.replace(w, "□" * len(w))
    plan = max((segment.rfind(w) for w in cfg["strong_plan"]), default=-1)
    if plan >= 0 and not any(segment.find(w, plan) >= 0 for w in cfg["already"]):
        return "plan"
    best, kind = -1, None
    for words, k in ((cfg["strong_plan"], "plan"), (cfg["strong_result"], "result")):
        for w in words:
            i = segment.rfind(w)
            if i > best:
                best, kind = i, k
    return kind


def modality(text: Text, pos: int, period: Period, pub: Published) -> tuple[str, float]:
    """(modality, confidence) of what is stated at compact position pos."""
    c0, c1 = text.clause(pos)
    kind = _cue(text.compact[c0:c1])
    if kind:
        return kind, 0.9
    s0, _ = text.sentence(pos)
    kind = _cue(text.compact[s0:pos])
    if kind:
        return kind, 0.8
    return ("plan" if period.ends_after(pub) else "result"), 0.7
