"""One word per idea (core/glossary.py) and real English in every catalog and console template."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from core import texts
from core.cards import answer_lines
from core.glossary import GLOSSARY, OFFICIAL_ZH_IN_EN, Term, preferred
from core.report_steps import QUESTIONS
from core.rules import ROLES, format_date, format_datetime, format_month_day
from core.texts import listing, plain, t
from handlers.report.ask import ROLE_BUTTONS

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((REPO / "web" / "templates").glob("*.html"))

# Keys owned by the helper rewriting /start, /help and the role menus (issue 20, role-shaped
# chat): their variants are listed here rather than edited, so the two branches do not collide.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    # TODO(issue 20 · role-shaped chat): cmd_district / cmd_status say 区县 → 区（市）县.
    ("cmd_district", "区县"): "menu text, rewritten by the role-menu helper",
    ("cmd_status", "区县"): "menu text, rewritten by the role-menu helper",
}
# English keys that keep Chinese outside <code> and the official names, for the same reason.
# TODO(issue 20 · role-shaped chat): "help" lists the Chinese date and headcount words (今天,
# 11月3日, 约50人) outside <code>; wrap them in <code> when that text is redone.
CJK_EXCEPTIONS: frozenset[str] = frozenset({"help"})

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_CODE = re.compile(r"<code>.*?</code>", re.S)
_MARKUP = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<[^>]*>", re.S)


def _found(term: Term, lang: str, text: str) -> list[str]:
    """The variants of ``term`` that ``text`` uses."""
    if lang == "zh":
        return [v for v in term.zh_avoid if v in text]
    return [
        v
        for v in term.en_avoid
        if re.search(r"(?<![\w-])" + re.escape(v) + r"(?![\w-])", text, re.IGNORECASE)
    ]


def _problems(lang: str, where: str, text: str) -> list[str]:
    problems = []
    for term in GLOSSARY:
        for variant in _found(term, lang, text):
            if where in term.allowed or (where, variant) in KNOWN_EXCEPTIONS:
                continue
            good = term.zh if lang == "zh" else term.en
            problems.append(f"{where}: “{variant}” (say “{good}”: {term.concept})")
    return problems


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_catalogs_use_the_preferred_terms(lang: str) -> None:
    problems = [p for key, text in texts.CATALOGS[lang].items() for p in _problems(lang, key, text)]
    assert not problems, f"{lang} catalog uses variants:\n" + "\n".join(problems)


def test_console_templates_hold_no_variant() -> None:
    assert TEMPLATES, "no console templates found"
    problems = []
    for path in TEMPLATES:
        # Only what the page shows: Jinja code and tags name keys and classes (…_timeliness).
        source = _MARKUP.sub(" ", path.read_text(encoding="utf-8"))
        problems += _problems("zh", path.name, source) + _problems("en", path.name, source)
    assert not problems, "\n".join(problems)


def test_known_exceptions_are_still_needed() -> None:
    """An exception whose text was fixed must go, or it would hide the variant's return."""
    stale = [
        f"{key}: {variant}"
        for key, variant in KNOWN_EXCEPTIONS
        if variant not in texts.CATALOGS["zh"].get(key, "")
        and variant not in texts.CATALOGS["en"].get(key, "")
    ]
    stale += [key for key in CJK_EXCEPTIONS if not _CJK.search(texts.CATALOGS["en"][key])]
    assert not stale, "drop these exceptions:\n" + "\n".join(stale)


def test_the_glossary_is_consistent() -> None:
    for term in GLOSSARY:
        assert not _found(term, "zh", term.zh), f"{term.concept}: zh term is its own variant"
        assert not _found(term, "en", term.en), f"{term.concept}: en term is its own variant"
    concepts = [term.concept for term in GLOSSARY]
    assert len(concepts) == len(set(concepts))
    assert preferred("district", "zh") == "区（市）县"
    assert preferred("evidence", "en") == "evidence"


def test_the_variants_are_caught() -> None:
    """The scan itself: a text with a variant is flagged, naming the key and the variant."""
    problems = _problems("zh", "k", "请联系你所在的区县协会，上传佐证照片。")
    joined = "\n".join(problems)
    for variant in ("你", "区县", "协会", "佐证照片"):
        assert f"“{variant}”" in joined
    assert _problems("zh", "k", "请联系您所在的区（市）县科协，上传佐证材料。") == []
    assert _problems("en", "k", "Timeliness: see the registry data") != []
    assert _problems("en", "k", "On time; registration details") == []


