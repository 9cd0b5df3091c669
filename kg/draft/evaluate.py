"""Score drafts against gold readings: ``kg draft --evaluate``.

Two kinds of gold:
- a curated fact file (the real report): figures are records with value/quantity/investment/
  expectedOutput and a unit; dates are records with `date`; conferrals are DesignationConferral
  records; entities are the registry entities the file refers to. The draft is made with the
  registry cut back to what was known before the document (country, region, city, indicators;
  units live in the ontology), so every other entity has to be found anew.
- an evaluation gold file (shared/sources/eval/README.md format): entities by label, figures by
  surface/value/unit, dates by surface, conferrals by recipient/designation/level.

Matching: a figure by value, unit and position (the drafted span overlaps or touches where the
number is written); a date by value and position, one dated record (event, conferral, programme
year, or an `about:` record adding a date) against one gold dated record, so a date written once
that dates two things counts twice on both sides; a conferral by recipient and designation
names; an entity by name (equal after removing white space and quotes, or one containing the
other with at least 60% of the longer). Each gold item matches at most one drafted item.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.draft.draft import Draft, draft_text
from kg.draft.entities import clean_name
from kg.pipeline.records import read_yaml

KNOWN_BEFORE = {"Country", "ProvincialDivision", "PrefectureCity", "Indicator", "Unit"}
APPROX = {"lower": "at-least", "upper": "at-most", "about": "about"}
TARGETS = {"figures F1": 0.85, "entity recall": 0.85, "dates F1": 0.9, "modality accuracy": 0.9}


@dataclass
class Score:
    """Precision/recall counts of one kind of item."""

    found: int = 0
    drafted: int = 0
    gold: int = 0

    @property
    def precision(self) -> float:
        return self.found / self.drafted if self.drafted else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Evaluation:
    """Scores of one document."""

    name: str
    figures: Score = field(default_factory=Score)
    entities: Score = field(default_factory=Score)
    dates: Score = field(default_factory=Score)
    conferrals: Score = field(default_factory=Score)
    modality: tuple[int, int] = (0, 0)
    qualifier: tuple[int, int] = (0, 0)
    level: tuple[int, int] = (0, 0)
    misses: dict[str, list[str]] = field(default_factory=dict)

    def headline(self) -> dict[str, float]:
        acc = lambda t: t[0] / t[1] if t[1] else 0.0  # noqa: E731
        return {"figures F1": self.figures.f1, "entity recall": self.entities.recall, "dates F1": self.dates.f1,
                "modality accuracy": acc(self.modality), "qualifier accuracy": acc(self.qualifier),
                "conferrals F1": self.conferrals.f1, "level accuracy": acc(self.level)}

    def table(self) -> str:
        acc = lambda t: f"{t[0] / t[1]:.2f} ({t[0]}/{t[1]})" if t[1] else "n/a"  # noqa: E731
        lines = [f"{self.name}", f"  {'kind':<12} {'P':>5} {'R':>5} {'F1':>5}   found/drafted/gold"]
        for kind in ("figures", "entities", "dates", "conferrals"):
            s: Score = getattr(self, kind)
            lines.append(f"  {kind:<12} {s.precision:5.2f} {s.recall:5.2f} {s.f1:5.2f}   {s.found}/{s.drafted}/{s.gold}")
        lines.append(f"  modality accuracy on figures found: {acc(self.modality)}")
        lines.append(f"  qualifier accuracy on figures found: {acc(self.qualifier)}")
        lines.append(f"  level accuracy on conferrals found: {acc(self.level)}")
        head = self.headline()
        lines.append("  targets: " + ", ".join(f"{k} {head[k]:.2f} {'ok' if head[k] >= v else 'MISSED'} (>= {v})"
                                               for k, v in TARGETS.items()))
        return "\n".join(lines)


# -- positions ------------------------------------------------------------------------------
def _spans(raw) -> list[tuple[int, int]]:
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for it in items:
        a, b = str(it).split("-")
        out.append((int(a), int(b)))
    return out


def _touch(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(x0 <= y1 and y0 <= x1 for x0, x1 in a for y0, y1 in b)


def _occurrences(text: str, surface: str) -> list[tuple[int, int]]:
    """Original spans where surface is written, white space ignored."""
    pattern = r"\s*".join(re.escape(c) for c in re.sub(r"\s", "", surface))
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]


def names_match(a: str, b: str) -> bool:
    a, b = clean_name(a), clean_name(b)
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return short in long_ and len(short) / len(long_) >= 0.6


def _num_equal(a, b) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    except (TypeError, ValueError):
        return False


def _greedy(gold: list, drafted: list, match, exact=None) -> tuple[int, list[tuple[object, object]], list]:
    """One-to-one matching; pairs that match exactly (when `exact` is given) are taken first."""
    used, pairs, todo = set(), [], []
    for g in gold:
        hit = next((i for i, d in enumerate(drafted) if i not in used and exact and exact(g, d)), None)
        if hit is None:
            todo.append(g)
        else:
            used.add(hit)
            pairs.append((g, drafted[hit]))
    missed = []
    for g in todo:
        hit = next((i for i, d in enumerate(drafted) if i not in used and match(g, d)), None)
        if hit is None:
            missed.append(g)
        else:
            used.add(hit)
            pairs.append((g, drafted[hit]))
    return len(pairs), pairs, missed


# -- drafted items --------------------------------------------------------------------------
def drafted_items(draft: Draft, registry: dict[str, dict], count_measures: bool = True):
    """(figures, dates, conferrals, entity names) of a draft, as plain tuples.

    count_measures: count indicators and units among the entities (the curated gold refers to
    them; the eval format's entity list does not, so there they are neither found nor extra).
    """
    names: dict[str, list[str]] = {}
    for e in draft.entities:
        names[e["id"]] = [e["label"]["zh"], *((e.get("altLabel") or {}).get("zh") or [])]
    for eid, e in registry.items():
        names.setdefault(eid, [(e.get("label") or {}).get("zh", eid), *((e.get("altLabel") or {}).get("zh") or [])])
    figures, dates, confs = [], [], []
    about_recipient = {r["about"]: r["recipient"] for r in draft.records if "about" in r and "recipient" in r}
    for r in draft.records:
        if "value" in r and "unit" in r:
            figures.append({"value": r["value"], "unit": r["unit"], "spans": _spans(r["span"]),
                            "modality": r.get("modality"), "qualifier": r.get("qualifier", "exact")})
        if "date" in r:
            dates.append({"date": str(r["date"]), "spans": _spans(r["span"])[-1:], "all": _spans(r["span"])})
        if r.get("type") == "DesignationConferral":
            # an unsaid recipient sits in an implied `about:` record, as in the curated data
            recipient = r.get("recipient") or about_recipient.get(r["id"], "")
            confs.append({"recipient": names.get(recipient, [recipient]),
                          "designation": names.get(r["designation"], [r["designation"]]), "level": r.get("level")})
    mentioned = {r["about"] for r in draft.records if "about" in r}
    dated = {r["about"] for r in draft.records if "about" in r and "date" in r}
    for r in draft.records:  # events are drafted as records: their names count as entities found
        if "id" in r and ("date" in r or r["id"] in dated) and r.get("type") not in ("DesignationConferral", "ProgrammeYear"):
            names[r["id"]] = [r["label"]["zh"], *((r.get("altLabel") or {}).get("zh") or [])]
            mentioned.add(r["id"])
    mentioned -= {r["id"] for r in draft.records if r.get("type") in ("DesignationConferral", "ProgrammeYear")}
    if not count_measures:  # gold files in the eval format list named things, not indicators or units
        mentioned = {eid for eid in mentioned if not _is_measure(eid, draft, registry)}
        # a milestone (X投入运营) is an event of a named thing, not a name of its own
        mentioned -= {r["id"] for r in draft.records if "id" in r and "involves" in r}
    entity_names = {eid: names[eid] for eid in mentioned if eid in names}
    return figures, dates, confs, entity_names


def _is_measure(eid: str, draft: Draft, registry: dict[str, dict]) -> bool:
    e = next((x for x in draft.entities if x["id"] == eid), None) or registry.get(eid) or {}
    t = e.get("type", [])
    return bool({"Indicator", "Unit"} & set(t if isinstance(t, list) else [t]))


# -- gold readers -----------------------------------------------------------------------------
def gold_from_facts(facts_path: Path, registry: dict[str, dict]):
    raw = read_yaml(Path(facts_path))
    figures, dates, confs, entity_ids = [], [], [], set()
    for r in raw["records"]:
        spans = _spans(r["span"])
        for key, unit_key in (("value", "unit"), ("quantity", "unit")):
            if key in r and unit_key in r:
                d = str((r.get("definition") or {}).get("zh", ""))
                q = r.get("qualifier") or ("at-least" if "下限" in d else "size-class" if "量级" in d else "exact")
                figures.append({"value": r[key], "unit": r[unit_key], "spans": spans, "modality": r.get("modality"),
                                "qualifier": q, "written": r.get("valueAsWritten")})
        for key in ("investment", "expectedOutput"):
            if key in r:
                d = str((r.get("definition") or {}).get("zh", ""))
                figures.append({"value": r[key], "unit": "unit-cny", "spans": spans, "modality": r.get("modality"),
                                "qualifier": "at-least" if "下限" in d else "exact", "written": r.get(key + "AsWritten")})
        if "date" in r:
            dates.append({"date": str(r["date"]), "spans": spans[-1:]})
        if r.get("type") == "DesignationConferral":
            # an implied recipient sits in an `about:` record of its own (data/README.md)
            recipient = r.get("recipient") or next((a["recipient"] for a in raw["records"]
                                                    if a.get("about") == r.get("id") and "recipient" in a), None)
            confs.append({"recipient": _registry_names(registry, recipient),
                          "designation": _registry_names(registry, r["designation"]), "level": r.get("level")})
        for k, v in r.items():
            for x in (v if isinstance(v, list) else [v]):
                if isinstance(x, dict):
                    x = x.get("value")
                if isinstance(x, str) and x in registry:
                    entity_ids.add(x)
    entities = {eid: _registry_names(registry, eid) for eid in entity_ids}
    return figures, dates, confs, entities


def _registry_names(registry: dict[str, dict], eid: str) -> list[str]:
    e = registry.get(eid, {})
    return [(e.get("label") or {}).get("zh", eid), *((e.get("altLabel") or {}).get("zh") or [])]


def gold_from_eval(gold_path: Path, text: str, published: str):
    raw = read_yaml(Path(gold_path))
    figures = []
    for f in raw.get("figures") or []:
        figures.append({"value": f["value"], "unit": "unit-" + str(f["unit"]), "spans": _occurrences(text, str(f["surface"])),
                        "modality": f.get("modality"), "qualifier": APPROX.get(f.get("approx"), "exact")})
    dates = [{"date": str(d["date"]), "spans": _occurrences(text, re.sub(r"^[于在]", "", str(d["surface"])))}
             for d in raw.get("dates") or []]
    confs = [{"recipient": [c["recipient"]], "designation": [c["designation"]],
              "level": {"national": "level-national", "regional": "level-autonomous-region", "city": "level-city",
                        None: "level-not-stated"}.get(c.get("level"), c.get("level"))}
             for c in raw.get("conferrals") or []]
    entities = {str(i): [e["label"]] for i, e in enumerate(raw.get("entities") or [])}
    return figures, dates, confs, entities


# -- scoring ------------------------------------------------------------------------------------
def score(name: str, draft: Draft, gold, registry: dict[str, dict], count_measures: bool = True) -> Evaluation:
    g_fig, g_dates, g_conf, g_ent = gold
    d_fig, d_dates, d_conf, d_ent = drafted_items(draft, registry, count_measures)
    ev = Evaluation(name)

    def fig_match(g, d):
        return d["unit"] == g["unit"] and _num_equal(d["value"], g["value"]) and _touch(g["spans"], d["spans"])

    n, pairs, missed = _greedy(g_fig, d_fig, fig_match)
    ev.figures = Score(n, len(d_fig), len(g_fig))
    ev.modality = (sum(1 for g, d in pairs if g.get("modality") is None or g["modality"] == d["modality"]), len(pairs))
    ev.qualifier = (sum(1 for g, d in pairs if g["qualifier"] == d["qualifier"]), len(pairs))
    ev.misses["figures"] = [f"{g.get('written') or g['value']} {g['unit']}" for g in missed]

    n, _, missed = _greedy(g_dates, d_dates,
                           lambda g, d: g["date"] == d["date"] and _touch(g["spans"], d.get("all", d["spans"])))
    ev.dates = Score(n, len(d_dates), len(g_dates))
    ev.misses["dates"] = [f"{g['date']} @{g['spans'][:1]}" for g in missed]

    def conf_match(g, d):
        return any(names_match(a, b) for a in g["recipient"] for b in d["recipient"]) and \
            any(names_match(a, b) for a in g["designation"] for b in d["designation"])

    n, pairs, missed = _greedy(g_conf, d_conf, conf_match)
    ev.conferrals = Score(n, len(d_conf), len(g_conf))
    ev.level = (sum(1 for g, d in pairs if g["level"] == d["level"]), len(pairs))
    ev.misses["conferrals"] = [f"{g['recipient'][0]} / {g['designation'][0]}" for g in missed]

    d_list = list(d_ent.items())
    n, _, missed = _greedy(list(g_ent.items()), d_list,
                           lambda g, d: any(names_match(a, b) for a in g[1] for b in d[1]),
                           exact=lambda g, d: g[0] == d[0] or bool({clean_name(a) for a in g[1]} & {clean_name(b) for b in d[1]}))
    ev.entities = Score(n, len(d_list), len(g_ent))
    ev.misses["entities"] = [g[1][0] for g in missed]
    return ev


def cut_registry(entities: list[dict]) -> list[dict]:
    """The registry as it was before a document: places above the district, indicators, units."""
    def types(e):
        t = e.get("type", [])
        return set(t if isinstance(t, list) else [t])

    return [e for e in entities if types(e) & KNOWN_BEFORE]


def evaluate_facts(source: Path, facts: Path, registry_entities: list[dict]) -> Evaluation:
    """Draft a curated document with the cut-back registry and score it against its fact file."""
    raw = read_yaml(Path(facts))
    doc = raw["document"]
    text = Path(source).read_text(encoding="utf-8")
    full = {e["id"]: e for e in registry_entities}
    draft = draft_text(text, str(doc["published"]), cut_registry(registry_entities), str(doc["id"]), Path(source).name)
    return score(f"{Path(source).name} (registry cut back; gold {Path(facts).name})", draft,
                 gold_from_facts(facts, full), full)


def evaluate_eval(source: Path, gold: Path, registry_entities: list[dict], published: str | None = None) -> Evaluation:
    """Draft an evaluation document with the full registry and score it against its gold file."""
    raw = read_yaml(Path(gold))
    published = published or str((raw.get("document") or {}).get("published"))
    text = Path(source).read_text(encoding="utf-8")
    draft = draft_text(text, published, registry_entities, Path(source).stem, Path(source).name)
    return score(f"{Path(source).name} (gold {Path(gold).name})", draft, gold_from_eval(gold, text, published),
                 {e["id"]: e for e in registry_entities}, count_measures=False)
