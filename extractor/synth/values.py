"""Draw table values that look like real reports and satisfy the template identities.

Counts are skewed as in real reports: most agencies receive 0–50 disclosure requests a year, a
few receive thousands; most cells are 0. Licensing decisions run to thousands for busy agencies,
fees are decimals in 万元. :func:`plant_violations` then breaks an identity on purpose, as some
real reports do (a 总计 that is not the sum of its row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from extractor.templates import Template

# Applicant columns of section 三, in table order (总计 comes after them).
APPLICANT_COLS = ("natural_person", "commercial", "research", "social", "legal", "other_org")
# Rows of section 三 that are not results of handling.
_NON_RESULT_ROWS = frozenset({"new_received", "carried_over", "total", "carried_forward"})
# Dirichlet concentration of each result row: small values make most rows 0 in a report.
_RESULT_ALPHA = {
    "granted": 4.0,
    "partially_granted": 0.6,
    "denied.state_secret": 0.01,
    "denied.prohibited": 0.05,
    "denied.security_stability": 0.03,
    "denied.third_party": 0.12,
    "denied.internal_affairs": 0.06,
    "denied.process_info": 0.15,
    "denied.enforcement_files": 0.06,
    "denied.inquiry": 0.08,
    "unavailable.not_held": 1.8,
    "unavailable.needs_creation": 0.3,
    "unavailable.unclear": 0.15,
    "not_processed.petition": 0.35,
    "not_processed.duplicate": 0.2,
    "not_processed.publication": 0.05,
    "not_processed.excessive": 0.05,
    "not_processed.confirmation": 0.08,
    "other.no_correction": 0.25,
    "other.no_fee": 0.03,
    "other.other": 0.35,
    "other.all": 0.5,
}
# Share of requests by each kind of organisation (the rest come from natural persons).
_ORG_SHARE = {"commercial": 0.55, "research": 0.03, "social": 0.07, "legal": 0.22, "other_org": 0.13}
# How busy an agency of this kind is with licensing / penalties / coercion (log-scale means).
_AGENCY_ACTIVITY = {
    "人民政府": (5.0, 4.0, 2.0),
    "自然资源局": (5.0, 2.5, 1.0),
    "公安局": (8.0, 7.5, 4.0),
    "教育局": (3.5, 0.5, -1.0),
    "卫生健康委员会": (6.0, 4.5, 1.0),
    "市场监督管理局": (7.5, 5.5, 3.0),
    "住房和城乡建设局": (5.5, 3.5, 1.0),
    "交通运输局": (6.0, 6.0, 3.0),
    "农业农村局": (4.5, 3.0, 1.0),
    "生态环境局": (3.0, 4.0, 2.0),
    "default": (4.0, 2.5, 0.5),
}


@dataclass(frozen=True)
class DrawnValues:
    """Values of one report before and after planting errors."""

    values: dict[str, int | float]  # field id → value as printed (planted errors included)
    raw: dict[str, str]  # field id → printed text for decimals (keeps trailing zeros, e.g. "92.70")
    planted: list[str]  # field ids deliberately made inconsistent


def _count(rng: np.random.Generator, log_mean: float, sigma: float = 1.3, p_zero: float = 0.15) -> int:
    if rng.random() < p_zero:
        return 0
    return int(np.floor(np.exp(rng.normal(log_mean, sigma))))


def _request_count(rng: np.random.Generator, scale: float) -> int:
    """New requests in a year: mostly 0–50, sometimes hundreds, rarely thousands."""
    u = rng.random()
    if u < 0.22:
        return 0
    if u < 0.70:
        return int(rng.integers(1, 21))
    if u < 0.90:
        return int(rng.integers(20, 120))
    if u < 0.98:
        return int(rng.integers(120, 900) * scale)
    return int(rng.integers(900, 6000) * scale)


def _decimal(rng: np.random.Generator, log_mean: float, sigma: float = 1.8) -> tuple[float, str]:
    """An amount in 万元 with 0–4 decimals, as printed."""
    x = float(np.exp(rng.normal(log_mean, sigma)))
    digits = int(rng.choice([0, 1, 2, 2, 2, 4, 4]))
    text = f"{x:.{digits}f}"
    return float(text), text


def draw_values(template: Template, agency_kind: str, rng: np.random.Generator) -> DrawnValues:
    """Identity-satisfying values for every field of `template`.

    Args:
        template: the report format.
        agency_kind: suffix of the agency name (人民政府, 公安局, ...), sets how busy it is.
        rng: the document's generator.
    """
    v: dict[str, int | float] = {fid: 0 for fid in template.fields}
    raw: dict[str, str] = {}
    lic, pen, coe = _AGENCY_ACTIVITY.get(agency_kind, _AGENCY_ACTIVITY["default"])
    is_gov = agency_kind == "人民政府"

    if template.id == "gov-2021":
        if is_gov and rng.random() < 0.15:
            v["active.rules.issued"] = int(rng.integers(0, 4))
            v["active.rules.repealed"] = int(rng.integers(0, 3))
            v["active.rules.in_force"] = v["active.rules.issued"] + int(rng.integers(0, 40))
        if rng.random() < 0.55:
            v["active.normative.issued"] = _count(rng, 1.0, 1.0, 0.2)
            v["active.normative.repealed"] = _count(rng, 0.3, 1.0, 0.6)
            v["active.normative.in_force"] = v["active.normative.issued"] + _count(rng, 2.2, 1.0, 0.2)
        v["active.licensing.decisions"] = _count(rng, lic, 1.6, 0.12)
        v["active.penalty.decisions"] = _count(rng, pen, 1.5, 0.25)
        v["active.coercion.decisions"] = _count(rng, coe, 1.3, 0.45)
        if rng.random() < 0.55:
            x, text = _decimal(rng, 2.5)
            v["active.fees.amount"], raw["active.fees.amount"] = x, text
    else:
        for row in ("rules", "normative"):
            if row == "rules" and not (is_gov and rng.random() < 0.2):
                continue
            made = _count(rng, 1.0, 1.0, 0.3)
            v[f"active.{row}.made"] = made
            v[f"active.{row}.published"] = made if rng.random() < 0.8 else max(0, made - int(rng.integers(0, 3)))
            v[f"active.{row}.total_public"] = made + _count(rng, 2.5, 1.0, 0.2)
        for row, mean in (("licensing", lic), ("other_services", lic - 1.5), ("penalty", pen), ("coercion", coe)):
            prev = _count(rng, 2.5 if row != "coercion" else 1.2, 1.0, 0.2)
            v[f"active.{row}.prev_items"] = prev
            change = int(rng.integers(-min(prev, 8), 9)) if rng.random() < 0.45 else 0
            v[f"active.{row}.change"] = change
            v[f"active.{row}.decisions"] = _count(rng, mean, 1.6, 0.2)
        v["active.fees.prev_items"] = _count(rng, 1.2, 0.9, 0.4)
        v["active.fees.change"] = int(rng.integers(-min(int(v["active.fees.prev_items"]), 3), 3)) if rng.random() < 0.3 else 0
        if rng.random() < 0.6:
            v["active.procurement.items"] = _count(rng, 2.0, 1.2, 0.0)
            x, text = _decimal(rng, 4.0, 1.6)
            v["active.procurement.amount"], raw["active.procurement.amount"] = x, text

    # Section 三: applicants per column, then carried over / forward, then results per column.
    n_new = _request_count(rng, scale=1.0 + (2.0 if is_gov else 0.0))
    org_total = int(round(n_new * rng.beta(1.0, 6.0)))
    org = rng.multinomial(org_total, list(_ORG_SHARE.values())) if org_total else np.zeros(5, int)
    new = {"natural_person": n_new - org_total, **{c: int(k) for c, k in zip(_ORG_SHARE, org, strict=True)}}
    p_carry = rng.uniform(0.0, 0.12) if rng.random() < 0.4 else 0.0
    p_forward = rng.uniform(0.0, 0.12) if rng.random() < 0.4 else 0.0
    result_rows = [r for r in template.rows("apply") if r not in _NON_RESULT_ROWS]
    alpha = np.array([_RESULT_ALPHA[r] for r in result_rows])
    weights = rng.dirichlet(alpha)
    for c in APPLICANT_COLS:
        carried = int(rng.binomial(max(new[c], 3 if rng.random() < 0.05 else 0), p_carry))
        forward = int(rng.binomial(new[c] + carried, p_forward))
        handled = new[c] + carried - forward
        v[f"apply.new_received.{c}"] = new[c]
        v[f"apply.carried_over.{c}"] = carried
        v[f"apply.carried_forward.{c}"] = forward
        v[f"apply.total.{c}"] = handled
        col_w = weights * rng.uniform(0.6, 1.4, size=len(weights))
        split = rng.multinomial(handled, col_w / col_w.sum()) if handled else np.zeros(len(result_rows), int)
        for r, k in zip(result_rows, split, strict=True):
            v[f"apply.{r}.{c}"] = int(k)
    for r in template.rows("apply"):
        v[f"apply.{r}.total"] = sum(int(v[f"apply.{r}.{c}"]) for c in APPLICANT_COLS)

    # Section 四: disputes are rare and scale with the number of requests.
    for g, base in (("review", 0.35), ("suit_direct", 0.15), ("suit_after_review", 0.12)):
        lam = base * (1 + n_new / 40)
        n = int(rng.poisson(lam)) if rng.random() < 0.5 else 0
        parts = rng.multinomial(n, rng.dirichlet([3.0, 0.8, 1.0, 0.8])) if n else np.zeros(4, int)
        for col, k in zip(("upheld", "corrected", "other", "pending"), parts, strict=True):
            v[f"appeal.{g}.{col}"] = int(k)
        v[f"appeal.{g}.total"] = n

    assert not template.check(v), template.check(v)
    return DrawnValues(values=v, raw=raw, planted=[])


def plant_violations(template: Template, drawn: DrawnValues, rng: np.random.Generator) -> DrawnValues:
    """Make one or two printed cells inconsistent with the rest, as some real reports are.

    Kinds: a row 总计 that is not the sum of its row (the commonest), an applicant cell typo, a
    （七）总计 cell off by some, a carried-forward count that breaks the balance, an appeal
    总计 off.
    """
    v = dict(drawn.values)
    planted: list[str] = []
    n_cells = 1 if rng.random() < 0.8 else 2
    apply_rows = template.rows("apply")
    for _ in range(n_cells):
        kind = rng.choice(["row_total", "cell", "results_total", "forward", "appeal", "zhaosu"],
                          p=[0.35, 0.2, 0.15, 0.1, 0.1, 0.1])
        if kind == "row_total":
            fid = f"apply.{rng.choice(apply_rows)}.total"
        elif kind == "cell":
            fid = f"apply.{rng.choice(apply_rows)}.{rng.choice(APPLICANT_COLS)}"
        elif kind == "results_total":
            fid = f"apply.total.{rng.choice([*APPLICANT_COLS, 'total'])}"
        elif kind == "forward":
            fid = f"apply.carried_forward.{rng.choice(['natural_person', 'total'])}"
        elif kind == "appeal":
            fid = f"appeal.{rng.choice(['review', 'suit_direct', 'suit_after_review'])}.total"
        else:
            # 昭苏: an organisation column repeats the natural-person count, 总计 left unchanged.
            row = rng.choice(["new_received", "granted", "total"])
            fid = f"apply.{row}.{rng.choice(APPLICANT_COLS[1:])}"
            v[fid] = max(1, int(v[f"apply.{row}.natural_person"]))
            planted.append(fid)
            continue
        old = int(v[fid])
        delta = int(rng.choice([1, 1, 1, 2, 3, 10])) * (1 if old == 0 or rng.random() < 0.6 else -1)
        v[fid] = max(0, old + delta)
        if v[fid] == old:  # old was 0 and the change went negative
            v[fid] = old + 1
        planted.append(fid)
    if not template.check(v):  # the change happened to keep the sums (e.g. a cell already equal)
        v[planted[0]] = int(v[planted[0]]) + 1
    return DrawnValues(values=v, raw=drawn.raw, planted=list(dict.fromkeys(planted)))
