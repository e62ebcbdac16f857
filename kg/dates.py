"""Dates as the text gives them, made into xsd lexical forms only as precise as the text.

>>> parse_date("June 7, 2024"), parse_date("this June 6, 2025"), parse_date("March 2023"), parse_date("2014")
('2024-06-07', '2025-06-06', '2023-03', '2014')
>>> parse_date("late 2023") is None, parse_date("June 7") is None, parse_date("five years") is None
(True, True, True)
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


def parse_date(text: str) -> str | None:
    """The xsd lexical form (YYYY-MM-DD, YYYY-MM or YYYY) of a date phrase, or None when vague."""
    words = re.sub(r"[^\w\s.,-]", " ", text.lower()).replace(",", " ").split()
    words = [w for w in words if w not in {"this", "the", "on", "in", "of"}]
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
    return None


def xsd_datatype(lexical: str) -> str:
    """The xsd datatype's local name for a lexical form made by parse_date."""
    return {10: "date", 7: "gYearMonth", 4: "gYear"}[len(lexical)]
