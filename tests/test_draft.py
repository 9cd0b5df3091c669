"""kg draft: each extractor on small invented fixtures, the CLI's refusals, accept -> build on
the real report, evaluation targets, and the review page in headless Chromium.

Fixture sentences are invented here; the real report is only read from ../shared/sources.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kg.cli import main
from kg.draft.conferrals import find_conferrals
from kg.draft.dates import Published, find_dates, period_at, period_contexts
from kg.draft.draft import draft_text
from kg.draft.evaluate import TARGETS, cut_registry, evaluate_eval, evaluate_facts
from kg.draft.figures import find_figures
from kg.draft.normalise import normalise

from .conftest import ROOT, real_sources

REGISTRY = yaml.safe_load((ROOT / "data" / "entities.yaml").read_text(encoding="utf-8"))["entities"]
CHROMIUM = Path("/usr/bin/chromium")


def figs(text: str):
    t = normalise(text)
    return [(f.value, f.unit, f.qualifier, t.original[slice(*t.span(f.start, f.end))]) for f in find_figures(t)]


# -- normalisation and figures ------------------------------------------------------------------
def test_offsets_map_back_to_the_original_across_breaks():
    t = normalise("甲乙\n丙 1 2\n3 元")
    assert t.compact == "甲乙丙123元"
    a, b = t.span(3, 7)
    assert t.original[a:b] == "1 2\n3 元"


def test_numbers_across_line_breaks_and_spaced_digits():
    assert figs("全镇共有企业 4\n0 家，投资 1 2.5\n亿元。") == [
        (40, "unit-count", "exact", "4\n0 家"), (1250000000, "unit-cny", "exact", "1 2.5\n亿元")]


@pytest.mark.parametrize("text,value,unit,qualifier", [
    ("产值约8亿元。", 800000000, "unit-cny", "about"),
    ("观众近万人。", 10000, "unit-person", "at-most"),
    ("营收超5亿元。", 500000000, "unit-cny", "at-least"),
    ("客流超过3万人次。", 30000, "unit-person-time", "at-least"),
    ("面积达20万亩以上。", 200000, "unit-mu", "at-least"),
    ("销售额突破百亿元。", 10000000000, "unit-cny", "at-least"),
    ("培训农民2千余人。", 2000, "unit-person", "at-least"),
    ("节约用水60吨左右。", 60, "unit-tonne", "about"),
    ("建设万亩级茶园。", 10000, "unit-mu", "size-class"),
])
def test_every_approximation_word_is_a_qualifier(text, value, unit, qualifier):
    (v, u, q, _), = figs(text)
    assert (v, u, q) == (value, unit, qualifier)


def test_chinese_numerals_and_a_fall():
    assert figs("税收为一百零一点四七亿元。") == [(10147000000, "unit-cny", "exact", "一百零一点四七亿元")]
    assert figs("能耗同比下降2.3%，产量增长1.5%。") == [
        (-2.3, "unit-percent", "exact", "2.3%"), (1.5, "unit-percent", "exact", "1.5%")]


def test_ordinals_names_and_quoted_numbers_are_not_figures():
    assert figs("第三批名单，“两个确立”，十四五规划，一批企业。") == []


# -- dates and periods ------------------------------------------------------------------------------
def test_relative_dates_resolve_against_publication():
    pub = Published.parse("2025-03")
    t = normalise("2024年12月，甲项目开工；同年 11 月乙村获奖。去年9月丙会召开，今年2月丁开业，5月18日戊举行。")
    assert [d.iso for d in find_dates(t, pub)] == ["2024-12", "2024-11", "2024-09", "2025-02", "2025-05-18"]


def test_periods_in_force():
    pub = Published.parse("2024-07")
    t = normalise("今年上半年，甲增长。1至6月，乙增长。下半年，丙将增长。2023年，丁增长。")
    ctx = period_contexts(t, pub)
    assert [p.iso for _, p in ctx] == ["2024-01/2024-06", "2024-01/2024-06", "2024-07/2024-12", "2023"]
    assert period_at(ctx, len(t.compact) - 1, pub).iso == "2023"


def test_missing_or_bad_publication_date_is_refused():
    with pytest.raises(ValueError):
        Published.parse("2024-13")


# -- conferrals and modality ----------------------------------------------------------------------------
def test_conferral_with_level_batch_and_year():
    t = normalise("青禾村入选第二批全国乡村治理示范村、2023年度自治区级生态村。")
    got = [(c.designation, c.level, c.batch, c.year, c.written) for c in find_conferrals(t)]
    # the level word goes to the level field; the name as written stays for an alias
    assert got == [("全国乡村治理示范村", "level-national", 2, None, "全国乡村治理示范村"),
                   ("生态村", "level-autonomous-region", None, "2023", "自治区级生态村")]


def test_plan_and_result_modality():
    text = "2023年，甲镇完成投资5亿元。下半年，甲镇将确保投资增长8%，力争新增企业10家。"
    d = draft_text(text, "2024-07", REGISTRY, "t", "t.txt")
    mods = {r["valueAsWritten"]: r["modality"] for r in d.records if "value" in r}
    assert mods == {"5亿元": "result", "8%": "plan", "10家": "plan"}


def test_registry_names_are_matched_across_line_breaks():
    d = draft_text("今年，鱼\n峰区与金嗓\n子合作。", "2024-05", REGISTRY, "t", "t.txt")
    about = {r["about"] for r in d.records if "about" in r}
    assert {"yufeng-qu", "jinsangzi"} <= about


# -- CLI refusals --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("content,argv_extra,why", [
    ("鱼峰区".encode("gb18030"), ["--published", "2024-01"], "not UTF-8"),
    (b"", ["--published", "2024-01"], "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", ["--published", "2024-01"], "binary"),
    ("鱼峰区全年增长5%。".encode(), [], "--published"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, content, argv_extra, why):
    src = tmp_path / "report.txt"
    src.write_bytes(content)
    out = tmp_path / "out" / "d.yaml"
    assert main(["draft", str(src), "--out", str(out), "--data", str(ROOT / "data"), *argv_extra]) == 2
    assert why in capsys.readouterr().err
    assert not out.parent.exists()


# -- the real report: draft -> accept -> build; evaluation --------------------------------------------------------
@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    sources = real_sources()
    if sources is None or not (sources / "000_b3b90ce150a63deb.txt").is_file():
        pytest.skip("the real source document is not present (../shared/sources or KG_SOURCES)")
    data = tmp_path_factory.mktemp("data")
    (data / "facts").mkdir()
    (data / "entities.yaml").write_text(yaml.safe_dump({"entities": cut_registry(REGISTRY)}, allow_unicode=True),
                                        encoding="utf-8")
    draft = data / "drafts" / "000_b3b90ce150a63deb.yaml"
    assert main(["draft", str(sources / "000_b3b90ce150a63deb.txt"), "--published", "2024-01",
                 "--data", str(data), "--out", str(draft)]) == 0
    return data, sources, draft


def test_draft_of_the_real_report_accepts_and_builds(scratch, tmp_path):
    from kg.pipeline.build import build

    data, sources, draft = scratch
    assert main(["draft", "accept", str(draft), "--data", str(data), "--sources", str(sources)]) == 0
    facts = (data / "facts" / "000_b3b90ce150a63deb.yaml").read_text(encoding="utf-8")
    registry = (data / "entities.yaml").read_text(encoding="utf-8")
    assert "confidence" not in facts and "todo" not in registry
    # accepting twice adds nothing twice
    assert main(["draft", "accept", str(draft), "--data", str(data), "--sources", str(sources)]) == 0
    assert (data / "facts" / "000_b3b90ce150a63deb.yaml").read_text(encoding="utf-8") == facts
    assert (data / "entities.yaml").read_text(encoding="utf-8") == registry
    result = build(data, sources, tmp_path / "build", with_reasoning=False)
    assert result.report["facts_with_evidence"] > 100
    # GDP 2023 (193.49 亿元 at 1336-1345 of the source) arrived with its evidence
    assert "19349000000" in facts and "193.49亿元" in facts


def test_accept_refuses_what_would_not_validate(scratch, tmp_path, capsys):
    data, sources, draft = scratch
    broken = tmp_path / "broken.yaml"
    text = draft.read_text(encoding="utf-8").replace("unit: unit-cny", "unit: unit-nonexistent", 1)
    broken.write_text(text, encoding="utf-8")
    fresh = tmp_path / "data"
    fresh.mkdir()
    (fresh / "entities.yaml").write_text((data / "entities.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["draft", "accept", str(broken), "--data", str(fresh), "--sources", str(sources)]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml:" in err and "unit-nonexistent" in err
    assert not (fresh / "facts").exists()


def test_evaluation_meets_the_targets_on_figures_entities_modality():
    sources = real_sources()
    if sources is None or not (sources / "eval" / "dev-d1.txt").is_file():
        pytest.skip("shared sources are not present")
    real = evaluate_facts(sources / "000_b3b90ce150a63deb.txt", ROOT / "data" / "facts" / "000_b3b90ce150a63deb.yaml", REGISTRY)
    dev = evaluate_eval(sources / "eval" / "dev-d1.txt", sources / "eval" / "dev-d1.gold.yaml", REGISTRY)
    for ev in (real, dev):
        h = ev.headline()
        assert h["figures F1"] >= 0.85 and h["entity recall"] >= 0.85 and h["modality accuracy"] >= 0.9, ev.table()
    assert dev.headline()["dates F1"] >= 0.9


def test_own_held_out_fixtures_meet_the_targets():
    """h1-h4 (fictional, gold written before the drafter ran on them) keep meeting the targets;
    h5 was never tuned on and is only reported (kg draft --evaluate, BENCHMARKS.md)."""
    own = ROOT / "tests" / "fixtures" / "draft"
    for name in ("held-out-h1", "held-out-h2", "held-out-h3", "held-out-h4"):
        ev = evaluate_eval(own / f"{name}.txt", own / f"{name}.gold.yaml", REGISTRY)
        h = ev.headline()
        assert all(h[k] >= v for k, v in TARGETS.items()), ev.table()


# -- rules added for dates, conferrals, entities and modality (invented sentences) ---------------------------------
def records(text: str, published: str, registry=None):
    return draft_text(text, published, REGISTRY if registry is None else registry, "t", "t.txt").records


def conferral_dates(recs) -> dict[str, str | None]:
    """designation id -> date (on the conferral or in an implied about-record)."""
    about = {r["about"]: r["date"] for r in recs if "about" in r and "date" in r}
    return {r["designation"]: r.get("date") or about.get(r["id"]) for r in recs if r.get("type") == "DesignationConferral"}


def test_a_year_opening_the_sentence_dates_every_conferral_in_it():
    recs = records("2022年，甲溪镇获评全国文明乡镇，乙山村入选第二批全国生态示范村。", "2023-02")
    dates = conferral_dates(recs)
    assert sorted(dates.values()) == ["2022", "2022"]
    assert not any(r.get("support") == "implied" for r in recs if "date" in r)


def test_conferral_years_in_a_reviewed_year():
    text = ("回首2022年，甲县成绩亮眼。甲溪镇获评自治区森林乡镇，乙山村入选第二批全国生态示范村，"
            "丙塘村获评2021年国家美丽乡村，丁岭村获评2022年度自治区卫生村。")
    recs = records(text, "2023-02")
    got = {r["label"]["zh"].split("：")[0]: d for r in recs if r.get("type") == "DesignationConferral"
           for d in [conferral_dates(recs)[r["designation"]]]}
    # no batch, no year: the reviewed year, implied; a batch list may be older: no date;
    # a list year before the reviewed year: no date; the reviewed year's own list: dated
    assert got == {"甲溪镇": "2022", "乙山村": None, "丙塘村": None, "丁岭村": "2022"}
    implied = [r for r in recs if "about" in r and "date" in r]
    assert len(implied) == 1 and implied[0]["support"] == "implied" and implied[0]["supportSpan"]


def test_recipient_by_anaphora_shared_subject_and_city_titles():
    recs = records("甲溪镇地处柳州市。今年5月，甲溪镇举办茶会。该镇成功入选第三批全国特色小镇，并获评广西卫生乡镇。"
                   "全力推动产业升级，入选2023年全国绿色示范城市。", "2023-08")
    about = {r["about"]: r for r in recs if "about" in r and "recipient" in r}
    confs = [r for r in recs if r.get("type") == "DesignationConferral"]
    assert len(confs) == 3
    recip = [r.get("recipient") or about[r["id"]]["recipient"] for r in confs]
    town = recip[0]
    assert recip[1] == town and about[confs[0]["id"]]["support"] == "implied"  # 该镇 -> 甲溪镇, implied with reason
    assert "该镇" in about[confs[0]["id"]]["supportReason"]["zh"]
    assert "recipient" not in confs[2] and about[confs[2]["id"]]["recipient"] != town  # a city title: not the town


def test_a_list_of_recipients_each_gets_the_designation():
    recs = records("9月，甲县人民医院、乙县中医医院先后通过三级医院评审。", "2023-12")
    confs = [r for r in recs if r.get("type") == "DesignationConferral"]
    assert len(confs) == 2 and len({r["recipient"] for r in confs}) == 2


def test_level_word_and_bracketed_grade_are_not_part_of_the_designation():
    (c,) = find_conferrals(normalise("甲区获自治区级现代农业示范区（三星级）认定。"))
    assert (c.designation, c.level, c.written) == ("现代农业示范区", "level-autonomous-region", "自治区级现代农业示范区")


def test_programme_years():
    recs = records("2025年，是“十四五”规划的收官之年，也是甲县“三大攻坚”行动的决胜之年。", "2025-01")
    years = sorted((r["date"], r["yearRole"], r.get("yearOf")) for r in recs if r.get("type") == "ProgrammeYear")
    assert years == [("2025", "year-role-final", "shisiwu-guihua"), ("2025", "year-role-key", years[1][2])]
    assert years[1][2] and years[1][2] != "shisiwu-guihua"


def test_an_announced_list_is_an_event_and_a_planned_milestone_is_not():
    recs = records("2023年12月，第二批全国生态示范村名单公布，甲山村入选。今年，甲县将确保乙河大桥项目开工。", "2024-01")
    events = [r for r in recs if r.get("type") == "Event" and r.get("date") == "2023-12"]
    assert len(events) == 1 and "公布" in events[0]["label"]["zh"]
    assert not any("开工" in r.get("label", {}).get("zh", "") for r in recs if "date" in r)


def test_selected_for_a_list_announced_before_and_one_conferral_said_twice():
    text = "甲山村获评第二批全国生态示范村。2023年12月，第二批全国生态示范村名单公布，甲山村入选。"
    recs = records(text, "2024-01")
    confs = [r for r in recs if r.get("type") == "DesignationConferral"]
    assert len(confs) == 1  # the same recipient's same title, said twice: one record, both spans
    (c,) = confs
    assert c["date"] == "2023-12" and len(c["span"]) >= 2 and c["batch"] == 2


def test_section_headings_and_quoted_festivals_in_dates():
    pub = Published.parse("2025-03")
    t = normalise("一、2024年工作回顾\n过去一年，甲县9月举办“三月三”歌节。\n二、2025年工作安排\n10月，乙项目将开工。")
    ctx = period_contexts(t, pub)
    assert [p.iso for _, p in ctx] == ["2024", "2024", "2025"]
    assert [d.iso for d in find_dates(t, pub, ctx)] == ["2024-09", "2025-10"]  # not “三月三”


@pytest.mark.parametrize("text,name,absent", [
    ("白石镇入选第三批全国森林示范乡镇。", "全国森林示范乡镇", "第三批全国森林示范乡镇"),
    ("召开甲会、乙会等自治区级会议。", None, "自治区级会议"),
    ("推进4条乡村振兴示范带建设。", None, "条乡村振兴示范带"),
    ("青石产业园一期项目竣工。", "青石产业园一期项目", None),
    ("广西青石制药有限公司中药提取车间技改项目完成投资1亿元。", "中药提取车间技改项目", "广西青石制药有限公司中药提取车间技改项目"),
    ("全区重大项目完成投资9亿元。", None, "重大项目"),
    ("项目建设跑出“加速度”。", None, "加速度"),
    ("广西青石新材料有限公司投产。", "广西青石新材料有限公司", "新材料"),
])
def test_entity_rules(text, name, absent):
    d = draft_text(text, "2024-01", REGISTRY, "t", "t.txt")
    names = {e["label"]["zh"] for e in d.entities}
    mentioned = {r["about"] for r in d.records if "about" in r}
    labels = {e["label"]["zh"] for e in d.entities if e["id"] in mentioned}
    if name:
        assert name in names
    if absent:
        assert absent not in labels


def test_plan_cues_govern_their_clause_and_nouns_are_not_cues():
    text = "2023年，甲镇完成年度计划的53.2%。明年，甲镇计划建成厂房1.5万平方米，新增就业岗位不少于600个。"
    figs = {r["valueAsWritten"]: r for r in records(text, "2024-01") if "value" in r}
    assert figs["53.2%"]["modality"] == "result"
    assert figs["1.5万平方米"]["modality"] == "plan"
    assert figs["不少于600个"]["modality"] == "plan" and figs["不少于600个"]["qualifier"] == "at-least"


def test_segmenters_do_not_share_words():
    from kg.draft import segment

    a = segment.segmenter(("青石湾茶",))
    assert "青石湾茶" in a.cut("青石湾茶园")
    assert "青石湾茶" not in segment.segmenter(()).cut("青石湾茶园")
    with segment.using(a):
        assert "青石湾茶" in segment.cut("青石湾茶园")
    assert "青石湾茶" not in segment.cut("青石湾茶园")


def test_accept_only_brings_placements_and_names_what_a_place_lacks(tmp_path, capsys):
    text = "甲县获评全国文明县。南岭茶园获批自治区级现代农业示范区。"
    src = tmp_path / "h.txt"
    src.write_text(text, encoding="utf-8")
    data = tmp_path / "data"
    (data / "facts").mkdir(parents=True)
    (data / "entities.yaml").write_text(yaml.safe_dump({"entities": cut_registry(REGISTRY)}, allow_unicode=True), encoding="utf-8")
    draft = tmp_path / "d.yaml"
    assert main(["draft", str(src), "--published", "2024-01", "--out", str(draft), "--data", str(data)]) == 0
    raw = yaml.safe_load(draft.read_text(encoding="utf-8"))
    conf = next(r["id"] for r in raw["records"] if r.get("type") == "DesignationConferral" and "南岭" in r["label"]["zh"])
    # without its placement the tea garden would hang outside the hierarchy
    unplaced = draft.read_text(encoding="utf-8")
    import re as _re
    unplaced = _re.sub(r"(- about: nanling-chayuan\n(?:  .*\n)*?)  locatedIn: \S+\n", r"\1", unplaced)
    broken = tmp_path / "broken.yaml"
    broken.write_text(unplaced, encoding="utf-8")
    assert main(["draft", "accept", str(broken), "--only", conf, "--data", str(data), "--sources", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    line = next(i for i, l in enumerate(unplaced.splitlines(), 1) if l == "- id: nanling-chayuan")
    assert f"broken.yaml:{line}: nanling-chayuan" in err and "locatedIn:" in err
    assert not list((data / "facts").iterdir())
    assert main(["draft", "accept", str(draft), "--only", conf, "--data", str(data), "--sources", str(tmp_path)]) == 0
    facts = yaml.safe_load((data / "facts" / "t.yaml").read_text(encoding="utf-8")) if (data / "facts" / "t.yaml").is_file() \
        else yaml.safe_load(next((data / "facts").iterdir()).read_text(encoding="utf-8"))
    assert any(r.get("about") == "nanling-chayuan" and "locatedIn" in r for r in facts["records"])


# -- the review page in a browser -----------------------------------------------------------------------------------
def test_review_page_click_highlight_shows_record(tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip("Debian chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    src = ROOT / "tests" / "fixtures" / "draft" / "held-out-h1.txt"
    out = tmp_path / "d.yaml"
    assert main(["draft", str(src), "--published", "2024-10", "--out", str(out), "--data", str(ROOT / "data")]) == 0
    page_path = out.with_suffix(".html")
    outside = []
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        ctx = b.new_context(viewport={"width": 1200, "height": 800})
        ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else (outside.append(r.request.url), r.abort()))
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.as_uri())
        page.locator("mark.k-figure").first.click()
        shown = page.locator("#rec").text_content()
        assert "valueAsWritten" in shown and "StatisticalObservation" in shown
        page.locator("#list li", has_text="conf-").first.click()
        assert page.locator("mark.flash").count() == 1
        assert "DesignationConferral" in page.locator("#rec").text_content()
        b.close()
    assert not errors and not outside
