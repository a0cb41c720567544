"""Report metadata from the page text: agency, year, signature date, and which template."""

from __future__ import annotations

import re
from datetime import date

from extractor.datamodel import ReportMeta
from extractor.stages.assemble.text import compact, nfkc
from extractor.templates import template_for_year

# "<agency><year>年(度)政府信息公开工作(年度)报告" once spaces and line breaks are removed; the words
# between the year and 报告 may be misread by OCR (公开 → 公天), so only their length is fixed.
_TITLE = re.compile(r"(?P<agency>[\u4e00-\u9fff（）()]{2,40}?)?(?P<year>20\d{2})年(?:年度|度)?[\u4e00-\u9fff]{4,14}?报告")
# A date in Arabic digits: 2026年1月21日, or 2026.01.21 / 2026-01-21 / 2026/1/21.
_DATE = re.compile(r"(20\d{2})(?:年(\d{1,2})月(\d{1,2})日|[.．/\-](\d{1,2})[.．/\-](\d{1,2})(?!\d))")
# A date in Chinese numerals: 二〇二六年一月二十一日.
_CN_DATE = re.compile(r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")
# Digits written as Chinese numerals in dates.
_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0}
# How many text lines at the top of page 1 may hold the title.
_TITLE_LINES = 6
# Title prefixes that are not part of an agency's name.
_AGENCY_NOISE = re.compile(r"^(?:关于)?")

# Column and row labels found only in one of the two formats.
_MARKERS = {
    "gov-2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额", "逾期不补正", "逾期未按收费通知"),
    "gov-2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增减", "政府集中采购", "采购总金额"),
}


def _cn_number(text: str) -> int:
    if len(text) == 4:  # a year, digit by digit
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DIGITS[text[1]]
    if text.endswith("十"):
        return _CN_DIGITS[text[0]] * 10
    if "十" in text:
        return _CN_DIGITS[text[0]] * 10 + _CN_DIGITS[text[-1]]
    return _CN_DIGITS[text]


def _dates(text: str) -> list[date]:
    found: list[tuple[int, date]] = []
    for m in _DATE.finditer(text):
        month, day = (m[2], m[3]) if m[2] else (m[4], m[5])
        try:
            found.append((m.start(), date(int(m[1]), int(month), int(day))))
        except ValueError:
            continue
    for m in _CN_DATE.finditer(text):
        try:
            found.append((m.start(), date(_cn_number(m[1]), _cn_number(m[2]), _cn_number(m[3]))))
        except (ValueError, KeyError):
            continue
    return [d for _, d in sorted(found)]


# The name of a government body, as it ends a signature line.
_AGENCY_NAME = re.compile(r"[\u4e00-\u9fff（）()]{2,30}(?:政府|局|委员会|委|办公室|办|厅|院|中心|所|处|署|会|部)$")


def _signature_agency(text: str) -> str | None:
    """The agency named on the line (or word run) just above the last date."""
    chunks = [compact(c) for c in re.split(r"[\s。；;]+", nfkc(text)) if compact(c)]
    for i in range(len(chunks) - 1, 0, -1):
        if _dates(chunks[i]) or re.fullmatch(r"[\d年月日〇○零一二三四五六七八九十]+", chunks[i]):
            match = _AGENCY_NAME.search(chunks[i - 1])
            if match:
                return match[0]
    return None


def extract_meta(page_texts: list[str]) -> ReportMeta:
    """Agency and year from the title, publication date from the signature.

    Args:
        page_texts: the text of each page in reading order.

    Returns:
        What could be read; fields stay None when the report does not show them clearly.
    """
    meta = ReportMeta()
    # The title sits in the first lines of page 1; the prose below restates it ("现将我局2020年度…报告如下").
    top_lines = (page_texts[0] if page_texts else "").splitlines()[:_TITLE_LINES]
    first = compact(nfkc(" ".join(top_lines)))
    title = _TITLE.search(first)
    if title:
        meta.year = int(title["year"])
        agency = _AGENCY_NOISE.sub("", title["agency"] or "")
        # Words before the year that do not end like a body's name are prose, not an agency.
        meta.agency = agency if _AGENCY_NAME.search(agency) else None
    # Only whitespace is dropped here: the dots of "2021.02.06" are part of the date.
    tail = re.sub(r"\s+", "", nfkc(" ".join(page_texts[-2:])))
    dates = _dates(tail)
    if dates:
        meta.published = dates[-1].isoformat()
    if meta.agency is None and dates:
        meta.agency = _signature_agency(" ".join(page_texts[-2:]))
    return meta


def detect_template(page_texts: list[str], year: int | None) -> tuple[str | None, str]:
    """Which official format the report's tables follow.

    Labels that exist in only one format decide; the report year breaks ties.

    Returns:
        (template id or None, how it was decided).
    """
    text = compact(nfkc(" ".join(page_texts)))
    hits = {tid: sum(marker in text for marker in markers) for tid, markers in _MARKERS.items()}
    ranked = sorted(hits.items(), key=lambda kv: kv[1], reverse=True)
    if ranked[0][1] > ranked[1][1]:
        return ranked[0][0], f"labels only in {ranked[0][0]} ({ranked[0][1]} vs {ranked[1][1]})"
    by_year = template_for_year(year) if year else None
    if by_year is not None:
        return by_year.id, f"report year {year}"
    return None, "no format-specific labels and no report year"
