"""Tests of kg/dates.py: date phrases to xsd lexical forms, only as precise as the text."""

from __future__ import annotations

import pytest

from kg.dates import parse_date, xsd_datatype


@pytest.mark.parametrize(
    "text, expected",
    [
        # full dates, in the orders the press writes them
        ("May 21, 2027", "2027-05-21"),
        ("May 21 2027", "2027-05-21"),
        ("March 3rd, 2028", "2028-03-03"),
        ("21 May 2027", "2027-05-21"),
        ("1st September 2026", "2026-09-01"),
        ("Sept. 22, 2023", "2023-09-22"),
        ("Dec 9, 2030", "2030-12-09"),
        ("2027-05-21", "2027-05-21"),
        ("on February 29, 2028", "2028-02-29"),
        ("this June 6, 2025", "2025-06-06"),
        ("DECEMBER 25, 2029", "2029-12-25"),
        # month and year
        ("March 2028", "2028-03"),
        ("in October, 2026", "2026-10"),
        ("Nov. 2031", "2031-11"),
        # year alone
        ("2017", "2017"),
        ("(2014)", "2014"),
        ("in 2029", "2029"),
    ],
)
def test_definite_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # hedged or relative: no release date
        "late 2026",
        "early 2025",
        "mid-2027",
        "summer 2026",
        "fall 2025",
        "around May 2027",
        "by 2030",
        "before March 2028",
        "late 2023 or early 2024",
        "next year",
        "five years ago",
        # without a year
        "June 7",
        "in March",
        "this month",
        # not a date at all, or not a real day
        "February 30, 2027",
        "Smarch 3, 2027",
        "Chapter 4",
        "1066",
        "",
    ],
)
def test_vague_or_impossible_dates_give_nothing(text):
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "lexical, datatype",
    [("2027-05-21", "date"), ("2028-03", "gYearMonth"), ("2017", "gYear")],
)
def test_xsd_datatype_follows_precision(lexical, datatype):
    assert xsd_datatype(lexical) == datatype
