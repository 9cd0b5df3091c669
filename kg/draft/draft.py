"""The drafting pipeline: a report's text -> proposed entities and fact records (pure, no I/O).

Stages: normalise -> entities (registry + proposals) -> figures -> dates and periods ->
conferrals -> events -> records. Every record carries its span(s) in code points of the
original text, a modality, a confidence, and ``todo``: what the reviewer must check or fill in
before ``kg draft accept`` (an English label, a type, a status the text does not give).
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

from kg.draft import rules, segment
from kg.draft.conferrals import find_conferrals
from kg.draft.dates import Period, Published, find_dates, find_programme_years, period_at, period_contexts, stated_period
from kg.draft.entities import Entity, EntityFinder, Mention, Registry, clean_name, pinyin_label, toneless_label, user_words
from kg.draft.figures import Figure, find_figures
from kg.draft.modality import modality
from kg.draft.normalise import Text, normalise

PLACE_TYPES = {"AdministrativeArea", "Block", "Country", "DemonstrationArea", "District", "IndustrialPark", "Place",
               "PrefectureCity", "ProductionBase", "ProvincialDivision", "RuralRevitalisationBelt", "ScenicPlace",
               "Town", "Village"}
AREA_RANK = {"District": 0, "PrefectureCity": 1, "Town": 2, "ProvincialDivision": 3, "Country": 4}
_ONTOLOGY_UNITS = {"unit-cny", "unit-percent", "unit-count", "unit-tonne", "unit-mu", "unit-person"}
_SUBJECT_TYPES = PLACE_TYPES | {"Enterprise", "Project", "Organization", "PublicBody", "PartyBody", "GovernmentBody", "ServiceCentre",
                                "Platform", "DigitalPlatform", "LogisticsFacility"}


@dataclass
class Draft:
    """A drafted document: header, proposed entities and records (plain dicts, ready for YAML)."""

    document: dict
    entities: list[dict] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    text: str = ""


def _span(text: Text, start: int, end: int) -> str:
    a, b = text.span(start, end)
    return f"{a}-{b}"


class _Drafter:
    def __init__(self, original: str, pub: Published, registry: Registry, doc_id: str):
        self.text = normalise(original)
        self.pub = pub
        self.registry = registry
        self.doc_id = doc_id
        self.prefix = re.sub(r"[^a-z0-9]+", "-", doc_id.lower()).strip("-")[-12:] or "doc"
        self.finder = EntityFinder(registry)
        self.records: list[dict] = []
        self.labels: Counter = Counter()
        self.n = Counter()
        self.contexts = period_contexts(self.text, pub)
        self.project_status: dict[str, tuple[str, str]] = {}
        self.conferral_of: dict[tuple[str, str], dict] = {}  # (recipient, designation) -> its record
        self.as_event: set[str] = set()  # event-like names drafted as event records, not registry entries

    # -- helpers -----------------------------------------------------------------------------
    def rid(self, kind: str) -> str:
        self.n[kind] += 1
        return f"{kind}-{self.prefix}-{self.n[kind]:03d}"

    def unique_label(self, zh: str) -> str:
        self.labels[zh] += 1
        return zh if self.labels[zh] == 1 else f"{zh}（{self.labels[zh]}）"

    def mentions_in(self, start: int, end: int) -> list[Mention]:
        return [m for m in self.finder.mentions if m.start >= start and m.end <= end]

    def nearest_before(self, pos: int, start: int, types: set[str] | None = None, max_gap: int | None = None) -> Mention | None:
        best = None
        for m in self.finder.mentions:
            if m.end <= pos and m.start >= start and (types is None or set(m.entity.types) & types):
                if max_gap is not None and pos - m.end > max_gap:
                    continue
                if best is None or m.end > best.end or (m.end == best.end and m.start < best.start):
                    best = m
        return best

    def main_area(self) -> Entity | None:
        counts = Counter()
        for m in self.finder.mentions:
            t = set(m.entity.types) & set(AREA_RANK)
            if t:
                counts[m.entity.id] += 1
        if not counts:
            return None
        best = min(counts, key=lambda eid: (min(AREA_RANK[t] for t in self.finder.entities[eid].types if t in AREA_RANK),
                                            -counts[eid]))
        return self.finder.entities[best]

    # -- stages ------------------------------------------------------------------------------
    def run(self) -> None:
        self.finder.find(self.text)
        self.area = self.main_area()
        for fig in find_figures(self.text):
            self.figure(fig)
        dates = find_dates(self.text, self.pub, self.contexts)
        conferrals = find_conferrals(self.text)
        dated_conf = self.conferrals(conferrals, dates)
        self.finder.prune_nested()  # designations are named now: what lies inside them is part of them
        self.events(dates, dated_conf)
        self.programme_years()

    def programme_years(self) -> None:
        """ProgrammeYear records: "2024年，是…“十四五”规划…的关键一年" (one per year, plan and role)."""
        t = self.text
        of_types = set(rules.load("periods")["programme_year"]["of_types"])
        seen: dict[tuple, dict] = {}
        for py in find_programme_years(t, self.pub):
            of = next((m for m in sorted(self.finder.mentions, key=lambda m: m.start)
                       if py.start <= m.start and m.end <= py.end and set(m.entity.types) & of_types), None)
            spans = [_span(t, py.year_span[0], py.end)] if py.contiguous else \
                [_span(t, *py.year_span), _span(t, py.start, py.end)]
            key = (py.year, of.entity.id if of else t.compact[py.start:py.end], py.role)
            if key in seen:  # the same year and role said again later: one record, every span
                rec = seen[key]
                rec["span"] = list(dict.fromkeys((rec["span"] if isinstance(rec["span"], list) else [rec["span"]]) + spans[-1:]))
                continue
            phrase = t.compact[py.start:py.end]
            rec = {"id": self.rid("year"), "type": "ProgrammeYear",
                   "label": {"zh": self.unique_label(f"{py.year}年：{phrase}"),
                             "en": f"{py.year}, {toneless_label(phrase)}"},
                   "modality": "background", "span": spans if len(spans) > 1 else spans[0],
                   "yearOf": of.entity.id if of else None, "yearRole": py.role, "date": str(py.year),
                   "confidence": 0.75 if of and py.role else 0.5,
                   "todo": ["label.en"] + ([] if of else ["yearOf"]) + ([] if py.role else ["yearRole"])}
            seen[key] = rec
            self.records.append(rec)

    def figure(self, fig: Figure) -> None:
        t = self.text
        s0, _ = t.sentence(fig.start)
        c0, c1 = t.clause(fig.start)
        period = stated_period(t, c0, fig.start, period_at(self.contexts, fig.start, self.pub), self.pub)
        mod, mconf = modality(t, fig.start, period, self.pub)
        indicator, ind_start = self.indicator_for(fig, s0, c0, c1)
        subject = self.nearest_before(fig.start, s0, _SUBJECT_TYPES)
        area = subject.entity if subject else self.area
        start = min(fig.start, ind_start if ind_start is not None else fig.start)
        span = _span(t, start, fig.end)
        rec = {
            "id": self.rid("obs"),
            "type": "StatisticalObservation",
            "label": {"zh": self.unique_label(f"{period.iso.replace('/', '至')}{area.zh if area else ''}{indicator.zh}"
                                              + ("增速" if fig.growth else "")),
                      "en": f"{_en(self.registry, indicator)}{' growth' if fig.growth else ''}, {period.iso}"},
            "modality": mod,
            "span": span,
            "area": area.id if area else None,
            "indicator": indicator.id,
            "period": period.iso,
            "value": fig.value,
            "valueAsWritten": fig.written,
            "unit": fig.unit,
            "measureType": "measure-type-growth-rate" if fig.growth else "measure-type-level",
        }
        if fig.qualifier != "exact":
            rec["qualifier"] = fig.qualifier
        rec["confidence"] = round(min(mconf, 0.9 if indicator.known else 0.6), 2)
        todo = ["label.en"]
        if not indicator.known:
            todo.append("indicator")
        if area is None:
            todo.append("area")
            rec.pop("area")
        rec["todo"] = todo
        if fig.unit not in _ONTOLOGY_UNITS and fig.unit not in self.registry.entries:
            self.unit_entity(fig.unit)
        self.records.append(rec)

    def unit_entity(self, unit_id: str) -> None:
        if unit_id in self.finder.entities:
            return
        label = rules.load("units")["new_units"].get(unit_id, {"zh": unit_id, "en": unit_id})
        ent = Entity(unit_id, ["Unit"], label["zh"], False, 0.9, "unit")
        ent.en = label["en"]
        self.finder.entities[unit_id] = ent

    def indicator_for(self, fig: Figure, s0: int, c0: int, c1: int) -> tuple[Entity, int | None]:
        """The indicator a figure measures: a name just after a count, else the nearest before it."""
        t = self.text
        inds = [m for m in self.finder.mentions if "Indicator" in m.entity.types]
        after = [m for m in inds if fig.unit_end <= m.start <= fig.unit_end + 2 and m.end <= c1]
        if after and fig.unit not in ("unit-cny", "unit-percent"):
            return after[0].entity, None
        before = [m for m in inds if s0 <= m.start and m.end <= fig.number_start]
        if before:
            m = max(before, key=lambda m: (m.end, -m.start))
            return m.entity, m.start
        lex = [w for w in rules.load("lexicon")["indicators"]]
        seg_after = t.compact[fig.unit_end : c1]
        if fig.unit not in ("unit-cny", "unit-percent"):
            for w in sorted(lex, key=len, reverse=True):
                if seg_after.startswith(w):
                    return self.finder.propose(w, ["Indicator"], "indicator", 0.6, "indicator"), None
            noun = _noun_run(seg_after)
            if noun:
                return self.finder.propose(noun, ["Indicator"], "indicator", 0.5, "indicator"), None
        seg_before = t.compact[c0 : fig.number_start]
        best = None
        for w in lex:
            i = seg_before.rfind(w)
            if i >= 0 and (best is None or i + len(w) > best[1] + len(best[0]) or
                           (i + len(w) == best[1] + len(best[0]) and len(w) > len(best[0]))):
                best = (w, i)
        if best:
            ent = self.finder.propose(best[0], ["Indicator"], "indicator", 0.6, "indicator")
            self.finder.mention(ent, c0 + best[1], c0 + best[1] + len(best[0]))
            return ent, c0 + best[1]
        noun = _noun_run(seg_before, backwards=True) or "数值"
        return self.finder.propose(noun, ["Indicator"], "indicator", 0.4, "indicator"), None

    def conferrals(self, conferrals, dates) -> dict[int, str]:
        """DesignationConferral records: recipient, designation, level, batch, year and date.

        The recipient is the subject of the trigger's clause chain (the text after the last ；
        before it): the nearest place or organisation named there and not inside a designation;
        该镇/该区/该公司 … refer back to the last such entity of that type; a chain without a
        subject (…入选A，并获评B) keeps the subject of the conferral before it in the sentence;
        else the recipient is left unsaid and proposed (the main area, or its city for a title
        conferred on cities) in an implied `about:` record. Dates: rules/conferrals.yaml `dating`.
        """
        t = self.text
        dated: dict[int, str] = {}
        inside = [(c.designation_start, c.designation_end) for c in conferrals]
        prev: tuple[int, Entity, dict | None] | None = None  # sentence, recipient, its implied record
        for c in conferrals:
            s0, s1 = t.sentence(c.trigger)
            chain0 = max(s0, t.compact.rfind("；", s0, c.trigger) + 1, t.compact.rfind(";", s0, c.trigger) + 1)
            recipient, how = self.recipient(c, chain0, inside)
            if recipient is None and prev is not None and prev[0] == s0:
                recipient, how = prev[1], ("shared" if prev[2] is None else prev[2])
            implied_about = None
            if recipient is None:
                recipient, implied_about = self.unsaid_recipient(c)
                if recipient is None:
                    continue
            elif isinstance(how, dict):
                implied_about = how
            desig = self.finder.propose(c.designation, ["Designation"], "conferral", 0.6)
            if "Designation" not in desig.types:
                if desig.known:
                    continue  # the registry says this name is something else
                desig.types = ["Designation"]  # named as conferred: that outweighs the suffix guess
            if c.written and c.written != desig.zh and c.written not in desig.aliases:
                desig.aliases.append(c.written)
            self.finder.mention(desig, c.designation_start, c.designation_end)
            members = [(recipient, how, implied_about)]
            if not isinstance(how, (dict, str)) and how is not None:
                # A、B先后通过…: every member of a list of recipients gets the designation
                members = [(m.entity, m, None) for m in self.listed_before(how)] + members
            for recipient, how, implied_about in members:
                prev = (s0, recipient, implied_about)
                rec_m = how if not isinstance(how, (dict, str)) else None
                start = rec_m.start if rec_m else c.trigger
                own = _span(t, start, c.trigger + 1) if rec_m and rec_m.end > c.designation_start else _span(t, start, c.end)
                rec = {
                    "id": self.rid("conf"),
                    "type": "DesignationConferral",
                    "label": {"zh": self.unique_label(f"{recipient.zh}：{desig.zh}"),
                              "en": f"{_en(self.registry, recipient)}: {_en(self.registry, desig)}"},
                    "modality": "result",
                    "span": own,
                    "recipient": None if implied_about else recipient.id,
                    "designation": desig.id,
                    "level": c.level,
                }
                if c.batch:
                    rec["batch"] = c.batch
                if c.year:
                    rec["assessmentYear"] = c.year
                ctx = period_at(self.contexts, c.trigger, self.pub)
                rec["reportedYear"] = str(ctx.year)  # the year the passage reports on (the publication's by default)
                extra = []
                date = self.conferral_date(c, s0, dates, ctx)
                if date is not None:
                    iso, dspan, implied_reason = date
                    if dspan is not None:
                        dated[dspan[0]] = rec["id"]
                    if implied_reason is None:
                        rec["date"] = iso
                        if dspan is not None:
                            rec["span"] = [_span(t, *dspan), own]
                    else:
                        where = [_span(t, *dspan), own] if before_written(dspan, c.trigger) else own
                        extra.append({"about": rec["id"], "modality": "result", "span": where, "date": iso, "support": "implied",
                                      "supportReason": implied_reason, "supportSpan": _span(t, *dspan)})
                if implied_about:
                    extra.append({"about": rec["id"], "modality": "result", "span": own, **implied_about})
                rec["confidence"] = 0.5 if implied_about else (0.8 if recipient.known else 0.65)
                rec["todo"] = ["label.en"] + (["recipient"] if implied_about else []) + ([] if desig.known else ["designation"])
                if self.merge_conferral((recipient.id, desig.id), rec, extra):
                    continue
                self.records.append(rec)
                self.records.extend(extra)
        return dated

    def merge_conferral(self, key: tuple[str, str], rec: dict, extra: list[dict]) -> bool:
        """True when the same recipient's same designation was drafted before: the earlier record
        takes this mention's span, and its date when it had none (stated wins over implied)."""
        prev = self.conferral_of.get(key)
        if prev is None:
            self.conferral_of[key] = rec
            return False
        spans = prev["span"] if isinstance(prev["span"], list) else [prev["span"]]
        new = rec["span"] if isinstance(rec["span"], list) else [rec["span"]]
        prev["span"] = list(dict.fromkeys(spans + new))
        dated_about = [r for r in self.records if r.get("about") == prev["id"] and "date" in r]
        if "date" in rec and "date" not in prev:
            prev["date"] = rec["date"]
            self.records[:] = [r for r in self.records if not any(r is d for d in dated_about)]
        elif "date" not in prev and not dated_about:
            self.records.extend({**r, "about": prev["id"]} for r in extra if "date" in r)
        return True

    def listed_before(self, m: Mention) -> list[Mention]:
        """Mentions listed with m before it (A、B、m), nearest last."""
        out, pos = [], m.start
        while pos > 0 and self.text.compact[pos - 1] == "、":
            prev = [x for x in self.finder.mentions if x.end == pos - 1 and x.entity.types == m.entity.types or
                    (x.end == pos - 1 and set(x.entity.types) & (PLACE_TYPES | _SUBJECT_TYPES) and set(m.entity.types) & (PLACE_TYPES | _SUBJECT_TYPES))]
            if not prev:
                break
            x = min(prev, key=lambda x: x.start)
            out.insert(0, x)
            pos = x.start
        return out

    def recipient(self, c, chain0: int, inside: list[tuple[int, int]]):
        """(entity, mention or implied-record dict) named as the conferral's recipient, or (None, None)."""
        t = self.text
        cfg = rules.load("conferrals")
        types = PLACE_TYPES | _SUBJECT_TYPES - {"Project"}
        cands = [m for m in self.finder.mentions
                 if chain0 <= m.start and m.end <= c.trigger and set(m.entity.types) & types
                 and "Designation" not in m.entity.types and "Indicator" not in m.entity.types
                 and not any(a <= m.start and m.end <= b for a, b in inside)]
        best = max(cands, key=lambda m: (m.end, -m.start)) if cands else None
        seg_from = best.end if best else chain0
        ana = re.search(rules.alternation(cfg["anaphora"]), t.compact[seg_from : c.trigger])
        if ana:
            want = set(cfg["anaphora"][ana.group(0)])
            pos = seg_from + ana.start()
            back = [m for m in self.finder.mentions if m.end <= pos and set(m.entity.types) & want
                    and not any(a <= m.start and m.end <= b for a, b in inside)]
            if back:
                ref = max(back, key=lambda m: (m.end, -m.start))
                return ref.entity, {"recipient": ref.entity.id, "support": "implied",
                                    "supportReason": {"zh": f"“{ana.group(0)}”承指前文的{ref.entity.zh}",
                                                      "en": f"“{ana.group(0)}” refers back to {toneless_label(ref.entity.zh)}"},
                                    "supportSpan": [_span(t, ref.start, ref.end), _span(t, pos, pos + len(ana.group(0)))]}
        return (best.entity, best) if best else (None, None)

    def unsaid_recipient(self, c) -> tuple[Entity | None, dict | None]:
        """The proposed recipient of a conferral whose subject the text leaves out."""
        cfg = rules.load("conferrals")
        for_cities = c.designation.endswith(tuple(cfg["city_titles"]))
        city = self._higher_place() if for_cities else None
        if city is not None and "PrefectureCity" in city.types:
            area = self.area
            reason = {"zh": f"称号授予城市；承上省略的主语是{area.zh if area else '本地'}，获称号的是其所在的{city.zh}",
                      "en": f"The title is conferred on cities; the omitted subject is {_en(self.registry, area) if area else 'the area'}, "
                            f"so the holder is its city, {_en(self.registry, city)}"}
            recipient = city
        else:
            recipient = self.area
            reason = {"zh": "获授者承上文省略，按文中主要地区推定", "en": "The recipient is left unsaid; taken to be the document's main area"}
        if recipient is None:
            return None, None
        return recipient, {"recipient": recipient.id, "support": "implied", "supportReason": reason}

    def conferral_date(self, c, s0: int, dates, ctx: Period):
        """(iso, compact span it rests on, implied reason or None) of a conferral, or None.

        In order: a date written before the trigger in its sentence; the list year written in
        the designation when it is the year the passage reports on (获评2023年第一批…); a year
        that opens the sentence (2023年，A获评…，B入选…); the year a passage reviews (回首2023年)
        when the designation has neither batch nor year (a batch list may be years old).
        """
        before = [d for d in dates if s0 <= d.start < c.trigger]
        if before:
            d = before[-1]
            if d.inferred_year:
                return d.iso, (d.start, d.end), {"zh": "原文未写年份，年份据刊发时间推定", "en": "The text gives no year; it follows from the publication date"}
            return d.iso, (d.start, d.end), None
        if not ctx.whole_year:
            return None
        if c.year and int(c.year) == ctx.year:
            return c.year, None, None
        if s0 <= ctx.at[0] < c.trigger:
            return str(ctx.year), ctx.at, None
        if not c.batch and not c.year and ctx.year <= self.pub.year:
            return str(ctx.year), ctx.at, {"zh": "原文未写授予时间，年份据所在段落回顾的年份推定",
                                           "en": "The text gives no date; the year is the one the passage reviews"}
        return None

    def events(self, dates, dated_conf: dict[int, str]) -> None:
        """Events: milestones (ENTITY 竣工/上线/揭牌 …), named meetings and festivals, and
        explicit dates with nothing else to date (an Event labelled by its clause)."""
        t = self.text
        cfg = rules.load("entities")
        used_dates: set[int] = set(dated_conf)
        found: list[tuple[int, int, str, str, Entity | None, str]] = []  # start, end, type, label, entity, verb
        milestones = cfg["milestones"]
        for m in re.finditer(rules.alternation(milestones), t.compact):
            c0, _ = t.clause(m.start())
            ent_m = self.nearest_before(m.start(), c0, None, max_gap=12)
            verb = milestones[m.group(0)]
            etype = {"揭牌": "Unveiling"}.get(verb, "Event")
            if ent_m is not None and ("Indicator" in ent_m.entity.types or "Designation" in ent_m.entity.types):
                ent_m = None
            if ent_m is None:
                continue
            if modality(t, m.start(), period_at(self.contexts, m.start(), self.pub), self.pub)[0] == "plan":
                if "Project" in ent_m.entity.types:  # 确保…开工: a planned status, not an event that happened
                    self.project_status.setdefault(ent_m.entity.id, ("status-planned", None))
                continue
            found.append((ent_m.start, m.end(), etype, f"{ent_m.entity.zh}{verb}", ent_m.entity, verb))
        for m in re.finditer(r"获聘", t.compact):
            c0, _ = t.clause(m.start())
            found.append((c0, m.end(), "Appointment", _short(t.compact[c0 : m.end()]), None, "获聘"))
        verbs = rules.alternation(cfg["event_verbs"])
        for mention in self.finder.mentions:
            types = set(mention.entity.types)
            if not types & set(cfg["event_types"]) and not (types & {"Event"}):
                continue
            s0, s1 = t.sentence(mention.start)
            has_date = any(s0 <= d.start < mention.start for d in dates)
            if not (re.search(verbs, t.compact[s0:s1]) or has_date):
                continue
            etype = next((x for x in mention.entity.types if x in ("Meeting", "Festival", "Competition")), "Event")
            self.as_event.add(mention.entity.id)
            found.append((mention.start, mention.end, etype, mention.entity.zh, mention.entity, ""))
        seen_labels: set[str] = set()
        merged: list = []
        for f in sorted(found, key=lambda f: (f[0], f[1])):
            if merged and f[4] is not None and merged[-1][4] is f[4] and merged[-1][5] and f[5] \
                    and t.clause(merged[-1][1])[0] == t.clause(f[1] - 1)[0]:
                prev = merged[-1]  # 竣工投产: one event, the later milestone's status
                merged[-1] = (prev[0], f[1], prev[2], prev[3] + f[5], prev[4], f[5])
                continue
            merged.append(f)
        for start, end, etype, label, ent, verb in merged:
            if label in seen_labels:
                continue  # the same event again (a caption repeating the text)
            seen_labels.add(label)
            s0, _ = t.sentence(start)
            ds = [d for d in dates if s0 <= d.start < end]
            period = period_at(self.contexts, start, self.pub)
            rec = {"id": self.rid("ev"), "type": etype,
                   "label": {"zh": self.unique_label(label), "en": toneless_label(label)},
                   "modality": None, "span": None}
            if ds:
                d = ds[-1]
                used_dates.add(d.start)
                rec["date"] = d.iso
                own = _span(t, start, end)
                rec["span"] = own if d.start >= start else [_span(t, d.start, d.end), own]
                if d.inferred_year:
                    rec["support"] = "implied"
                    rec["supportReason"] = {"zh": "年份据刊发时间推定", "en": "Year taken from the publication date"}
            else:
                rec["date"] = str(period.year)
                rec["span"] = _span(t, start, end)
                rec["support"] = "implied"
                rec["supportReason"] = {"zh": "年份据所在段落的年份推定", "en": "Year taken from the year the passage reports on"}
            mod, conf = modality(t, start, period, self.pub)
            rec["modality"] = mod
            if ent is not None and ent.id in self.as_event and ent.aliases:
                rec["altLabel"] = {"zh": [a for a in ent.aliases if "“" not in a] or ent.aliases}
            if ent is not None and ent.id != rec["id"]:
                if "Project" in ent.types and verb:
                    self.project_status[ent.id] = (_STATUS.get(verb, "status-planned"), rec["span"])
                if ent.types[0] not in ("Meeting", "Festival", "Competition", "Event"):
                    rec["involves"] = ent.id
            rec["confidence"] = round(conf * (0.9 if ds else 0.7), 2)
            rec["todo"] = ["label.en"]
            self.records.append(rec)
        announce = rules.alternation(cfg["announcement_verbs"])
        for d in dates:
            after = d.end + 1 if t.compact[d.end : d.end + 1] in ("，", ",", "：") else d.end
            # a list announced on a date is an event even when the date also dates a conferral
            if d.start in used_dates and not re.search(announce, t.compact[after : t.clause(after)[1]]):
                continue
            after = d.end + 1 if t.compact[d.end : d.end + 1] in ("，", ",", "：") else d.end
            _, c1 = t.clause(after)
            label = _short(t.compact[after:c1].strip("，,。；"))
            if len(label) < 4:
                continue
            period = period_at(self.contexts, d.start, self.pub)
            mod, conf = modality(t, d.start, period, self.pub)
            rec = {"id": self.rid("ev"), "type": "Event",
                   "label": {"zh": self.unique_label(label), "en": toneless_label(label)},
                   "modality": mod, "span": _span(t, d.start, c1), "date": d.iso,
                   "confidence": 0.5, "todo": ["label.en", "type"]}
            if d.inferred_year:
                rec["support"] = "implied"
                rec["supportReason"] = {"zh": "年份据刊发时间推定", "en": "Year taken from the publication date"}
            self.records.append(rec)

    # -- entities and mentions -----------------------------------------------------------------
    def entity_records(self) -> tuple[list[dict], list[dict]]:
        """(proposed registry entries, `about` mention records)."""
        t = self.text
        proposed, about = [], []
        referenced = {v for r in self.records for k, v in r.items() if isinstance(v, str)}
        area = self.area
        higher = self._higher_place()
        for ent in sorted(self.finder.entities.values(), key=lambda e: (e.mentions[0][0] if e.mentions else 10**9, e.id)):
            if (not ent.mentions and ent.id not in referenced) or (ent.id in self.as_event and not ent.known):
                continue
            if not ent.known:
                entry = {"id": ent.id, "type": ent.types[0] if len(ent.types) == 1 else ent.types,
                         "label": {"zh": ent.zh, "en": getattr(ent, "en", None) or toneless_label(ent.zh)}}
                if ent.aliases:
                    entry["altLabel"] = {"zh": ent.aliases}
                if ent.types != ["Unit"]:
                    entry["pinyin"] = pinyin_label(ent.zh)
                entry["confidence"] = ent.confidence
                entry["rule"] = ent.rule
                entry["todo"] = ["label.en", "type"] if ent.types != ["Unit"] else ["label.en"]
                if ent.mentions:
                    entry["seen"] = sorted({_span(t, a, b) for a, b in ent.mentions}, key=lambda s: int(s.split("-")[0]))[:5]
                proposed.append(entry)
            if not ent.mentions:
                continue
            spans = sorted({_span(t, a, b) for a, b in ent.mentions}, key=lambda s: int(s.split("-")[0]))
            rec = {"about": ent.id, "modality": "background", "span": spans if len(spans) > 1 else spans[0],
                   "confidence": ent.confidence}
            placed = ent.known and self.registry.entries[ent.id].get("locatedIn")
            if not placed and set(ent.types) & PLACE_TYPES - {"Country"}:
                target = higher if (area is not None and ent.id == area.id) else area
                if target is not None and target.id != ent.id:
                    rec["locatedIn"] = target.id
                    rec["support"] = "implied"
                    rec["supportReason"] = {"zh": "位置据文中主要地区推定", "en": "Location taken from the document's main area"}
                    rec["todo"] = ["locatedIn"]
            if "Project" in ent.types:
                status, _ = self.project_status.get(ent.id, ("status-planned", None))
                rec["status"] = status
                rec.setdefault("todo", []).append("status")
            about.append(rec)
        return proposed, about

    def _higher_place(self) -> Entity | None:
        known = [e for e in self.finder.entities.values() if e.known and set(e.types) & {"PrefectureCity", "ProvincialDivision", "Country"}]
        if not known:
            if "zhongguo" in self.registry.entries:
                return self.finder.known("zhongguo")
            return None
        rank = {"PrefectureCity": 0, "ProvincialDivision": 1, "Country": 2}
        return min(known, key=lambda e: min(rank.get(x, 9) for x in e.types))


