"""Dates as the text gives them, made into xsd lexical forms only as precise as the text.

>>> parse_date("June 7, 2024"), parse_date("this June 6, 2025"), parse_date("March 2023"), parse_date("2014")
('2024-06-07', '2025-06-06', '2023-03', '2014')
>>> parse_date("late 2023") is None, parse_date("June 7") is None, parse_date("five years") is None
(True, True, True)

A date without a year takes it from the article's own date, forward for what is announced and
backward for what is told in the past tense:

>>> import datetime
>>> parse_date("March", reference=datetime.date(2022, 11, 6))
'2023-03'
>>> parse_date("March", reference=datetime.date(2022, 11, 6), past=True)
'2022-03'
>>> parse_date("Friday, June 6, 2025")
'2025-06-06'
"""

from __future__ import annotations

import datetime
import re

__all__ = ["parse_date", "xsd_datatype"]

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], 1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9

# Words that make a date vague or relative: such a date is no release date.
_HEDGES = {"late", "early", "mid", "around", "about", "circa", "before", "after", "by", "until", "since",
           "summer", "winter", "spring", "fall", "autumn", "last", "next", "ago", "years", "months", "weeks",
           "quarter", "or", "between", "and"}

_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)? ([a-z]+)\.?,? (\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"^([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$")
_MONTH_YEAR = re.compile(r"^([a-z]+)\.?,? (\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)? ([a-z]+)\.?$")
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
             "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}


def parse_date(text: str, *, reference: datetime.date | None = None, past: bool = False) -> str | None:
    """The xsd lexical form (YYYY-MM-DD, YYYY-MM or YYYY) of a date phrase, or None when vague.

    `reference` (the article's date) gives a year to "March" or "June 7"; without it they are None.
    """
    words = re.sub(r"[^\w\s.,-]", " ", text.lower()).replace(",", " ").split()
    words = [w for w in words if w not in {"this", "the", "on", "in", "of"} and w.strip(".") not in _WEEKDAYS]
    if not words or set(w.strip(".") for w in words) & _HEDGES:
        return None
    phrase = " ".join(words)
    for pattern, order in ((_ISO, "ymd"), (_MONTH_DAY_YEAR, "mdy"), (_DAY_MONTH_YEAR, "dmy")):
        found = pattern.match(phrase)
        if found:
            parts = dict(zip(order, found.groups()))
            month = int(parts["m"]) if parts["m"].isdigit() else _MONTHS.get(parts["m"])
            try:
                return datetime.date(int(parts["y"]), month or 0, int(parts["d"])).isoformat()
            except (TypeError, ValueError):
                return None
    found = _MONTH_YEAR.match(phrase)
    if found and found.group(1) in _MONTHS:
        return f"{found.group(2)}-{_MONTHS[found.group(1)]:02d}"
    found = _YEAR.match(phrase)
    if found and 1880 <= int(found.group(1)) <= 2100:
        return found.group(1)
    if reference is not None:
        return _with_reference_year(phrase, reference, past)
    return None


def _with_reference_year(phrase: str, reference: datetime.date, past: bool) -> str | None:
    month_day = _MONTH_DAY.match(phrase)
    day_month = _DAY_MONTH.match(phrase)
    if month_day:
        month, day = _MONTHS.get(month_day.group(1)), int(month_day.group(2))
    elif day_month:
        month, day = _MONTHS.get(day_month.group(2)), int(day_month.group(1))
    else:
        month, day = _MONTHS.get(phrase.strip(".")), None
    if not month:
        return None
    point = (month, day or 0)
    here = (reference.month, reference.day if day else 0)
    year = reference.year
    if past and point > here:
        year -= 1
    elif not past and point < here:
        year += 1
    if day is None:
        return f"{year}-{month:02d}"
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def xsd_datatype(lexical: str) -> str:
    """The xsd datatype's local name for a lexical form made by parse_date."""
    return {10: "date", 7: "gYearMonth", 4: "gYear"}[len(lexical)]
