import numpy as np
import pytest

from extractor.synth.values import draw_values, plant_violations
from extractor.templates import ValueType, get_template


@pytest.mark.parametrize("template_id", ["gov-2021", "gov-2019"])
def test_drawn_values_satisfy_every_identity(template_id):
    # Values drawn for many documents and agency kinds.
    # Without planting, every identity of the template holds.
    template = get_template(template_id)
    for i in range(200):
        drawn = draw_values(template, ["人民政府", "公安局", "教育局", "其他"][i % 4], np.random.default_rng(i))
        assert template.check(drawn.values) == []
        assert set(drawn.values) == set(template.fields)


@pytest.mark.parametrize("template_id", ["gov-2021", "gov-2019"])
def test_planted_values_break_an_identity(template_id):
    # A planted error changes one or two section 三/四 cells.
    # At least one identity fails, and only cells that were planted changed.
    template = get_template(template_id)
    for i in range(200):
        rng = np.random.default_rng(1000 + i)
        drawn = draw_values(template, "人民政府", rng)
        bad = plant_violations(template, drawn, rng)
        assert template.check(bad.values)
        changed = {f for f in drawn.values if drawn.values[f] != bad.values[f]}
        assert changed and changed <= set(bad.planted)


def test_values_look_like_real_reports():
    # Across many gov-2021 documents: mostly small request counts, some large; many zeros.
    # Fees are decimals; counts are non-negative integers except gov-2019 本年增/减.
    t21, t19 = get_template("gov-2021"), get_template("gov-2019")
    received, zero_share, fees = [], [], []
    for i in range(300):
        v = draw_values(t21, "自然资源局", np.random.default_rng(i)).values
        received.append(v["apply.new_received.total"])
        zero_share.append(np.mean([v[f] == 0 for f in t21.fields if f.startswith("apply.")]))
        fees.append(v["active.fees.amount"])
        assert all(isinstance(v[f], int) and v[f] >= 0 for f, d in t21.fields.items() if d.value_type is ValueType.INTEGER)
    received = np.array(received)
    assert np.median(received) <= 50
    assert received.max() >= 1000
    assert np.mean(zero_share) > 0.7
    assert any(not float(x).is_integer() for x in fees)
    changes = [draw_values(t19, "公安局", np.random.default_rng(i)).values["active.licensing.change"] for i in range(300)]
    assert min(changes) < 0 < max(changes)
