"""Entity matching against the registry, and proposal of entities the registry lacks.

Matching runs on the compact text (line breaks and spacing removed), by zh label, alias and
toneless pinyin, longest name first. Proposals come from three general rules kept as data in
rules/entities.yaml and rules/lexicon.yaml: a run of nominal words ending in a type suffix
(…产业园, …有限公司, …推进会), a short quoted name (“云螺联”, “1225”战略), and the genre's
vocabulary of industries and national strategies.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from kg.draft import rules, segment
from kg.draft.normalise import Text

_PUNCT = set("，。；：！？、“”‘’「」『』（）()《》〈〉—…·,.;:!?\"' ")
_QUOTE = re.compile(r"[“\"「]([^“”\"「」]{1,40})[”\"」]")


@dataclass
class Entity:
    """An entity the draft talks about: a registry entry (known) or a proposal.

    Attributes:
        id: registry id, or a proposed slug.
        types: ontology class local names.
        zh: the label as written (compact).
        known: True for registry entities.
        confidence: 0..1, how sure the proposal rule is.
        mentions: compact [start, end) spans where it is named.
        rule: which rule found it (registry, suffix, quoted, lexicon, conferral, indicator).
    """

    id: str
    types: list[str]
    zh: str
    known: bool
    confidence: float
    rule: str
    mentions: list[tuple[int, int]] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)

    def add_mention(self, start: int, end: int) -> None:
        if (start, end) not in self.mentions:
            self.mentions.append((start, end))


@dataclass
class Mention:
    """One naming of an entity in the compact text."""

    entity: Entity
    start: int
    end: int


def clean_name(name: str) -> str:
    """A name as compared: no white space, no quotes."""
    return re.sub(r"[\s“”\"「」‘’]", "", name)


def _toneless(pinyin: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", pinyin)
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in text if not unicodedata.combining(c)).lower())


class Registry:
    """The registry as a name index (labels, aliases, pinyin) for matching.

    Args:
        entities: registry entries as dicts (the `entities:` list of entities.yaml).
    """

    def __init__(self, entities: list[dict]):
        self.entries = {e["id"]: e for e in entities}
        self.names: dict[str, str] = {}
        self.pinyin: dict[str, str] = {}
        for e in entities:
            label = e.get("label") or {}
            alts = (e.get("altLabel") or {}).get("zh") or []
            for name in [label.get("zh"), *(alts if isinstance(alts, list) else [alts])]:
                if name and len(clean_name(name)) >= 2:
                    self.names.setdefault(clean_name(name), e["id"])
            if e.get("pinyin"):
                py = _toneless(str(e["pinyin"]))
                if len(py) >= 6:
                    self.pinyin[py] = e["id"]

    def types(self, entity_id: str) -> list[str]:
        t = self.entries[entity_id].get("type", [])
        return list(t) if isinstance(t, list) else [t]

    def label(self, entity_id: str) -> str:
        return clean_name((self.entries[entity_id].get("label") or {}).get("zh", entity_id))


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, str]:
    lex = rules.load("lexicon")
    out = {clean_name(w): "Industry" for w in lex["industries"]}
    out.update({clean_name(w): "Strategy" for w in lex["strategies"]})
    return out


def slug(zh: str, prefix: str = "") -> str:
    """A stable ASCII slug from a Chinese name (pinyin, hyphenated), at most ~60 characters."""
    from pypinyin import lazy_pinyin

    parts = [re.sub(r"[^a-z0-9]", "", "".join(lazy_pinyin(w)).lower()) for w in segment.cut(zh)]
    parts = [p for p in parts if p]
    out = prefix
    for p in parts:
        if len(out) + len(p) + 1 > 60:
            break
        out = f"{out}-{p}" if out else p
    return out or (prefix or "entity")


def pinyin_label(zh: str) -> str:
    """Tone-marked pinyin grouped by word (for rdfs:label@zh-Latn-pinyin)."""
    from pypinyin import Style, pinyin

    words = []
    for w in segment.cut(zh):
        syl = "".join(s[0] for s in pinyin(w, style=Style.TONE))
        syl = re.sub(r"[^\w\u00c0-\u024f]", "", syl)
        if syl:
            words.append(syl[0].upper() + syl[1:])
    return " ".join(words)


def toneless_label(zh: str) -> str:
    """A placeholder English label: toneless pinyin by word, capitalised (the reviewer replaces it)."""
    from pypinyin import lazy_pinyin

    words = []
    for w in segment.cut(zh):
        syl = re.sub(r"[^A-Za-z0-9]", "", "".join(lazy_pinyin(w)))
        if syl:
            words.append(syl[0].upper() + syl[1:])
    return " ".join(words) or zh


class EntityFinder:
    """Finds the entities of one document: registry matches first, then proposals."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self.entities: dict[str, Entity] = {}
        self.by_name: dict[str, Entity] = {}
        self.mentions: list[Mention] = []
        self._taken: set[str] = set(registry.entries)

    # -- the entity table ------------------------------------------------------------------
    def known(self, entity_id: str) -> Entity:
        if entity_id not in self.entities:
            self.entities[entity_id] = Entity(entity_id, self.registry.types(entity_id),
                                              self.registry.label(entity_id), True, 0.95, "registry")
        return self.entities[entity_id]

    def propose(self, zh: str, types: list[str], rule: str, confidence: float, prefix: str = "") -> Entity:
        """The proposed (or already known) entity of this name."""
        name = clean_name(zh)
        if name in self.registry.names:
            return self.known(self.registry.names[name])
        if name in self.by_name:
            return self.by_name[name]
        base = slug(name, prefix)
        sid, n = base, 2
        while sid in self._taken:
            sid, n = f"{base}-{n}", n + 1
        self._taken.add(sid)
        ent = Entity(sid, types, name, False, confidence, rule)
        self.entities[sid] = ent
        self.by_name[name] = ent
        return ent

    def mention(self, ent: Entity, start: int, end: int) -> Mention:
        ent.add_mention(start, end)
        m = Mention(ent, start, end)
        self.mentions.append(m)
        return m

    # -- finding ---------------------------------------------------------------------------
    def find(self, text: Text) -> list[Mention]:
        """Every mention in the text (registry, lexicon, suffix and quoted rules), sorted."""
        self._dictionary(text)
        self._quoted(text)
        self._suffixed(text)
        self._enumerated(text)
        self.prune_nested()
        return self.mentions

    def prune_nested(self) -> None:
        """Drop genre-vocabulary and quoted mentions inside a longer mention (广西青溪新材料有限公司
        names a company, not the industry 新材料 nor the region 广西; “小巨人” is part of a title).
        Suffix-typed names stay (王眉村 in 王眉村豇豆生产基地 is the village), and so do indicators
        (产值 in 规上工业产值 is matched again, longest first, when figures are linked).
        Sorts the mentions."""
        self.mentions.sort(key=lambda m: (m.start, -m.end))
        keep: list[Mention] = []
        for m in self.mentions:
            nestable = m.entity.rule in ("lexicon", "quoted") or (m.entity.known and "Indicator" not in m.entity.types)
            inside = nestable and any(o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start)
                                                for o in self.mentions if o is not m)
            if inside:
                if (m.start, m.end) in m.entity.mentions:
                    m.entity.mentions.remove((m.start, m.end))
            else:
                keep.append(m)
        self.mentions = keep

    def _dictionary(self, text: Text) -> None:
        names = dict.fromkeys(self.registry.names, "registry")
        for word in _lexicon():
            names.setdefault(word, "lexicon")
        if not names:
            return
        rx = re.compile(rules.alternation(names))
        for m in rx.finditer(text.compact):
            word = m.group(0)
            if names[word] == "registry":
                self.mention(self.known(self.registry.names[word]), m.start(), m.end())
            else:
                ent = self.propose(word, [_lexicon()[word]], "lexicon", 0.7)
                self.mention(ent, m.start(), m.end())
        low = text.compact.lower()
        for py, eid in self.registry.pinyin.items():
            for m in re.finditer(re.escape(py), low):
                self.mention(self.known(eid), m.start(), m.end())

    def _quoted(self, text: Text) -> None:
        cfg = rules.load("entities")["quoted"]
        attached = cfg["attached_suffixes"]
        # “三月三”民俗文化活动: up to four more characters of the name may come before the suffix
        after_rx = re.compile(rf"[\u4e00-\u9fff]{{0,4}}?(?:{rules.alternation(attached)})")
        skip = set(cfg.get("skip", []))
        for m in _QUOTE.finditer(text.compact):
            inner = m.group(1)
            if any(p in inner for p in "，。；！？"):
                continue
            parts = inner.split("、")
            if len(parts) > 1:
                if all(cfg["min_length"] <= len(p) <= cfg["max_length"] for p in parts):
                    pos = m.start(1)
                    for p in parts:
                        self.mention(self.propose(p, [_quoted_type(p, cfg)], "quoted", 0.5), pos, pos + len(p))
                        pos += len(p) + 1
                continue
            if not (cfg["min_length"] <= len(inner) <= cfg["max_length"]) or inner in skip:
                continue
            tail = after_rx.match(text.compact, m.end())
            if tail:
                suffix = next(x for x in sorted(attached, key=len, reverse=True) if tail.group(0).endswith(x))
                ent = self.propose(inner + tail.group(0), [attached[suffix]], "quoted", 0.55)
                for alias in (f"“{inner}”{tail.group(0)}", inner):
                    if alias not in ent.aliases and alias != ent.zh:
                        ent.aliases.append(alias)
                self.mention(ent, m.start(), tail.end())
            elif re.fullmatch(r"[\d.]+%?", inner) or _dictionary_word(inner):
                continue  # “加速度”: a common word in quotes is a figure of speech, not a name
            else:
                self.mention(self.propose(inner, [_quoted_type(inner, cfg)], "quoted", 0.5), m.start(1), m.end(1))

    def _suffixed(self, text: Text) -> None:
        cfg = rules.load("entities")
        suffixes = cfg["suffixes"]
        stop_pos, stop = set(cfg["stop_pos"]), set(cfg["not_name_start"])
        keep, measure = set(cfg["name_words"]), set(cfg["measure_words"])
        not_names, not_endings = set(cfg["not_names"]), tuple(cfg["not_name_endings"])
        generic = set(cfg["generic_modifiers"])
        indicator_names = {clean_name(w) for w in rules.load("lexicon")["indicators"]}
        periods = re.compile(rules.alternation(list(rules.load("periods")["periods"]) + list(rules.load("periods")["relative_years"])))
        owner_rx = re.compile(rf"^.{{2,20}}?(?:{rules.alternation(cfg['owner_suffixes'])})")
        tokens, pos = [], 0
        for word, flag in segment.pos_cut(text.compact):
            tokens.append((word, flag, pos))
            pos += len(word)
        by_len = sorted(suffixes, key=len, reverse=True)
        s = text.compact
        for i, (word, flag, start) in enumerate(tokens):
            end = start + len(word)
            suffix = next((x for x in by_len if s.endswith(x, 0, end) and end - len(x) >= tokens[max(0, i - 3)][2]), None)
            if suffix is None or (i + 1 < len(tokens) and tokens[i + 1][1] in ("n", "ng") and len(tokens[i + 1][0]) == 1):
                continue
            j = i
            while j > 0 and tokens[j][2] > end - len(suffix):
                j -= 1
            while j > 0:
                pw, pf, _ = tokens[j - 1]
                if pw not in keep and (pw in stop or any(c in _PUNCT for c in pw) or pf in stop_pos or pf[:1] in stop_pos):
                    break
                if end - tokens[j - 1][2] > cfg["max_length"]:
                    break
                j -= 1
            while j < i and (tokens[j][0] in stop or re.fullmatch(r"[\d.]+", tokens[j][0])):
                j += 1
            name_start = tokens[j][2]
            head = re.match(cfg["drop_name_prefix"], s[name_start:end])
            if head:
                name_start += head.end()
            if name_start > 0 and re.match(r"[\d一二三四五六七八九十百千万]", s[name_start - 1]) and s[name_start] in measure:
                name_start += 1  # 4条乡村振兴示范带: the measure word counts, it does not name
            name = s[name_start:end]
            if len(name) < cfg["min_length"] or len(name) - len(suffix) < 2 or any(c in _PUNCT for c in name):
                continue
            if name in not_names or name.endswith(not_endings) or s[name_start - 1 : name_start] == "等":
                continue  # a common noun, a figure of speech, or the head of a list (A、B等自治区级会议)
            if set(_split_words(name[: -len(suffix)], generic)) <= generic or name in indicator_names or periods.search(name) \
                    or re.search(r"\d{4}年", name):
                continue  # 重大项目, 新签约项目: a class of things or an indicator; 上半年项目: not a name
            owner = owner_rx.search(name[: -len(suffix)])
            if owner and len(name) - owner.end() >= cfg["min_length"] + 1:
                # 广西X制药有限公司中药提取车间技改项目: the company owns the project, named after it
                self.mention(self.propose(name[: owner.end()], ["Enterprise"], "suffix", 0.6), name_start, name_start + owner.end())
                name_start += owner.end()
                name = s[name_start:end]
            ent = self.propose(name, [suffixes[suffix]], "suffix", 0.6)
            self.mention(ent, name_start, end)

    def _enumerated(self, text: Text) -> None:
        """A、B、C等(一批)…企业: the listed items are of the type the list ends with."""
        cfg = rules.load("entities")["enumeration"]
        heads = rules.alternation(cfg["heads"])
        rx = re.compile(rf"((?:[^，。；：、“”（）]{{2,12}}、)+[^，。；：、“”（）]{{2,12}})等(?:[^，。；、]{{0,8}}?)({heads})")
        for m in rx.finditer(text.compact):
            typ = cfg["heads"][m.group(2)]
            items = m.group(1).split("、")
            pos = m.start(1)
            for k, item in enumerate(items):
                start = pos
                if k == 0:
                    trimmed = _trailing_name(item)
                    start = pos + len(item) - len(trimmed)
                    item = trimmed
                if 2 <= len(item) <= 12:
                    self.mention(self.propose(item, [typ], "enumeration", 0.5), start, start + len(item))
                pos += len(items[k]) + 1


