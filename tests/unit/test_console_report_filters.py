"""The reports table's URL filters (web/reports.py): what a query string asks for, what is
ignored, and the query the pager puts back; month bounds (storage/console_reports.py)."""

from __future__ import annotations

from datetime import date

import pytest

from core.review_rules import ReviewState
from storage.console_reports import TEXT_MAX, ReportFilters, month_bounds
from web.reports import filter_query, parse_filters, parse_month


def test_every_filter_is_read() -> None:
    query = {
        "district": "3",
        "org": "17",
        "month": "2021-11",
        "state": "returned",
        "late": "1",
        "q": "  讲座 ",
        "page": "2",
    }
    filters, page = parse_filters(query)
    assert filters == ReportFilters(3, 17, (2021, 11), ReviewState.RETURNED, True, "讲座")
    assert page == 2
    assert filter_query(filters) == {
        "district": 3,
        "org": 17,
        "month": "2021-11",
        "state": "returned",
        "late": "1",
        "q": "讲座",
    }
    assert parse_filters({"late": "0"})[0].late is False


@pytest.mark.parametrize(
    "query",
    [
        {"month": "2021-13"},
        {"month": "2021-00"},
        {"month": "2021-1"},
        {"month": "1999-12"},
        {"state": "draft"},
        {"state": "PENDING"},
        {"late": "yes"},
        {"district": "-1"},
        {"org": "1e3"},
        {"org": "9" * 19},  # past the database's 64-bit integers
        {"page": "0x10"},
    ],
)
def test_a_value_that_cannot_be_one_is_ignored(query: dict[str, str]) -> None:
    filters, page = parse_filters(query)
    assert filters == ReportFilters() and page == 1


def test_page_numbers_are_not_clamped_here_and_text_is_bounded() -> None:
    assert parse_filters({"page": "-1"})[1] == 1
    assert parse_filters({"page": "1000000000"})[1] == 10**9  # the service clamps it
    assert len(parse_filters({"q": "讲" * 5000})[0].text) == TEXT_MAX


def test_month_bounds() -> None:
    assert parse_month("2021-02") == (2021, 2)
    assert month_bounds(2021, 2) == (date(2021, 2, 1), date(2021, 3, 1))
    assert month_bounds(2021, 12) == (date(2021, 12, 1), date(2022, 1, 1))