def test_english_holds_no_chinese_but_official_names() -> None:
    problems = []
    for key, text in texts.CATALOGS["en"].items():
        if key in CJK_EXCEPTIONS:
            continue
        rest = _CODE.sub("", text)
        for name in sorted(OFFICIAL_ZH_IN_EN, key=len, reverse=True):
            rest = rest.replace(name, "")
        if _CJK.search(rest):
            problems.append(f"{key}: {''.join(sorted(set(_CJK.findall(rest))))} in {text!r}")
    assert not problems, "Chinese in English texts:\n" + "\n".join(problems)


def test_dates_follow_the_language() -> None:
    day = date(2026, 12, 4)
    assert format_date(day) == "2026年12月4日"
    assert format_date(day, "en") == "4 December 2026"
    assert format_month_day(3, 1, "en") == "1 March"
    assert format_month_day(3, 1) == "3月1日"
    moment = datetime(2026, 12, 4, 6, 5, tzinfo=UTC)
    tz = ZoneInfo("Asia/Shanghai")
    assert format_datetime(moment, tz) == "2026年12月4日 14:05"
    assert format_datetime(moment, tz, "en") == "4 December 2026, 14:05"


def test_english_counts_agree_with_their_nouns() -> None:
    assert plain("en", "web_reports_total", total=1) == "1 report"
    assert plain("en", "web_reports_total", total=2) == "2 reports"
    assert t("en", "card_late", days=1) == "⚠️ 1 day late"
    assert t("en", "card_late", days=12) == "⚠️ 12 days late"
    assert plain("en", "card_evidence", photos=1, docs=0) == "1 photo, 0 files"
    assert plain("zh", "card_evidence", photos=1, docs=0) == "1 张照片，0 个文件"


def test_english_says_no_file_or_day_with_a_bracketed_s() -> None:
    """ "1 day(s)" reads as a form, not a sentence; counted nouns take ``{n:day|days}``."""
    bracketed = [key for key, text in texts.CATALOGS["en"].items() if "(s)" in text]
    assert not bracketed, bracketed


def test_role_buttons_carry_the_annex_words() -> None:
    """The role step's buttons: 主办/协办/承办 in Chinese, glossed English that still names them."""
    assert tuple(plain("zh", key) for key in ROLE_BUTTONS) == ROLES
    for key, word in zip(ROLE_BUTTONS, ROLES, strict=True):
        assert word in plain("en", key) and plain("en", key)[0].isascii()
    step = t("en", "ask_role", step=4, total=7)
    assert not _CJK.search(step.split("\n")[0]), step


def test_lists_are_joined_the_language_s_way() -> None:
    assert listing("zh", ["批准文号", "主席"]) == "批准文号、主席"
    assert listing("en", ["Approval number", "Chair"]) == "Approval number, Chair"


def test_a_card_in_english_dates_and_counts_in_english() -> None:
    """The summary card an English reader gets: an English date and agreeing nouns."""
    answers: dict[str, object] = dict.fromkeys(q.field for q in QUESTIONS)  # any added: unset
    answers.update(
        activity_date=date(2026, 12, 4),
        name="Salon",
        content="Talk",
        role="主办",
        headcount=1,
        outcome="Deals",
        evidence=[SimpleNamespace(kind="photo")],
    )
    report = SimpleNamespace(**answers)
    english = "\n".join(answer_lines("en", report, 200))
    assert "4 December 2026" in english and "年" not in english
    assert "1 photo, 0 files" in english and "1 person" in english
    assert "2026年12月4日" in "\n".join(answer_lines("zh", report, 200))


def test_numbered_annexes_are_capitalised() -> None:
    """ "Annex 1-3" is a title, as the city's guide writes it; "the annex" alone is not."""
    lower = re.compile(r"\bannex(?:es)? (?:\d|\{)")
    wrong = [key for key, text in texts.CATALOGS["en"].items() if lower.search(text)]
    assert not wrong, wrong


def test_every_preferred_term_is_in_use() -> None:
    """A glossary entry the catalogs never say is a guess, not the catalogs' word."""
    zh_all = "\n".join(texts.CATALOGS["zh"].values())
    en_all = "\n".join(texts.CATALOGS["en"].values()).lower().replace("&amp;", "&")
    unused = [term.zh for term in GLOSSARY if term.zh not in zh_all]
    unused += [term.en for term in GLOSSARY if term.en.lower() not in en_all]
    assert not unused, unused