def _split_words(text: str, known: set[str]) -> list[str]:
    """text cut into the longest words of `known` from the left (what is left over, one character each)."""
    out, i = [], 0
    by_len = sorted(known, key=len, reverse=True)
    while i < len(text):
        w = next((k for k in by_len if text.startswith(k, i)), text[i])
        out.append(w)
        i += len(w)
    return out


def _dictionary_word(word: str) -> bool:
    """True when jieba's general dictionary has the word as one common word (加速度, 好)."""
    return len(word) <= 4 and segment.general_frequency(word) >= rules.load("entities")["quoted"]["common_word_freq"]


def _trailing_name(item: str) -> str:
    """The name at the end of the first list item (加大对仙茱药业 -> 仙茱药业)."""
    m = re.search(r"(?:对|把|将|在|与|和|及|以|为|推动|支持|引进|培育)([^对把将在与和及以为]{2,12})$", item)
    return m.group(1) if m else item


def _quoted_type(name: str, cfg: dict) -> str:
    for end, typ in sorted(cfg["ends"].items(), key=lambda kv: -len(kv[0])):
        if name.endswith(end):
            return typ
    return cfg["default_type"]


def user_words(registry: Registry) -> list[str]:
    """Names jieba should keep whole (registry names and the genre lexicon)."""
    return sorted(set(registry.names) | set(_lexicon()))