_STATUS = {"竣工": "status-completed", "投产": "status-in-operation", "运营": "status-in-operation",
           "投入运营": "status-in-operation", "上线": "status-in-operation", "开工": "status-under-construction",
           "开业": "status-in-operation"}


def before_written(dspan: tuple[int, int] | None, trigger: int) -> bool:
    """True when a date's words are written in the conferral's own sentence, before its trigger."""
    return dspan is not None and dspan[1] <= trigger and trigger - dspan[1] < 80


def _short(label: str, n: int = 24) -> str:
    return label if len(label) <= n else label[:n]


def _noun_run(seg: str, backwards: bool = False) -> str:
    """A run of nominal words at the start (or end) of seg, via jieba's part-of-speech tags."""
    toks = segment.pos_cut(seg)
    if backwards:
        toks = toks[::-1]
    out = []
    for w, f in toks:
        if f[:1] in ("n", "j") or f in ("vn", "nz", "b", "an", "l"):
            out.append(w)
        elif out or f[:1] in ("x", "m", "q", "w"):
            break
        elif f[:1] in ("v", "d", "p", "u", "c", "a", "r") and not out:
            continue
    if backwards:
        out = out[::-1]
    name = "".join(out)
    return name if 2 <= len(name) <= 16 else ""


def _en(registry: Registry, ent: Entity) -> str:
    if ent.known:
        return (registry.entries[ent.id].get("label") or {}).get("en") or toneless_label(ent.zh)
    return getattr(ent, "en", None) or toneless_label(ent.zh)


def draft_text(original: str, published: str, registry_entities: list[dict], doc_id: str, file_name: str) -> Draft:
    """Draft the facts of one document.

    Args:
        original: the document's text exactly as in its file.
        published: YYYY-MM (or YYYY, YYYY-MM-DD): the publication date relative dates resolve against.
        registry_entities: the registry's `entities:` list (dicts).
        doc_id, file_name: the document header's id and file.
    Returns:
        a Draft: the header, proposed entities, records (mentions, figures, conferrals, events).
    Raises:
        ValueError: a malformed publication date.
    """
    pub = Published.parse(published)
    registry = Registry(registry_entities)
    with segment.using(segment.segmenter(tuple(user_words(registry)))):
        d = _Drafter(original, pub, registry, doc_id)
        d.run()
        proposed, about = d.entity_records()
    header = {
        "id": doc_id,
        "file": file_name,
        "sha256": hashlib.sha256(original.encode("utf-8")).hexdigest(),
        "title": {"zh": f"草稿：{doc_id}", "en": f"Draft of {doc_id}"},
        "published": published,
    }
    records = about + [r for r in d.records if r is not None]
    for r in records:
        for k in [k for k, v in r.items() if v is None]:
            r.pop(k)
    return Draft(header, proposed, records, original)
