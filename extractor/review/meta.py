"""Metadata a reviewer checks: the agency, the report year and the publication date.

The assembler reads them from the title and the signature; nothing in the field contract
checks them, so a title fragment (``作报告为深入贯彻…``) or an empty date would reach the
dataset unnoticed. Here each is given a confidence from plain checks of its form and, when
doubtful, a review item (``meta.<key>``); its box is found among the page's tokens so the
reviewer sees where it was read.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass

from extractor.datamodel import PageRecord

_log = logging.getLogger(__name__)

# The metadata keys under review, in the order they are shown.
META_KEYS = ("agency", "year", "published")
# Chinese and English labels of the keys.
META_LABELS = {"agency": ("机关名称", "agency"), "year": ("报告年度", "report year"),
               "published": ("发布日期", "publication date")}
# Endings of the names of Chinese administrative bodies (局, 委员会, 人民政府, 办公室, 街道办事处 …).
_AGENCY_ENDINGS = ("局", "委员会", "委", "政府", "办公室", "办公厅", "厅", "院", "署", "部", "中心", "所", "会", "处",
                   "站", "队", "馆", "镇", "乡", "街道", "办事处", "社", "司", "台", "室", "区", "团", "监狱", "校",
                   "管委会", "公司", "办")
# Words of a report's title or prose that are never part of an agency's name.
_NOT_AGENCY = ("报告", "贯彻", "深入", "年度", "工作", "根据", "按照", "条例", "规定", "情况", "信息公开", "本机关",
               "现将", "我局", "我委", "《", "》", "，", "。", "：")
# Plausible report years: the regulation took effect in 2008.
_FIRST_YEAR = 2008
# Confidence given to a value that passes every check, one that fails one, and a missing one.
SURE, DOUBTFUL, MISSING = 0.95, 0.3, 0.0


@dataclass(frozen=True)
class MetaCheck:
    """What the checks make of one metadata value."""

    key: str  # agency | year | published
    value: str | int | None  # as stored on the document
    confidence: float  # SURE, DOUBTFUL or MISSING
    problems: tuple[str, ...]  # reasons it is doubtful (English; empty when it looks right)


def check_meta(agency: str | None, year: int | None, published: str | None,
               today: dt.date | None = None) -> dict[str, MetaCheck]:
    """The three metadata values with their confidence and the reasons they are doubtful."""
    today = today or dt.date.today()
    out = {"agency": _check_agency(agency), "year": _check_year(year, today)}
    out["published"] = _check_published(published, year, today)
    return out


def _result(key: str, value, problems: list[str]) -> MetaCheck:
    if value is None or value == "":
        return MetaCheck(key, None, MISSING, ("not found in the report",))
    return MetaCheck(key, value, DOUBTFUL if problems else SURE, tuple(problems))


def _check_agency(agency: str | None) -> MetaCheck:
    problems = []
    name = (agency or "").strip()
    if name:
        words = [w for w in _NOT_AGENCY if w in name]
        if words:
            problems.append(f"holds words of a title or of prose ({'、'.join(words)}), not of an agency's name")
        if not name.endswith(_AGENCY_ENDINGS):
            problems.append("does not end as the name of an administrative body does (局, 委员会, 人民政府 …)")
        if not 3 <= len(name) <= 40:
            problems.append(f"{len(name)} characters: too {'short' if len(name) < 3 else 'long'} for an agency's name")
    return _result("agency", name or None, problems)


def _check_year(year: int | None, today: dt.date) -> MetaCheck:
    problems = []
    if year is not None and not _FIRST_YEAR <= year <= today.year:
        problems.append(f"year {year} outside {_FIRST_YEAR}–{today.year}")
    return _result("year", year, problems)


def _check_published(published: str | None, year: int | None, today: dt.date) -> MetaCheck:
    problems = []
    if published:
        try:
            date = dt.date.fromisoformat(published)
        except ValueError:
            return MetaCheck("published", published, DOUBTFUL, (f"not a date: {published!r}",))
        if year is not None and date.year < year:
            problems.append(f"published {published}, before the year {year} it reports on ended")
        if date > today:
            problems.append(f"published {published}, after today")
    return _result("published", published, problems)


def parse_meta(key: str, text: str) -> str | int:
    """A metadata value typed by a reviewer: the agency's name, a year, or a date (ISO or 2026年1月21日).

    Raises:
        TypedValueError: the text is not a name, a year or a date (message in Chinese and English).
    """
    from extractor.review.typed import TypedValueError

    folded = unicodedata.normalize("NFKC", text).strip()
    if key == "agency":
        if not 2 <= len(folded) <= 200:
            raise TypedValueError("机关名称应为 2 至 200 个字符", "an agency's name has 2 to 200 characters")
        return folded
    if key == "year":
        if not re.fullmatch(r"\d{4}", folded) or not _FIRST_YEAR <= int(folded) <= dt.date.today().year:
            raise TypedValueError(f"年度应为 {_FIRST_YEAR} 至今的四位数字", f"a year is four digits, {_FIRST_YEAR} to now")
        return int(folded)
    match = re.fullmatch(r"(\d{4})[-年./](\d{1,2})[-月./](\d{1,2})日?", folded)
    if match:
        try:
            return dt.date(*(int(g) for g in match.groups())).isoformat()
        except ValueError:
            pass
    raise TypedValueError("日期格式应为 2026-01-21 或 2026年1月21日", "a date is written 2026-01-21 or 2026年1月21日")


def locate(key: str, value: str | int | None, pages: list[PageRecord]) -> tuple[int, list[float]] | None:
    """The page and box where `value` was printed: the union of the tokens of the line holding it.

    The agency and year are looked for on the first pages (the title), the date from the last
    page backwards (the signature). None when no token holds it.
    """
    if value in (None, ""):
        return None
    needles = _needles(key, value)
    order = pages if key != "published" else list(reversed(pages))
    for record in order:
        for token in record.tokens or []:
            text = token.text.replace(" ", "")
            if any(n in text for n in needles):
                return record.index, token.bbox.as_list()
    return None


def _needles(key: str, value: str | int) -> list[str]:
    if key == "published":
        try:
            d = dt.date.fromisoformat(str(value))
        except ValueError:
            return [str(value)]
        return [f"{d.year}年{d.month}月{d.day}日", f"{d.year}年{d.month:02d}月{d.day:02d}日", d.isoformat()]
    if key == "agency":
        name = str(value)
        # A name cut or joined by the line break still matches by its first characters.
        return [name] + ([name[:6]] if len(name) > 6 else [])
    return [f"{value}年", str(value)]
