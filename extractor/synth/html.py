"""Turn a synthetic report (prose + printed cells) into HTML/CSS for WeasyPrint, with variety.

Every value cell carries ``data-field="<field id>"`` (or ``data-field="other_row.<col>"`` for the
single （六）其他处理 row of a gov-2021 report printed that way), so the renderer can find its
page and box in the laid-out document. The signature block has ``id="signature"`` and the
section 三 table ``id="apply-table"`` (where a seal may be stamped).
"""

from __future__ import annotations

import functools
import logging
import subprocess
from dataclasses import asdict, dataclass, field
from html import escape

import numpy as np

from extractor.synth.narrative import Prose
from extractor.synth.values import APPLICANT_COLS
from extractor.templates import Template

_log = logging.getLogger(__name__)

# Fonts installed from Debian packages (fonts-arphic-uming, fonts-noto-cjk, fonts-wqy-zenhei,
# fonts-arphic-ukai); body text of real reports is 仿宋/宋体, headings 黑体/小标宋.
BODY_FONTS = ["AR PL UMing CN", "Noto Serif CJK SC", "AR PL UKai CN", "Noto Sans CJK SC", "WenQuanYi Zen Hei"]
_BODY_FONT_P = [0.32, 0.3, 0.14, 0.12, 0.12]
HEADING_FONTS = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "Noto Serif CJK SC"]
# Header shades seen in real reports (WPS table styles), or none.
_SHADES = [None, None, None, "#dbe5f1", "#c6d9f1", "#eeeeee", "#d9d9d9"]
# Result groups of section 三 whose items are listed under a merged group label.
_GROUPS = ("denied", "unavailable", "not_processed", "other")
# Column labels of section 四 (five per block).
_APPEAL_COLS = ("upheld", "corrected", "other", "pending", "total")
_APPEAL_LABELS = {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果", "pending": "尚未审结", "total": "总计"}
# Cell note in the top-left corner of section 三 in the official format.
APPLY_NOTE = "(本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和)"


@functools.cache
def installed_cjk_fonts() -> tuple[str, ...]:
    """CJK font families fontconfig knows (empty when fc-list is unavailable)."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()}))


def _font_pool(wanted: list[str], weights: list[float] | None = None) -> tuple[list[str], list[float] | None]:
    """The wanted fonts that are installed; any installed CJK font when none is."""
    have = installed_cjk_fonts()
    if not have:  # cannot tell: let WeasyPrint fall back by itself
        return wanted, weights
    keep = [i for i, f in enumerate(wanted) if f in have]
    if not keep:
        _log.warning("none of the synthetic report fonts is installed; using %s", have[0])
        return list(have[:3]), None
    w = [weights[i] for i in keep] if weights else None
    return [wanted[i] for i in keep], ([x / sum(w) for x in w] if w else None)


@dataclass
class Style:
    """Every rendering choice of one document (recorded in the truth as `layout`)."""

    font: str
    heading_font: str
    table_font: str
    body_pt: float
    line_height: float
    table_pt: float
    border_px: float
    border_color: str
    pad_v: float
    pad_h: float
    align: str  # text-align of value cells
    shade: str | None  # background of group-title rows of section 二 / header rows
    margins_mm: tuple[float, float, float, float]  # top right bottom left
    page_numbers: str  # dash | plain | none
    zero_style: str  # zero | blank | mixed | slash | dash | hyphen
    zero_blank_rows: list[str] = field(default_factory=list)  # mixed: section 三 rows with blank zeros
    thousands: bool = False  # 1,234
    blank_total_rows: list[str] = field(default_factory=list)  # rows whose 总计 is left blank
    active_layout: str = "combined"  # combined | separate
    group_title_inside: bool = True  # 第二十条 label as a table row (else a caption line)
    group_label_style: str = "第二十条第（一）项"
    apply_note: bool = True  # the 勾稽关系 note in the top-left cell
    header_repeat: bool = False  # section 三 header repeated on the next page (thead)
    forced_break_row: str | None = None  # section 三 row that starts a new page
    other_single_row: bool = False  # gov-2021 printed with one （六）其他处理 row
    single_row_blank_item: bool = False  # a single （六）其他处理 row keeps an empty item-label cell
    bracket: str = "full"  # （一） vs (一)
    item_sep: str = "."  # 1. / 1、 / 1. 
    vlabel: str = "三、本年度办理结果"
    label_spaces: list[str] = field(default_factory=list)  # row ids whose label got a stray space
    normative_label: str = "行政规范性文件"
    fee_label: str = "本年收费金额（单位：万元）"
    col_pct: tuple[float, float, float] = (5.0, 11.0, 26.0)  # section 三 label columns, % width
    active_label_pct: float = 30.0
    appeal_label_break: bool = True  # 结果<br>维持
    table_width_pct: float = 100.0
    subhead_end: str = "。"  # after a bold （一）subheading run into its paragraph
    procurement_unit: str = "万元"  # gov-2019 采购总金额 printed in 万元, in 元 (value still 万元), or no unit
    split_page: int | None = None  # filled by the renderer: page where section 三 continues

    def as_dict(self) -> dict:
        return asdict(self)


def choose_style(template: Template, rng: np.random.Generator, force_single_other: bool | None = None) -> Style:
    """Draw a rendering style for one document."""
    body_fonts, body_p = _font_pool(BODY_FONTS, _BODY_FONT_P)
    heading_fonts, _ = _font_pool(HEADING_FONTS)
    font = str(rng.choice(body_fonts, p=body_p))
    table_font = font if rng.random() < 0.7 else str(rng.choice(body_fonts))
    zero_style = str(rng.choice(["zero", "blank", "mixed", "slash", "dash", "hyphen"], p=[0.64, 0.12, 0.1, 0.06, 0.05, 0.03]))
    apply_rows = template.rows("apply")
    mixed_rows = [r for r in apply_rows if rng.random() < 0.5] if zero_style == "mixed" else []
    blank_total_rows: list[str] = []
    if rng.random() < 0.12:
        k = int(rng.integers(1, 5))
        pool = [*apply_rows, "appeal.review", "appeal.suit_direct", "appeal.suit_after_review"]
        blank_total_rows = sorted({str(x) for x in rng.choice(pool, size=k, replace=False)})
    bracket = "full" if rng.random() < 0.7 else "half"
    item_sep = str(rng.choice([".", "、", ". ", "．"], p=[0.5, 0.25, 0.15, 0.1]))
    vlabel = str(rng.choice(["三、本年度办理结果", "三、本年度办理结 果", "三、 本年度办理结果", "三、本年度办理结果"]))
    forced = None
    if rng.random() < 0.15:
        forced = str(rng.choice([r for r in apply_rows if r.startswith(("denied", "unavailable", "not_processed", "other"))]))
    shade = _SHADES[int(rng.integers(len(_SHADES)))]
    margins = (
        round(float(rng.uniform(22, 37)), 1),
        round(float(rng.uniform(18, 28)), 1),
        round(float(rng.uniform(20, 35)), 1),
        round(float(rng.uniform(18, 30)), 1),
    )
    table_pt = float(rng.choice([9, 9.5, 10, 10.5, 10.5, 11, 12]))
    table_width_pct = float(rng.choice([100, 100, 100, 98, 95]))
    # the vertical 三、本年度办理结果 column fits one character per line, as in real reports
    content_pt = (210 - margins[1] - margins[3]) * 72 / 25.4 * table_width_pct / 100
    a = (table_pt * float(rng.uniform(1.15, 1.7)) + 3) / content_pt * 100
    b = float(rng.uniform(9.0, 14.0))
    c = float(rng.uniform(20.0, 30.0))
    return Style(
        font=font,
        heading_font=str(rng.choice(heading_fonts)),
        table_font=table_font,
        body_pt=float(rng.choice([12, 13, 14, 15, 16])),
        line_height=round(float(rng.uniform(1.45, 1.95)), 2),
        table_pt=table_pt,
        border_px=float(rng.choice([0.5, 0.75, 1.0, 1.0, 1.0, 1.25, 1.5])),
        border_color=str(rng.choice(["#000", "#000", "#000", "#222", "#444", "#666", "#888"])),
        pad_v=round(float(rng.uniform(1.0, 6.0)), 1),
        pad_h=round(float(rng.uniform(2.0, 6.0)), 1),
        align=str(rng.choice(["center", "center", "center", "right", "left"])),
        shade=shade,
        margins_mm=margins,
        page_numbers=str(rng.choice(["dash", "dash", "plain", "none"])),
        zero_style=zero_style,
        zero_blank_rows=mixed_rows,
        thousands=bool(rng.random() < 0.04),
        blank_total_rows=blank_total_rows,
        active_layout=str(rng.choice(["combined", "separate"], p=[0.6, 0.4])),
        group_title_inside=bool(rng.random() < 0.7),
        group_label_style=str(rng.choice(["第二十条第（一）项", "第二十条 第（一）项", "第二十条第(一)项"], p=[0.7, 0.15, 0.15])),
        apply_note=bool(rng.random() < 0.75),
        header_repeat=bool(rng.random() < 0.4),
        forced_break_row=forced,
        other_single_row=(
            force_single_other if force_single_other is not None
            else template.id == "gov-2021" and rng.random() < 0.12
        ),
        single_row_blank_item=bool(rng.random() < 0.15),
        bracket=bracket,
        item_sep=item_sep,
        vlabel=vlabel,
        label_spaces=[r for r in apply_rows if rng.random() < 0.04],
        normative_label=(
            "行政规范性文件" if template.id == "gov-2021" and rng.random() < 0.85 else "规范性文件"
        ),
        fee_label=str(rng.choice(["本年收费金额（单位：万元）", "本年收费金额(单位:万元)", "本年收费金额（万元）"], p=[0.7, 0.15, 0.15])),
        col_pct=(round(a, 2), round(b, 1), round(c, 1)),
        active_label_pct=round(float(rng.uniform(22, 40)), 1),
        appeal_label_break=bool(rng.random() < 0.6),
        table_width_pct=table_width_pct,
        subhead_end=str(rng.choice(["。", "。", "：", " "])),
        procurement_unit=str(rng.choice(["万元", "元", ""], p=[0.5, 0.3, 0.2])),
    )


# ---------------------------------------------------------------------------------------------
# Printed text of value cells


def _fmt_number(x: int | float, thousands: bool) -> str:
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,}" if thousands else repr(x)
    return f"{int(x):,}" if thousands else str(int(x))


def zero_text(style: Style, row_key: str) -> str:
    """How a zero is printed in row `row_key` (e.g. 'apply.granted' or 'active.fees')."""
    z = style.zero_style
    if z == "zero":
        return "0"
    if z == "blank":
        return ""
    if z == "mixed":
        return "" if row_key.split(".", 1)[1] in style.zero_blank_rows else "0"
    return {"slash": "/", "dash": "—", "hyphen": "-"}[z]


def print_cells(
    template: Template,
    values: dict[str, int | float],
    decimal_raw: dict[str, str],
    style: Style,
    raw_overrides: dict[str, str] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """The printed text of every value cell.

    Returns:
        (cells, other_row): field id → printed text, and for a single （六）其他处理 row the
        printed text per applicant column (empty dict otherwise).
    """
    raw_overrides = raw_overrides or {}
    cells: dict[str, str] = {}
    for fid, f in template.fields.items():
        x = values[fid]
        row_key = f"{f.section}.{f.row}"
        if fid in raw_overrides:
            cells[fid] = raw_overrides[fid]
        elif f.col == "total" and (f.row in style.blank_total_rows or row_key in style.blank_total_rows):
            cells[fid] = ""
        elif x == 0:
            cells[fid] = "0" if fid in decimal_raw and style.zero_style == "zero" else zero_text(style, row_key)
        elif fid == "active.procurement.amount" and style.procurement_unit == "元":
            yuan = round(float(x) * 10000, 2)
            cells[fid] = _fmt_number(int(yuan), style.thousands) if yuan.is_integer() else f"{yuan:.2f}"
        elif fid in decimal_raw:
            cells[fid] = decimal_raw[fid]
        else:
            cells[fid] = _fmt_number(x, style.thousands)
    other_row: dict[str, str] = {}
    if style.other_single_row and template.id == "gov-2021":
        for c in [*APPLICANT_COLS, "total"]:
            s = sum(values[f"apply.other.{r}.{c}"] for r in ("no_correction", "no_fee", "other"))
            other_row[c] = zero_text(style, "apply.other") if s == 0 else _fmt_number(s, style.thousands)
            del cells[f"apply.other.no_correction.{c}"], cells[f"apply.other.no_fee.{c}"], cells[f"apply.other.other.{c}"]
    return cells, other_row


# ---------------------------------------------------------------------------------------------
# Labels with variant wording


def _br(text: str, style: Style) -> str:
    """Apply the document's bracket style to （一）-like prefixes."""
    if style.bracket == "half":
        return text.replace("（", "(").replace("）", ")")
    return text


def _item(text: str, style: Style) -> str:
    """'1.属于国家秘密' with the document's numbering separator."""
    if len(text) > 1 and text[0].isdigit() and text[1] == ".":
        return text[0] + style.item_sep + text[2:]
    return text


def _spaced(text: str, key: str, style: Style) -> str:
    if key in style.label_spaces and len(text) > 4:
        i = len(text) // 2 + 1
        return text[:i] + " " + text[i:]
    return text


def _group_label(label: str, style: Style) -> str:
    """'第二十条第（一）项' in the document's spelling."""
    roman = label[label.index("（") + 1 : label.index("）")]
    return style.group_label_style.replace("一", roman, 1)


# ---------------------------------------------------------------------------------------------
# HTML


def _td(text: str, cls: str = "", attrs: str = "", role: str | None = None, key: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f"<td{c}{attrs}{_role(role, key)}>{escape(text)}</td>"


def _role(role: str | None, key: str) -> str:
    """Attributes marking a label cell for the truth's `labels` (role and what it labels)."""
    if not role:
        return ""
    return f' data-role="{role}" data-key="{escape(key)}"'



def _vcell(key: str, text: str) -> str:
    return f'<td class="v" data-field="{escape(key)}">{escape(text)}</td>'


def _css(style: Style) -> str:
    t, r, b, l = style.margins_mm  # noqa: E741
    page_no = {
        "dash": 'content: "- " counter(page) " -";',
        "plain": "content: counter(page);",
        "none": "content: none;",
    }[style.page_numbers]
    shade = f"background: {style.shade};" if style.shade else ""
    return f"""
@page {{ size: A4; margin: {t}mm {r}mm {b}mm {l}mm;
  @bottom-center {{ {page_no} font-family: '{style.font}'; font-size: 10.5pt; }} }}
body {{ font-family: '{style.font}'; font-size: {style.body_pt}pt; line-height: {style.line_height}; color: #000; }}
h1 {{ font-family: '{style.heading_font}'; font-size: {style.body_pt + 6}pt; text-align: center;
  font-weight: bold; margin: 0 0 1.2em 0; line-height: 1.5; }}
h2 {{ font-family: '{style.heading_font}'; font-size: {style.body_pt}pt; font-weight: bold;
  margin: 0.5em 0 0.3em 0; text-indent: 2em; }}
h3 {{ font-size: {style.body_pt}pt; font-weight: bold; margin: 0; text-indent: 2em; }}
p {{ margin: 0; text-indent: 2em; text-align: justify; }}
p.cap {{ page-break-after: avoid; text-indent: 0; font-size: {style.table_pt + 0.5}pt; margin-top: 0.4em; }}
table {{ border-collapse: collapse; width: {style.table_width_pct}%; table-layout: fixed;
  font-family: '{style.table_font}'; font-size: {style.table_pt}pt; line-height: 1.3;
  margin: 0.3em auto 0.6em auto; }}
td {{ border: {style.border_px}px solid {style.border_color}; padding: {style.pad_v}px {style.pad_h}px;
  text-align: center; vertical-align: middle; word-break: break-all; }}
td.l {{ text-align: left; }}
td.v {{ text-align: {style.align}; }}
td.vl {{ padding: 2px 1px; }}
tr {{ page-break-inside: avoid; }}
tr.gt td, tr.hd td {{ {shade} }}
tr.gt {{ page-break-after: avoid; }}
div.sig {{ text-align: right; margin-top: 2.5em; margin-right: 2em; line-height: 1.8; }}
table.active {{ page-break-inside: auto; }}
"""


def _active_tables(template: Template, cells: dict[str, str], style: Style) -> str:
    groups: dict[str, list] = {}
    for f in template.section_fields("active"):
        groups.setdefault(f.group, []).append(f)
    width = 1 + max(len({f.col for f in fs}) for fs in groups.values())
    colgroup_for = lambda n: (  # noqa: E731
        f'<colgroup><col style="width:{style.active_label_pct}%">'
        + "".join(f'<col style="width:{(100 - style.active_label_pct) / n:.2f}%">' for _ in range(n))
        + "</colgroup>"
    )
    out: list[str] = []
    rows_html: list[str] = []
    for group, fs in groups.items():
        cols = list(dict.fromkeys(f.col for f in fs))
        rows = list(dict.fromkeys(f.row for f in fs))
        n = width - 1 if style.active_layout == "combined" else len(cols)
        span_last = n - len(cols) + 1
        part: list[str] = []
        title = _group_label(group, style)
        if style.group_title_inside or style.active_layout == "combined":
            part.append(f'<tr class="gt"><td colspan="{n + 1}"{_role("group_title", group)}>{escape(title)}</td></tr>')
        hdr = ["<tr class=\"hd\">", _td("信息内容", role="col_header", key="content")]
        for i, c in enumerate(cols):
            label = next(f.col_label for f in fs if f.col == c)
            if c == "amount" and template.id == "gov-2021":
                label = style.fee_label
            elif c == "amount":
                label += f"（{style.procurement_unit}）" if style.procurement_unit else ""
            span = f' colspan="{span_last}"' if i == len(cols) - 1 and span_last > 1 else ""
            hdr.append(_td(label, attrs=span, role="col_header", key=c))
        hdr.append("</tr>")
        part.append("".join(hdr))
        for r in rows:
            label = next(f.row_label for f in fs if f.row == r)
            if r == "normative":
                label = style.normative_label
            tr = ["<tr>", _td(label, "l", role="row_label", key=r)]
            for i, c in enumerate(cols):
                fid = f"active.{r}.{c}"
                span = f' colspan="{span_last}"' if i == len(cols) - 1 and span_last > 1 else ""
                tr.append(f'<td class="v" data-field="{fid}"{span}>{escape(cells[fid])}</td>')
            tr.append("</tr>")
            part.append("".join(tr))
        if style.active_layout == "combined":
            rows_html.extend(part)
        else:
            cap = "" if style.group_title_inside else f'<p class="cap"{_role("group_title", group)}>{escape(title)}</p>'
            out.append(f'{cap}<table class="active">{colgroup_for(n)}<tbody>{"".join(part)}</tbody></table>')
    if style.active_layout == "combined":
        out.append(f'<table class="active">{colgroup_for(width - 1)}<tbody>{"".join(rows_html)}</tbody></table>')
    return "\n".join(out)


def _apply_table(template: Template, cells: dict[str, str], other_row: dict[str, str], style: Style) -> str:
    a, b, c = style.col_pct
    rest = 100 - a - b - c
    value_cols = [*APPLICANT_COLS, "total"]
    colgroup = (
        f'<colgroup><col style="width:{a}%"><col style="width:{b}%"><col style="width:{c}%">'
        + "".join(f'<col style="width:{rest / 7:.2f}%">' for _ in value_cols)
        + "</colgroup>"
    )
    col_labels = {f.col: f.col_label for f in template.section_fields("apply")}
    corner = APPLY_NOTE if style.apply_note else ""
    span3x3, span7, span5, down2 = ' colspan="3" rowspan="3"', ' colspan="7"', ' colspan="5"', ' rowspan="2"'
    head = [
        '<tr class="hd">'
        + _td(corner, "l", span3x3, "note" if corner else None, "apply_note")
        + _td("申请人情况", "", span7, "col_header", "applicants")
        + "</tr>",
        '<tr class="hd">'
        + _td(col_labels["natural_person"], "", down2, "col_header", "natural_person")
        + _td("法人或其他组织", "", span5, "col_header", "organisations")
        + _td(col_labels["total"], "", down2, "col_header", "total")
        + "</tr>",
        '<tr class="hd">' + "".join(_td(col_labels[k], role="col_header", key=k) for k in APPLICANT_COLS[1:]) + "</tr>",
    ]
    rows = template.rows("apply")
    labels = {f.row: f.row_label for f in template.section_fields("apply")}
    if style.other_single_row:
        i = rows.index("other.no_correction")
        rows = [r for r in rows if not r.startswith("other.")]
        rows.insert(i, "other.single")
        labels["other.single"] = "（六）其他处理"
    result_rows = [r for r in rows if r not in ("new_received", "carried_over", "carried_forward")]
    body: list[str] = []
    group_sizes = {g: sum(1 for r in rows if r.startswith(g + ".") and " " in labels[r]) for g in _GROUPS}
    seen_groups: set[str] = set()
    for r in rows:
        tr_attr = ' style="break-before: page"' if r == style.forced_break_row else ""
        tds: list[str] = []
        label = labels[r]
        if r in ("new_received", "carried_over", "carried_forward"):
            tds.append(_td(_spaced(label, r, style), "l", ' colspan="3"', "row_label", r))
        else:
            if r == result_rows[0]:
                tds.append(
                    f'<td class="vl" rowspan="{len(result_rows)}"{_role("row_group", "results")}>'
                    f"{escape(style.vlabel)}</td>"
                )
            g = r.split(".", 1)[0]
            if g in _GROUPS and " " in label:  # an item under a merged group label
                grp_label, item_label = label.split(" ", 1)
                if g not in seen_groups:
                    seen_groups.add(g)
                    tds.append(_td(_br(grp_label, style), "", f' rowspan="{group_sizes[g]}"', "row_group", g))
                tds.append(_td(_spaced(_item(item_label, style), r, style), "l", "", "row_label", r))
            else:
                text = _spaced(_br(label, style), r, style)
                if style.single_row_blank_item and r.startswith("other."):
                    tds.append(_td(text, "l", "", "row_label", r) + _td(""))
                else:
                    tds.append(_td(text, "l", ' colspan="2"', "row_label", r))
        for col in value_cols:
            if r == "other.single":
                tds.append(_vcell(f"other_row.{col}", other_row[col]))
            else:
                fid = f"apply.{r}.{col}"
                tds.append(_vcell(fid, cells[fid]))
        body.append(f"<tr{tr_attr}>{''.join(tds)}</tr>")
    head_html = f"<thead>{''.join(head)}</thead><tbody>" if style.header_repeat else f"<tbody>{''.join(head)}"
    return f'<table id="apply-table">{colgroup}{head_html}{"".join(body)}</tbody></table>'


def _appeal_table(cells: dict[str, str], style: Style) -> str:
    def lab(k: str) -> str:
        t = _APPEAL_LABELS[k]
        if style.appeal_label_break and len(t) == 4:
            return escape(t[:2]) + "<br>" + escape(t[2:])
        return escape(t)

    hd1 = (
        f'<tr class="hd"><td colspan="5"{_role("col_header", "review")}>行政复议</td>'
        f'<td colspan="10"{_role("col_header", "suit")}>行政诉讼</td></tr>'
    )
    hd2 = (
        '<tr class="hd">'
        + "".join(f'<td rowspan="2"{_role("col_header", k)}>{lab(k)}</td>' for k in _APPEAL_COLS)
        + f'<td colspan="5"{_role("col_header", "suit_direct")}>未经复议直接起诉</td>'
        + f'<td colspan="5"{_role("col_header", "suit_after_review")}>复议后起诉</td></tr>'
    )
    hd3 = '<tr class="hd">' + "".join(f"<td{_role('col_header', k)}>{lab(k)}</td>" for k in _APPEAL_COLS) * 2 + "</tr>"
    vals = "<tr>" + "".join(
        _vcell(f"appeal.{g}.{k}", cells[f"appeal.{g}.{k}"])
        for g in ("review", "suit_direct", "suit_after_review")
        for k in _APPEAL_COLS
    ) + "</tr>"
    return f'<table id="appeal-table" style="page-break-inside: avoid"><tbody>{hd1}{hd2}{hd3}{vals}</tbody></table>'


def build_html(template: Template, prose: Prose, cells: dict[str, str], other_row: dict[str, str], style: Style) -> str:
    """The whole report as one HTML document."""
    h = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{_css(style)}</style></head><body>"]
    h.append(f"<h1{_role('title', 'title')}>" + "<br>".join(escape(t) for t in prose.title_lines) + "</h1>")
    for p in prose.intro:
        h.append(f"<p>{escape(p)}</p>")
    h.append(f"<h2{_role('section_heading', 'overview')}>一、总体情况</h2>")
    for sub, paras in prose.overview:
        first, *rest = paras
        h.append(f"<p><b>{escape(sub + style.subhead_end)}</b>{escape(first)}</p>")
        h.extend(f"<p>{escape(p)}</p>" for p in rest)
    h.append(f"<h2{_role('section_heading', 'active')}>二、{escape(template.section_titles['active'])}</h2>")
    if prose.active_text:
        h.append(f"<p>{escape(prose.active_text)}</p>")
    h.append(_active_tables(template, cells, style))
    h.append(f"<h2{_role('section_heading', 'apply')}>三、{escape(template.section_titles['apply'])}</h2>")
    if prose.apply_text:
        h.append(f"<p>{escape(prose.apply_text)}</p>")
    h.append(_apply_table(template, cells, other_row, style))
    h.append(f"<h2{_role('section_heading', 'appeal')}>四、{escape(template.section_titles['appeal'])}</h2>")
    if prose.appeal_text:
        h.append(f"<p>{escape(prose.appeal_text)}</p>")
    h.append(_appeal_table(cells, style))
    h.append(f"<h2{_role('section_heading', 'problems')}>五、存在的主要问题及改进情况</h2>")
    h.extend(f"<p>{escape(p)}</p>" for p in prose.problems)
    h.append(f"<h2{_role('section_heading', 'other')}>六、其他需要报告的事项</h2>")
    h.extend(f"<p>{escape(p)}</p>" for p in prose.other)
    h.append(f'<div class="sig" id="signature">{escape(prose.signature)}<br>{escape(prose.date_text)}</div>')
    h.append("</body></html>")
    return "\n".join(h)
