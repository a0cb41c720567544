"""Joint decoding: the most probable reading of every value cell, given the accounting identities.

Each scanned value cell comes with its k best readings and their probabilities (read over the
value alphabet, `extractor.stages.ocr.ctc`). A table whose rows and columns must add up is an
error-correcting code: of the readings' combinations, one that satisfies the identities is far
likelier than one that breaks them. The choice is a small integer programme solved exactly
(`scipy.optimize.milp`, HiGHS):

    minimise   Σ_f Σ_k −log p(f = k) · z[f,k]  +  Σ_f −log p(f ∉ readings) · o[f]  +  λ · Σ_j b[j]
    subject to Σ_k z[f,k] + o[f] = 1                     one reading per field, or "none of them"
               x[f] = Σ_k v[f,k] · z[f,k]
               |Σ_lhs x − Σ_rhs x| ≤ M_j · (b[j] + Σ_{f in j} o[f])

"None of them" (o) is the mass the beam did not keep: the cell was misread in a way none of its
readings shows, so the identities over it say nothing about the others. A broken identity has a
cost λ rather than being forbidden, because reports do print totals that do not add up: the
printed readings are then kept and the identity's fields are flagged by the validation stage.

A field's margin is how much less probable (in nats) the best assignment is in which that field
does not take its chosen reading: the validation stage accepts a reading without review only
above a margin.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from extractor.datamodel import FieldValue
from extractor.stages.validate.flags import flag as _flag
from extractor.stages.validate.flags import format_number as _fmt
from extractor.stages.validate.identities import TOTAL_PREFIXES
from extractor.templates import Identity, Template

_log = logging.getLogger(__name__)

Number = int | float
# Probability floor of any option (keeps −log finite).
_P_MIN = 1e-9
# Seconds a solve may take (a document's programme takes milliseconds; this only bounds a freak).
_TIME_LIMIT = 10.0
# Margins are computed up to this many nats; a larger one is reported as this.
MARGIN_CAP = 6.0


@dataclass(frozen=True)
class Choice:
    """What the joint decoding chose for one field."""

    value: Number | None  # the value of the chosen reading; None when "none of them" was chosen
    index: int | None  # index of the chosen reading in the field's options; None for "none of them"
    margin: float  # nats by which the best assignment with another value for this field is worse
    runner_up: Number | None  # this field's value in that assignment (None: unknown or not computed)


@dataclass(frozen=True)
class JointDecoding:
    choices: dict[str, Choice]  # field id -> choice, for every field that had options
    broken: tuple[str, ...]  # identities the chosen assignment leaves broken
    cost: float  # the best assignment's cost (nats)


def decode_jointly(
    identities: Sequence[Identity],
    options: Mapping[str, Sequence[tuple[Number, float]]],
    fixed: Mapping[str, Number | None],
    free: frozenset[str] = frozenset(),
    broken_cost: float = 8.0,
    margin_cap: float = MARGIN_CAP,
) -> JointDecoding:
    """The most probable assignment of readings, and each field's margin.

    Args:
        identities: the template's identities (integer fields).
        options: field id -> its readings as ``(value, probability)``, most probable first; the
            probabilities sum to at most 1, the rest being "none of them".
        fixed: field id -> value of fields read without alternatives (None: unreadable; an
            identity over an unreadable field is not checked).
        free: fields whose value is not printed (a blank total): their identities are left to be
            checked once they are derived.
        broken_cost: λ, the cost of a broken identity (nats).
        margin_cap: margins are computed up to this.
    """
    if not any(options.values()):
        return JointDecoding({}, (), 0.0)
    problem = _Problem(identities, options, fixed, free, broken_cost)
    best = problem.solve()
    if best is None:  # cannot happen (o = 1 everywhere is feasible), but never lose the readings
        _log.warning("joint decoding found no assignment; readings kept as read")
        return JointDecoding({}, (), 0.0)
    choices = {}
    for fid in problem.fields:
        margin, runner_up = problem.margin(fid, best, margin_cap)
        choices[fid] = Choice(problem.value(fid, best), best.index[fid], margin, runner_up)
    return JointDecoding(choices, best.broken, best.cost)


@dataclass
class _Solution:
    index: dict[str, int | None]  # chosen option per field (None: none of them)
    broken: tuple[str, ...]  # identities left broken
    cost: float  # nats


class _Problem:
    """The integer programme of one document, with one column layout for every solve."""

    def __init__(self, identities, options, fixed, free, broken_cost) -> None:
        self.options = {f: list(o) for f, o in options.items() if o}
        self.fields = sorted(self.options)
        # Checked are the identities over read fields only, at least one with options; one over a
        # blank total is checked once the total is derived from its parts.
        self.identities = [
            i for i in identities
            if not (set(i.fields) & free)
            and all(f in self.options or fixed.get(f) is not None for f in i.fields)
            and any(f in self.options for f in i.fields)
        ]
        self.fixed = fixed
        self.broken_cost = broken_cost
        cols: list[tuple] = []
        for fid in self.fields:
            cols += [("z", fid, k) for k in range(len(self.options[fid]))] + [("o", fid)]
        cols += [("b", j) for j in range(len(self.identities))]
        self.cols = cols
        self.index = {c: n for n, c in enumerate(cols)}
        cost = np.zeros(len(cols))
        for fid in self.fields:
            for k, (_, p) in enumerate(self.options[fid]):
                cost[self.index[("z", fid, k)]] = -math.log(max(p, _P_MIN))
            rest = 1.0 - sum(p for _, p in self.options[fid])
            cost[self.index[("o", fid)]] = -math.log(max(rest, _P_MIN))
        cost[[self.index[("b", j)] for j in range(len(self.identities))]] = broken_cost
        self.cost = cost
        self._constraints = self._build()

    def _build(self):
        from scipy.optimize import LinearConstraint

        n = len(self.cols)
        rows, lo, hi = [], [], []
        for fid in self.fields:
            row = np.zeros(n)
            row[[self.index[("z", fid, k)] for k in range(len(self.options[fid]))] + [self.index[("o", fid)]]] = 1
            rows.append(row), lo.append(1), hi.append(1)
        for j, identity in enumerate(self.identities):
            row, constant, big = np.zeros(n), 0.0, 1.0
            relax = [self.index[("b", j)]]
            for sign, side in ((1.0, identity.lhs), (-1.0, identity.rhs)):
                for fid in side:
                    if fid not in self.options:
                        constant += sign * float(self.fixed[fid])
                        big += abs(float(self.fixed[fid]))
                        continue
                    for k, (v, _) in enumerate(self.options[fid]):
                        row[self.index[("z", fid, k)]] += sign * float(v)
                    big += max(abs(float(v)) for v, _ in self.options[fid])
                    relax.append(self.index[("o", fid)])
            up, down = row.copy(), row.copy()
            up[relax] -= big
            down[relax] += big
            # r ≤ M·(b + Σo) and r ≥ −M·(b + Σo), with r = row·x + constant
            rows.append(up), lo.append(-np.inf), hi.append(-constant)
            rows.append(down), lo.append(-constant), hi.append(np.inf)
        return LinearConstraint(np.array(rows), lo, hi)

    def solve(self, forbid: tuple[str, int | None] | None = None) -> _Solution | None:
        from scipy.optimize import Bounds, milp

        n = len(self.cols)
        upper = np.ones(n)
        if forbid is not None:
            fid, k = forbid
            upper[self.index[("z", fid, k)] if k is not None else self.index[("o", fid)]] = 0
        result = milp(
            self.cost,
            constraints=self._constraints,
            integrality=np.ones(n),
            bounds=Bounds(np.zeros(n), upper),
            options={"time_limit": _TIME_LIMIT},
        )
        if result.x is None:
            return None
        return self._solution(np.round(result.x))

    def _solution(self, x: np.ndarray) -> _Solution:
        index: dict[str, int | None] = {}
        for fid in self.fields:
            chosen = [k for k in range(len(self.options[fid])) if x[self.index[("z", fid, k)]] > 0.5]
            index[fid] = chosen[0] if chosen else None
        broken = tuple(
            self.identities[j].name for j in range(len(self.identities)) if x[self.index[("b", j)]] > 0.5
        )
        return _Solution(index, broken, float(self.cost @ x))

    def value(self, fid: str, solution: _Solution) -> Number | None:
        k = solution.index[fid]
        return None if k is None else self.options[fid][k][0]

    def margin(self, fid: str, best: _Solution, cap: float) -> tuple[float, Number | None]:
        """How much worse the best assignment is in which `fid` does not take its chosen option.

        Solved again only when a lower bound does not already reach `cap`: the field's own next
        option, less what that could save the other fields of its identities and its broken
        identities.
        """
        chosen = best.index[fid]
        rivals = [(self.cost[self.index[("z", fid, k)]], self.options[fid][k][0]) for k in range(len(self.options[fid])) if k != chosen]
        if chosen is not None:
            rivals.append((self.cost[self.index[("o", fid)]], None))
        own = self._own_cost(fid, best)
        step, runner_up = min(rivals, key=lambda r: r[0]) if rivals else (own + cap, None)
        step -= own
        tied = [i for i in self.identities if fid in i.fields]
        if not tied:
            return min(cap, step), runner_up
        neighbours = {g for i in tied for g in i.fields if g != fid and g in self.options}
        slack = sum(self._own_cost(g, best) - self._cheapest(g) for g in neighbours)
        slack += self.broken_cost * sum(1 for i in tied if i.name in best.broken)
        if step - slack >= cap:
            return cap, runner_up
        second = self.solve(forbid=(fid, chosen))
        if second is None:
            return cap, None
        return min(cap, second.cost - best.cost), self.value(fid, second)

    def _own_cost(self, fid: str, solution: _Solution) -> float:
        k = solution.index[fid]
        return float(self.cost[self.index[("z", fid, k)] if k is not None else self.index[("o", fid)]])

    def _cheapest(self, fid: str) -> float:
        """The least a field can cost: its likeliest reading, or "none of them"."""
        return float(min([self.cost[self.index[("z", fid, k)]] for k in range(len(self.options[fid]))]
                         + [self.cost[self.index[("o", fid)]]]))


# Start of the reason given to a field whose reading does not win by the decision margin.
LOW_MARGIN = "reading not sure"
# Start of the note on a field whose reading the identities chose over its most probable one.
IDENTITY_CHOSEN = "identity-chosen"
# Reason of a field whose value-alphabet and whole-vocabulary readings disagree.
READINGS_DISAGREE = "the cell's two readings disagree"
# Reason of a field none of whose readings fits the identities.
BEYOND_READINGS = "none of the readings fits the identities: misread"


def choose_readings(
    template: Template,
    fields: dict[str, FieldValue],
    options: Mapping[str, list[tuple[Number, float, str]]],
    label_confidence: Mapping[str, float],
    decision_margin: float,
    broken_cost: float,
    stated: Mapping[str, set[Number]] | None = None,
    prose_weight: float = 3.0,
    unchecked_margin: float | None = None,
    whole_values: Mapping[str, Number | None] | None = None,
) -> JointDecoding:
    """Set every field that has readings over the value alphabet to the reading the joint
    decoding chose, with its confidence, and flag it unless it wins by `decision_margin`.

    Changes `fields` in place. A blank printed total is left free (it is derived afterwards); a
    reading outside its field's plausible range is not an option.

    Args:
        fields: the fields as read (the most probable reading of each).
        options: field id -> (value, probability, text) of its readings, most probable first.
        label_confidence: field id -> how surely its row and column labels matched, in [0, 1].
        stated: field id -> the values the report's prose states for it: a second, independent
            reading, which makes a reading that agrees with it `prose_weight` nats likelier.
        unchecked_margin: the margin a field in no identity, whose value the prose does not state,
            needs (None: `decision_margin`): its reading is the only evidence of its value.
        whole_values: field id -> the value its whole-vocabulary reading gives (None: none). A
            chosen value that differs is flagged: two decodings of one cell disagree.
    """
    in_identities = {f for i in template.identities for f in i.fields}
    plausible = {
        fid: _with_prose([o for o in opts if not template.fields[fid].value_problem(o[0])], (stated or {}).get(fid), prose_weight)
        for fid, opts in options.items()
        if fid in fields
    }
    fixed = {fid: f.value for fid, f in fields.items() if fid not in plausible or not plausible[fid]}
    free = frozenset(
        i.lhs[0] for i in template.identities
        if i.name.startswith(TOTAL_PREFIXES) and fields.get(i.lhs[0]) is not None and fields[i.lhs[0]].raw == ""
    )
    decoding = decode_jointly(
        template.identities,
        {fid: [(v, p) for v, p, _ in opts] for fid, opts in plausible.items() if opts},
        fixed,
        free=free,
        broken_cost=broken_cost,
    )
    for fid, choice in decoding.choices.items():
        field, opts = fields[fid], plausible[fid]
        if choice.index is None:
            field.confidence = 0.0
            _flag(field, f"{BEYOND_READINGS} (read {', '.join(repr(t) for _, _, t in opts[:3])})")
            continue
        value, p, text = opts[choice.index]
        if value != field.value:
            field.reasons.append(
                f"{IDENTITY_CHOSEN}: read {field.raw!r} most probably, the identities choose {text!r} (p={p:.2f})"
            )
            field.value, field.raw = value, text
        margin = float(choice.margin)
        field.margin = round(margin, 3)
        whole = (whole_values or {}).get(fid, value)
        if whole is None or abs(whole - value) > 1e-9:
            # On scans we were not tuned on, most misreads the margin let through were cells whose
            # two decodings disagreed: a person decides, shown both.
            _flag(field, f"{READINGS_DISAGREE}: {text!r} over the value alphabet, "
                         f"{'not a clean value' if whole is None else _fmt(whole)} over the whole vocabulary")
        field.confidence = round(label_confidence.get(fid, 1.0) / (1.0 + math.exp(-margin)), 4)
        # The prose's statement of a number checks it as an identity would.
        checked = fid in in_identities or fid in (stated or {})
        needed = decision_margin if checked or unchecked_margin is None else unchecked_margin
        if margin < needed:
            if choice.runner_up is not None and choice.runner_up != value:
                field.suggestion = choice.runner_up
            rival = "" if choice.runner_up is None else f"; next: {_fmt(choice.runner_up)}"
            _flag(field, f"{LOW_MARGIN}: wins by {margin:.1f} nats{rival}")
    return decoding


def _with_prose(
    opts: list[tuple[Number, float, str]], stated: set[Number] | None, weight: float
) -> list[tuple[Number, float, str]]:
    """The readings' probabilities given that the prose states one of `stated` (Bayes' rule, the
    prose taken as a reading that is right `weight` nats more often than not); most probable first."""
    if not stated or not opts:
        return opts
    ratio = math.exp(weight)
    scaled = [(v, p * (ratio if any(abs(v - s) < 1e-6 for s in stated) else 1.0), t) for v, p, t in opts]
    rest = max(1.0 - sum(p for _, p, _ in opts), 0.0)
    total = sum(p for _, p, _ in scaled) + rest
    return sorted(((v, p / total, t) for v, p, t in scaled), key=lambda o: -o[1])
