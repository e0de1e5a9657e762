"""The /status chart (and the annual countdown's): this year's reports per month, stacked on
time / late, and the ten most active associations — or, for the city, one bar per district.

A PNG drawn with matplotlib's Agg backend (no display), 1200 px wide, every label at least 24 px
high, so it reads on a phone. Chinese labels need a CJK font: :func:`cjk_font` looks for one the
machine has (``scripts/fonts.sh`` installs WenQuanYi Zen Hei for the tests; Noto Sans CJK works
too); without one the chart is still drawn, with a warning logged once, and Chinese characters
show as boxes. matplotlib is imported only when a chart is drawn: it is heavy, and the bot
starts without it being touched.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ActivityStatus
from core.texts import plain
from core.years import ReportingYears
from scheduler.messenger import Outgoing, Picture
from storage.models import Activity, District, Organisation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

WIDTH_PX = 1200
DPI = 100
LABEL_PX = 26  # every text on the chart: at least 24 px on a 1200 px image
TOP = 10  # associations shown
CHART_DAYS = 7  # the annual countdown carries the chart from this many days before
NAME_CHARS = 14  # an association's name is cut to this many characters

# Fonts with the Chinese glyphs, in order of preference (family names as fontconfig knows them).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Source Han Sans SC",
    "Droid Sans Fallback",
)
CJK_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, in the recipient's language (from the catalog)."""

    title: str
    months: str  # the first panel's title
    on_time: str
    late: str
    bars: str  # the second panel's title (associations, or districts)
    month_names: tuple[str, ...]  # twelve


def chart_labels(lang: str, year: int, where: str, *, city: bool) -> ChartLabels:
    """The chart's words from the catalog; ``where`` names the district (or the city)."""
    return ChartLabels(
        title=plain(lang, "chart_title", year=year, where=where),
        months=plain(lang, "chart_months"),
        on_time=plain(lang, "chart_on_time"),
        late=plain(lang, "chart_late"),
        bars=plain(lang, "chart_districts" if city else "chart_top_orgs", n=TOP),
        month_names=tuple(plain(lang, "chart_month_names").split(",")),
    )


@dataclass
class ChartData:
    """What the chart shows: per calendar month (1..12) on time and late, and named bars.

    The months are drawn from ``first_month`` on: the statistical year starts after the previous
    year's deadline (December with the default 30 November)."""

    year: int
    first_month: int = 1
    on_time: list[int] = field(default_factory=lambda: [0] * 12)
    late: list[int] = field(default_factory=lambda: [0] * 12)
    bars: list[tuple[str, int]] = field(default_factory=list)  # (name, reports), largest first


async def chart_data(
    session: AsyncSession, year: int, district_id: int | None, years: ReportingYears
) -> ChartData:
    """The statistical year's submitted reports of one district (or the city, ``None``)."""
    data = ChartData(year=year, first_month=years.first_month(year))
    month = extract("month", Activity.activity_date)
    base = (
        select()
        .select_from(Activity)
        .join(Organisation, Organisation.id == Activity.org_id)
        .where(
            Activity.status == ActivityStatus.SUBMITTED,
            Activity.activity_date.between(*years.span(year)),
        )
    )
    if district_id is not None:
        base = base.where(Organisation.district_id == district_id)
    per_month = await session.execute(
        base.add_columns(month, Activity.on_time, func.count()).group_by(month, Activity.on_time)
    )
    for m, on_time, count in per_month.all():
        target = data.late if on_time is False else data.on_time
        target[int(m) - 1] += int(count)
    if district_id is None:
        bars = await session.execute(
            base.join(District, District.id == Organisation.district_id)
            .add_columns(District.name, func.count())
            .group_by(District.id, District.name)
            .order_by(func.count().desc(), District.name)
        )
    else:
        bars = await session.execute(
            base.add_columns(Organisation.name, func.count())
            .group_by(Organisation.id, Organisation.name)
            .order_by(func.count().desc(), Organisation.name)
            .limit(TOP)
        )
    data.bars = [(str(name), int(count)) for name, count in bars.all()]
    return data


def chart_texts(data: ChartData, labels: ChartLabels) -> list[str]:
    """Every text drawn on the chart (the font test checks each character is covered)."""
    texts = [labels.title, labels.months, labels.on_time, labels.late, labels.bars]
    texts += list(labels.month_names)
    texts += [_short(name) for name, _ in data.bars]
    return texts


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _literal(text: str) -> str:
    """``text`` as matplotlib must draw it: a pair of ``$`` in a name (an association's, a
    district's) would otherwise be read as math text, which fails or draws something else.
    An escaped ``\\$`` is drawn as ``$``; escaping each one leaves no pair to read."""
    return text.replace("$", r"\$")


