"""Generate a multi-district graph of the same shape as the real one, as N-Quads.

Districts with towns and villages, enterprises in industries, campaigns with measures, projects
with capacities, designation conferrals, statistical observations and events; every fact of a
district sits in that district's document graph and is reified (rdf:Statement) with its
modality and an evidence span (Web Annotation position selector), exactly as kg.pipeline.rdfize does.
The ontology goes into its own graph so queries that read class hierarchies work unchanged.
District 0 reuses the real slugs the competency queries name (yufeng-qu, sida-huizhan,
gongye-zhenxing-huizhan, jinsangzi, m2023-sanda-zhudao-chanye).

As rdfize does, every statement carries its support (yf:support yfid:support-stated), a statement
of a number its qualifier (yfid:qualifier-exact, also on the observation or capacity it belongs
to), and a period or date its bounds (yf:periodStart, yf:periodEnd, each a stated fact). The
deliberate gaps, so that validation has results to find: each district's source document has
no yf:sha256 and no dcterms:title (two SHACL results per document); nothing else.

Deterministic: the same seed and size give the same bytes.

    python -m bench.generate --triples 100000 --out bench/data/100k/kg.nq
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

import pyoxigraph as ox

from kg import paths
from kg.namespaces import GRAPH, ID, OA, ONTOLOGY_GRAPH, QB, REGISTRY_GRAPH, SKOS, SOURCE, XSD, YF, RDF, RDFS
from kg.pipeline.rdfize import period_bounds

SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
T = str(RDF.type)
LABEL, ALT = str(RDFS.label), str(SKOS.altLabel)
QUANTITIES = {str(YF.value), str(YF.quantity), str(YF.investment)}
INDUSTRIES = ["shipin-jiagong", "shengwu-yiyao", "yiliao-qixie-kangfu-fuju", "yiyao", "liuzhou-luosifen",
              "dajiankang", "shuzi-jingji", "xin-nengyuan-qiche", "wenlv", "xiandai-wuliu"]
ZONES = ["gongye-zhenxing-zhongxinqu", "shangmao-fanrong-jijuqu", "zhihui-chengshi-xianxingqu",
         "wenhua-chuancheng-hexinqu", "chengxiang-tongchou-shifanqu", "xingfu-yiju-shoushanqu"]
INDICATORS = ["gdp", "industrial-output-above-scale", "urban-disposable-income", "rural-disposable-income",
              "tech-smes-registered", "high-tech-enterprises"]
DESIGNATIONS = [f"designation-{i}" for i in range(14)]
LEVELS = ["level-national", "level-autonomous-region", "level-city"]
STATUSES = ["status-planned", "status-under-construction", "status-completed", "status-in-operation", "status-registered"]
STRATEGIES = ["yidai-yilu", "yuegangao-dawanqu", "changjiang-jingjidai", "shisiwu-guihua"]
EVENT_TYPES = ["Meeting", "Unveiling", "Festival", "Competition", "Appointment", "Event"]
REAL_CAMPAIGNS = ["gongye-zhenxing-huizhan", "xiangcun-zhenxing-huizhan", "chengzhen-jianshe-huizhan",
                  "zhaoshang-yinzi-xiangmu-jianshe-huizhan"]


def iri(x: str) -> str:
    return f"<{x}>"


def lit(value, lang: str | None = None, dt=None) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    if lang:
        return f'"{text}"@{lang}'
    if dt is not None:
        return f'"{text}"^^<{dt}>'
    return f'"{text}"'


class Writer:
    """Collects N-Quads lines; reifies document facts with their evidence span."""

    def __init__(self):
        self.lines: list[str] = []

    def quad(self, s: str, p: str, o: str, g: str) -> None:
        self.lines.append(f"{s} {p} {o} {g} .\n")

    def registry(self, s: str, p: str, o: str) -> None:
        self.quad(s, iri(p), o, iri(str(REGISTRY_GRAPH)))

    def fact(self, doc: str, s: str, p: str, o: str, span: tuple[int, int], modality: str) -> None:
        g = iri(str(GRAPH["source/" + doc]))
        self.quad(s, iri(p), o, g)
        st = iri(str(ID[f"statement/{doc}-{len(self.lines)}"]))
        span_node = iri(str(SOURCE[f"{doc}/span/{span[0]}-{span[1]}"]))
        for pp, oo in ((T, iri(str(RDF.Statement))), (str(RDF.subject), s), (str(RDF.predicate), iri(p)),
                       (str(RDF.object), o), ("http://purl.org/dc/terms/source", iri(str(SOURCE[doc]))),
                       (str(YF.modality), iri(str(ID["modality-" + modality]))), (str(YF.evidence), span_node),
                       (str(YF.support), iri(str(ID["support-stated"])))):
            self.quad(st, iri(pp), oo, g)
        if p in QUANTITIES:  # the qualified number: on its statement and on its node, as rdfize does
            exact = iri(str(ID["qualifier-exact"]))
            self.quad(st, iri(str(YF.qualifier)), exact, g)
            self.fact(doc, s, str(YF.qualifier), exact, span, modality)
        if p in (str(YF.period), str(YF.date)):  # a period's first and last day, each a stated fact
            start, end = period_bounds(o.split('"')[1])
            for bound, day in ((YF.periodStart, start), (YF.periodEnd, end)):
                self.fact(doc, s, str(bound), lit(day.isoformat(), dt=XSD.date), span, modality)

    def span(self, doc: str, span: tuple[int, int]) -> None:
        g = iri(str(GRAPH["source/" + doc]))
        node = str(SOURCE[f"{doc}/span/{span[0]}-{span[1]}"])
        pos = iri(node + "/position")
        for pp, oo in ((T, iri(str(YF.TextSpan))), (T, iri(str(OA.SpecificResource))),
                       (str(OA.hasSource), iri(str(SOURCE[doc]))), (str(OA.hasSelector), pos)):
            self.quad(iri(node), iri(pp), oo, g)
        self.quad(pos, iri(T), iri(str(OA.TextPositionSelector)), g)
        self.quad(pos, iri(str(OA.start)), lit(span[0], dt=XSD.nonNegativeInteger), g)
        self.quad(pos, iri(str(OA.end)), lit(span[1], dt=XSD.nonNegativeInteger), g)


def district(w: Writer, rnd: random.Random, d: int, city: str) -> None:
    """One district: registry entries and its document graph of facts."""
    real = d == 0
    slug = (lambda s, real_slug=None: str(ID[real_slug if real and real_slug else f"d{d}-{s}"]))
    doc = f"doc-{d:05d}"
    pos = [0]

    def nspan(length: int = 40) -> tuple[int, int]:
        start = pos[0]
        pos[0] += length + rnd.randint(1, 20)
        w.span(doc, (start, start + length))
        return (start, start + length)

    def entity(s: str, cls: str, zh: str, en: str) -> str:
        w.registry(iri(s), T, iri(str(YF[cls])))
        w.registry(iri(s), LABEL, lit(zh, "zh"))
        w.registry(iri(s), LABEL, lit(en, "en"))
        return s

    def node(s: str, cls: str, zh: str, en: str, span, modality: str) -> str:
        F = lambda p, o: w.fact(doc, iri(s), p, o, span, modality)  # noqa: E731
        # as kg.pipeline.rdfize: a record's modality on its node too (not reified)
        w.quad(iri(s), iri(str(YF.modality)), iri(str(ID["modality-" + modality])), iri(str(GRAPH["source/" + doc])))
        F(T, iri(str(YF[cls])))
        F(LABEL, lit(zh, "zh"))
        F(LABEL, lit(en, "en"))
        return s

    dist = entity(slug("qu", "yufeng-qu"), "District", f"第{d}区", f"District {d}")
    w.registry(iri(dist), str(YF.locatedIn), iri(city))
    w.fact(doc, iri(str(SOURCE[doc])), T, iri(str(YF.SourceDocument)), nspan(), "background")
    towns = []
    for t in range(5):
        town = entity(slug(f"zhen-{t}"), "Town", f"第{d}区{t}镇", f"Town {d}.{t}")
        w.registry(iri(town), str(YF.locatedIn), iri(dist))
        towns.append(town)
        for v in range(4):
            vil = entity(slug(f"cun-{t}-{v}"), "Village", f"第{d}区{t}镇{v}村", f"Village {d}.{t}.{v}")
            w.fact(doc, iri(vil), str(YF.locatedIn), iri(town), nspan(), "background")
    firms = []
    for e in range(20):
        firm = entity(slug(f"qiye-{e}", "jinsangzi" if e == 0 else None), "Enterprise", f"企业{d}-{e}", f"Enterprise {d}-{e}")
        sp = nspan()
        w.fact(doc, iri(firm), str(YF.inIndustry), iri(str(ID[rnd.choice(INDUSTRIES)])), sp, "result")
        w.fact(doc, iri(firm), str(YF.locatedIn), iri(rnd.choice(towns)), sp, "background")
        firms.append(firm)
    programme = entity(slug("sida-huizhan", "sida-huizhan"), "Programme", f"第{d}区四大会战", f"Campaigns of district {d}")
    w.fact(doc, iri(dist), str(YF.alignsWith), iri(programme), nspan(), "background")
    projects = []
    for p in range(6):
        proj = node(slug(f"xiangmu-{p}"), "Project", f"项目{d}-{p}", f"Project {d}-{p}", nspan(), "plan")
        sp = nspan()
        w.fact(doc, iri(proj), str(YF.status), iri(str(ID[rnd.choice(STATUSES)])), sp, "plan")
        w.fact(doc, iri(proj), str(YF.operatedBy), iri(rnd.choice(firms)), sp, "plan")
        w.fact(doc, iri(proj), str(YF.inIndustry), iri(str(ID[rnd.choice(INDUSTRIES)])), sp, "plan")
        w.fact(doc, iri(proj), str(YF.investment), lit(rnd.randint(1, 500) * 10_000_000, dt=XSD.decimal), sp, "plan")
        cap = node(slug(f"cap-{p}"), "Capacity", f"产能{d}-{p}", f"Capacity {d}-{p}", sp, "plan")
        w.fact(doc, iri(proj), str(YF.capacity), iri(cap), sp, "plan")
        w.fact(doc, iri(cap), str(YF.quantity), lit(rnd.randint(1, 100) * 100, dt=XSD.decimal), sp, "plan")
        w.fact(doc, iri(cap), str(YF.product), lit(f"产品{p}", "zh"), sp, "plan")
        w.fact(doc, iri(cap), str(YF.valueAsWritten), lit(f"{p}00 吨"), sp, "plan")
        w.fact(doc, iri(cap), str(YF.unit), iri(str(ID["unit-tonne"])), sp, "plan")
        projects.append(proj)
    for c in range(4):
        camp = node(slug(f"huizhan-{c}", REAL_CAMPAIGNS[c]), "Campaign", f"第{d}区会战{c}", f"Campaign {d}.{c}", nspan(), "plan")
        sp = nspan()
        w.fact(doc, iri(camp), str(YF.partOfInitiative), iri(programme), sp, "plan")
        for z in ZONES:
            w.fact(doc, iri(camp), str(YF.advancesGoal), iri(str(ID[z])), sp, "plan")
        w.fact(doc, iri(camp), str(YF.includesProject), iri(projects[c]), sp, "plan")
        if c == 0:
            w.fact(doc, iri(camp), str(YF.involves), iri(firms[0]), sp, "plan")
        for m in range(8):
            meas = node(slug(f"m-{c}-{m}"), "Measure", f"举措{d}-{c}-{m}", f"Measure {d}.{c}.{m}", nspan(), "plan")
            sp = nspan()
            w.fact(doc, iri(meas), str(YF.measureOf), iri(camp), sp, "plan")
            w.fact(doc, iri(camp), str(YF.hasMeasure), iri(meas), sp, "plan")
            w.fact(doc, iri(meas), str(YF.involves), iri(rnd.choice(firms)), sp, "plan")
            if m == 0:
                w.fact(doc, iri(meas), str(YF.alignsWith), iri(str(ID[STRATEGIES[c]])), sp, "plan")
    lead = node(slug("sanda", "m2023-sanda-zhudao-chanye"), "Measure", f"第{d}区三大主导产业", f"Leading industries {d}", nspan(), "result")
    for ind in INDUSTRIES[:3]:
        w.fact(doc, iri(lead), str(YF.involves), iri(str(ID[ind])), nspan(), "result")
    for k in range(8):
        conf = node(slug(f"conf-{k}"), "DesignationConferral", f"称号授予{d}-{k}", f"Conferral {d}-{k}", nspan(), "result")
        sp = nspan()
        w.fact(doc, iri(conf), str(YF.recipient), iri(rnd.choice([dist, *towns, *firms])), sp, "result")
        w.fact(doc, iri(conf), str(YF.designation), iri(str(ID[rnd.choice(DESIGNATIONS)])), sp, "result")
        w.fact(doc, iri(conf), str(YF.level), iri(str(ID[rnd.choice(LEVELS)])), sp, "result")
        w.fact(doc, iri(conf), str(YF.batch), lit(rnd.randint(1, 5), dt=XSD.integer), sp, "result")
        w.fact(doc, iri(conf), str(YF.date), lit(f"2023-{rnd.randint(1, 12):02d}", dt=XSD.gYearMonth), sp, "result")
    for i, ind in enumerate(INDICATORS):
        for kind, unit in (("level", "unit-cny"), ("growth-rate", "unit-percent")):
            obs = node(slug(f"obs-{i}-{kind}"), "StatisticalObservation", f"指标{d}-{i}-{kind}", f"Observation {d}-{i}-{kind}", nspan(), "result")
            sp = nspan()
            value = rnd.randint(1, 10_000) * 1_000_000 if kind == "level" else round(rnd.uniform(-5, 15), 1)
            w.fact(doc, iri(obs), str(YF.area), iri(dist), sp, "result")
            w.fact(doc, iri(obs), str(YF.indicator), iri(str(ID[ind])), sp, "result")
            w.fact(doc, iri(obs), str(YF.period), lit("2023", dt=XSD.gYear), sp, "result")
            w.fact(doc, iri(obs), str(YF.value), lit(value, dt=XSD.decimal), sp, "result")
            w.fact(doc, iri(obs), str(YF.valueAsWritten), lit(f"{value}"), sp, "result")
            w.fact(doc, iri(obs), str(YF.unit), iri(str(ID[unit])), sp, "result")
            w.fact(doc, iri(obs), str(YF.measureType), iri(str(ID["measure-type-" + kind])), sp, "result")
    for v in range(6):
        ev = node(slug(f"ev-{v}"), rnd.choice(EVENT_TYPES), f"事件{d}-{v}", f"Event {d}-{v}", nspan(), "result")
        sp = nspan()
        w.fact(doc, iri(ev), str(YF.date), lit(f"2023-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}", dt=XSD.date), sp, "result")
        w.fact(doc, iri(ev), str(YF.location), iri(rnd.choice(towns)), sp, "result")


def shared(w: Writer) -> None:
    """Country, province, shared concepts (industries, zones, indicators, designations)."""
    cn, gx = str(ID.zhongguo), str(ID.guangxi)
    for s, cls, zh, en in ((cn, "Country", "中国", "China"), (gx, "ProvincialDivision", "广西壮族自治区", "Guangxi")):
        w.registry(iri(s), T, iri(str(YF[cls])))
        w.registry(iri(s), LABEL, lit(zh, "zh"))
        w.registry(iri(s), LABEL, lit(en, "en"))
    w.registry(iri(cn), ALT, lit("中华人民共和国", "zh"))
    w.registry(iri(gx), str(YF.locatedIn), iri(cn))
    for group, cls in ((INDUSTRIES, "Industry"), (STRATEGIES[:3], "Strategy"), (STRATEGIES[3:], "Plan"), (ZONES, "ZoneGoal"), (INDICATORS, "Indicator"), (DESIGNATIONS, "Designation")):
        for s in group:
            w.registry(iri(str(ID[s])), T, iri(str(YF[cls])))
            w.registry(iri(str(ID[s])), LABEL, lit(s, "zh"))
            w.registry(iri(str(ID[s])), LABEL, lit(s.replace("-", " "), "en"))


def ontology_lines() -> list[str]:
    g = iri(str(ONTOLOGY_GRAPH))
    out = []
    for t in ox.parse(path=str(paths.ontology_file()), format=ox.RdfFormat.TURTLE):
        if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode):
            continue  # OWL restrictions: not needed by the queries, and blank nodes would need care
        out.append(f"{t.subject} {t.predicate} {t.object} {g} .\n")
    return out


def generate(triples: int, seed: int = 42) -> list[str]:
    """N-Quads lines of a graph of about ``triples`` quads (districts are added until reached)."""
    rnd = random.Random(seed)
    w = Writer()
    w.lines.extend(ontology_lines())
    shared(w)
    d = 0
    city = None
    while len(w.lines) < triples:
        if d % 10 == 0:
            city = str(ID["liuzhou-shi" if d == 0 else f"city-{d // 10}"])
            w.registry(iri(city), T, iri(str(YF.PrefectureCity)))
            w.registry(iri(city), LABEL, lit(f"市{d // 10}", "zh"))
            w.registry(iri(city), LABEL, lit(f"City {d // 10}", "en"))
            w.registry(iri(city), str(YF.locatedIn), iri(str(ID.guangxi)))
        district(w, rnd, d, city)
        d += 1
    return w.lines


def write(triples: int, out: Path, seed: int = 42) -> int:
    """Write the graph to ``out`` (N-Quads); returns the number of quads."""
    lines = generate(triples, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(out)
    return len(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", type=int, help="target size (default: all of 10k, 100k, 1m)")
    ap.add_argument("--out", type=Path, help="output .nq (default bench/data/<scale>/kg.nq)")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    root = Path(__file__).resolve().parent / "data"
    jobs = [(args.triples, args.out or root / f"{args.triples}" / "kg.nq")] if args.triples else \
        [(n, root / name / "kg.nq") for name, n in SCALES.items()]
    for n, out in jobs:
        print(f"{out}: {write(n, out, args.seed)} quads")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
