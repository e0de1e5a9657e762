"""The domain's words: one preferred term per idea in each language, and the variants to avoid.

Users meet the same idea in the chat, the console, the reminders and the printed annexes; when
one place says 区县 and another 区（市）县, or 协会 beside 科协, they wonder whether two things are
meant. The annexes' own words win (``/work/shared/annex-spec.md``: 区（市）县科协, 佐证材料,
主办/协办/承办 …). ``tests/unit/test_glossary.py`` scans every catalog value for the variants.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    """One idea: how each language names it, and the names that must not appear in user texts.

    Variants are matched as plain substrings (English ones case-insensitively, on word
    boundaries), so a variant must not be part of the preferred term itself.
    """

    concept: str
    zh: str
    en: str
    zh_avoid: tuple[str, ...] = ()
    en_avoid: tuple[str, ...] = ()
    note: str = ""
    # Catalog keys allowed to keep a variant, each with the reason (an official table header…).
    allowed: dict[str, str] = field(default_factory=dict)


GLOSSARY: tuple[Term, ...] = (
    Term(
        concept="district",
        zh="区（市）县",
        en="district",
        zh_avoid=("区县",),
        note="Chengdu's 23 districts, county-level cities and counties, as the annexes name them "
        "(所属区（市）县, 区（市）县科协); 区县 alone drops the county-level cities.",
    ),
    Term(
        concept="science and technology association",
        zh="科协",
        en="S&T association",
        zh_avoid=("协会",),
        note="Every body here is a 科协 (企业科协, 产业功能区科协, 区（市）县科协, 市科协); "
        "协会 is another kind of society. English may say 'association' after the first mention.",
        allowed={"reg_f_association_members": "科协会员数, annex 1-1's header: 科协 + 会员"},
    ),
    Term(
        concept="polite you",
        zh="您",
        en="you",
        zh_avoid=("你",),
        note="The office addresses its members formally, in the chat and the console alike.",
    ),
    Term(
        concept="registration details (annex 1-1/1-2 fields of one association)",
        zh="登记信息",
        en="registration details",
        zh_avoid=("名册完整度", "名册信息"),
        en_avoid=(
            "registry entry",
            "registry fields",
            "registry data",
            "registry completeness",
            "registry incomplete",
            "% complete",
        ),
        note="What /org fills in; 'incomplete' is said as 登记信息不完整 / incomplete registration "
        "details. 名册 (registry) stays the word for the list of associations itself.",
    ),
    Term(
        concept="timeliness (reported within 3 days of the activity or not)",
        zh="是否逾期",
        en="late",
        zh_avoid=("时效", "是否按时"),
        en_avoid=("timeliness", "overdue"),
        note="Values: 按时 / 逾期 N 天 (on time / N days late), as the card and the help say.",
    ),
    Term(
        concept="evidence (photos, sign-in sheets, PDFs)",
        zh="佐证材料",
        en="evidence",
        zh_avoid=("佐证照片", "佐证文件"),
        en_avoid=("evidence photos", "supporting documents", "supporting file", "supporting files"),
        note="Annex 1-3's column 佐证材料: a PDF is not a photo, so evidence as a whole is "
        "never called 照片.",
    ),
    Term(
        concept="annex (the city's official tables)",
        zh="附件",
        en="Annex",
        zh_avoid=("附表",),
        en_avoid=("appendix", "attachment 1-"),
        note="附件1-1, 附件1-2, 附件1-3 as the guide numbers them.",
    ),
    Term(
        concept="the association's role in an activity",
        zh="主办/协办/承办",
        en="host / co-organiser / organiser",
        en_avoid=("co-host", "undertaker"),
        note="Annex 1-3's column and its three values; English glosses them once.",
    ),
    Term(
        concept="review (district approves or returns a report)",
        zh="审核",
        en="review",
        zh_avoid=("审批", "审查"),
        en_avoid=("rejected", "reject "),
        note="通过 / 退回 (approve / return): a returned report is corrected, not rejected.",
    ),
)


def preferred(concept: str, lang: str) -> str:
    """The preferred term for ``concept`` in ``lang`` (``zh`` or ``en``)."""
    for term in GLOSSARY:
        if term.concept == concept or term.concept.startswith(concept + " "):
            return term.zh if lang == "zh" else term.en
    raise KeyError(concept)


# Names that stay Chinese inside English texts, because the user types or reads them so: the
# annexes' column headers and cell values, and the language's own name.
OFFICIAL_ZH_IN_EN: tuple[str, ...] = (
    "主办",
    "协办",
    "承办",
    "国企",
    "民企",
    "民办非",
    "内设",
    "单位名称",
    "所属区（市）县",
    "中文",
)