@cache
def cjk_font() -> Path | None:
    """A font file with Chinese glyphs, or None (warned once): the chart is then drawn anyway."""
    from matplotlib import font_manager

    for family in CJK_FAMILIES:
        try:
            path = font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        if path:
            return Path(path)
    for candidate in CJK_FILES:
        if Path(candidate).is_file():
            return Path(candidate)
    log.warning("charts: no CJK font found (run scripts/fonts.sh); Chinese labels show as boxes")
    return None


def missing_glyphs(font: Path, texts: list[str]) -> set[str]:
    """The characters of ``texts`` the font has no glyph for (spaces and digits included)."""
    from fontTools.ttLib import TTCollection, TTFont

    # The face matplotlib draws with: a collection's first one.
    face = TTCollection(str(font)).fonts[0] if font.suffix.lower() == ".ttc" else TTFont(str(font))
    covered = set(face.getBestCmap() or {})
    return {ch for text in texts for ch in text if ord(ch) not in covered and not ch.isspace()}


def draw_chart(data: ChartData, labels: ChartLabels) -> bytes:
    """The PNG: months stacked on time / late above, the bars below."""
    out = io.BytesIO()
    chart_figure(data, labels).savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def chart_figure(data: ChartData, labels: ChartLabels) -> Figure:
    """The chart as a matplotlib Figure (Agg: no display is needed)."""
    import matplotlib

    matplotlib.use("Agg")
    # The CJK fonts have no U+2212 (MINUS SIGN): a negative tick of an empty axis was drawn as
    # a box, with a warning. Process-wide, like the backend: the charts are all it draws.
    matplotlib.rcParams["axes.unicode_minus"] = False
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    font = cjk_font()
    size = LABEL_PX * 72 / DPI  # points at this DPI
    props = (
        font_manager.FontProperties(fname=str(font), size=size)
        if font is not None
        else font_manager.FontProperties(size=size)
    )
    title_props = props.copy()
    title_props.set_size(size * 1.25)
    rows = max(len(data.bars), 1)
    height_px = 1000 + 60 * rows
    fig = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI)
    months_ax, bars_ax = fig.subplots(2, 1, gridspec_kw={"height_ratios": [900, 100 + 60 * rows]})
    fig.suptitle(_literal(labels.title), fontproperties=title_props)

    xs = list(range(12))
    order = [(data.first_month - 1 + i) % 12 for i in xs]
    on_time = [data.on_time[i] for i in order]
    months_ax.bar(xs, on_time, color="#2b7bba", label=_literal(labels.on_time))
    late = [data.late[i] for i in order]
    months_ax.bar(xs, late, bottom=on_time, color="#e8743b", label=_literal(labels.late))
    months_ax.set_title(_literal(labels.months), fontproperties=props)
    months_ax.set_xticks(xs, [_literal(labels.month_names[i]) for i in order])
    for tick in months_ax.get_xticklabels() + months_ax.get_yticklabels():
        tick.set_fontproperties(props)
    months_ax.yaxis.get_major_locator().set_params(integer=True)
    months_ax.legend(prop=props, loc="upper left")

    names = [_literal(_short(name)) for name, _ in data.bars][::-1]
    counts = [count for _, count in data.bars][::-1]
    bars_ax.barh(range(len(names)), counts, color="#2b7bba")
    bars_ax.set_yticks(range(len(names)), names)
    bars_ax.set_title(_literal(labels.bars), fontproperties=props)
    for tick in bars_ax.get_xticklabels() + bars_ax.get_yticklabels():
        tick.set_fontproperties(props)
    bars_ax.xaxis.get_major_locator().set_params(integer=True)
    for y, count in enumerate(counts):
        bars_ax.text(count, y, f" {count}", va="center", fontproperties=props)

    fig.tight_layout()
    return fig


async def countdown_picture(
    session: AsyncSession,
    text: Outgoing | None,
    params: dict[str, Any],
    lang: str,
    years: ReportingYears,
) -> Outgoing | Picture | None:
    """The annual countdown reminder (``text``) as a captioned chart of its district when the
    deadline is at most :data:`CHART_DAYS` away; the text alone otherwise, or if drawing fails."""
    if text is None or int(params.get("days", CHART_DAYS + 1)) > CHART_DAYS:
        return text
    district = await session.get(District, int(params["district"]))
    if district is None:
        return text
    year = int(params["year"])
    data = await chart_data(session, year, district.id, years)
    labels = chart_labels(lang, year, district.name, city=False)
    try:
        png = await asyncio.to_thread(draw_chart, data, labels)
    except Exception as exc:  # the reminder matters more than its picture
        log.warning("countdown chart failed for district %s: %s", district.id, type(exc).__name__)
        return text
    return Picture(text.kind, png, text.text, text.buttons)
