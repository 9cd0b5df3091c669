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
from kg.draft.evaluate import cut_registry, evaluate_eval, evaluate_facts
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
