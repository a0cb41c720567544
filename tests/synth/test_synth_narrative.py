import datetime as dt

import numpy as np

from extractor.synth.narrative import draw_agency, draw_prose, number_text, published_date
from extractor.synth.values import draw_values
from extractor.templates import get_template


def _prose(i: int, template_id: str = "gov-2021"):
    rng = np.random.default_rng(i)
    agency = draw_agency(rng)
    values = draw_values(get_template(template_id), agency.kind, rng).values
    year = 2024 if template_id == "gov-2021" else 2020
    return agency, values, draw_prose(agency, year, template_id, values, published_date(year, rng), rng)


def test_prose_restates_table_numbers_and_sometimes_gets_one_wrong():
    # Prose drawn for 300 documents restates table values as claims.
    # Each claim's value is the table's; about one document in ten states one number wrongly.
    wrong_docs = 0
    for i in range(300):
        _, values, prose = _prose(i, "gov-2021" if i % 3 else "gov-2019")
        assert prose.claims
        for c in prose.claims:
            assert c.value == values[c.field]
            assert number_text(c.stated) in c.text.replace(" ", "")
        wrong_docs += any(c.stated != c.value for c in prose.claims)
    assert 0.03 < wrong_docs / 300 < 0.2


def test_title_signature_and_date_name_the_agency_and_year():
    # A drawn report names its agency in the title and the signature.
    # The title carries the report year once; the signature date is January–March of the next year.
    for i in range(100):
        agency, _, prose = _prose(i)
        title = "".join(prose.title_lines)
        assert agency.name in title and prose.signature == agency.name
        assert title.count("2024") == 1 and "年年" not in title
        d = published_date(2024, np.random.default_rng(i))
        assert dt.date(2025, 1, 1) <= d <= dt.date(2025, 3, 31)


def test_seed_misstatement_is_stated_as_given():
    # A seed report whose prose contradicts its table (昭苏: 行政强制 3 件, table 0).
    # The forced statement appears as a claim with the stated and the table number.
    rng = np.random.default_rng(0)
    agency = draw_agency(rng)
    values = draw_values(get_template("gov-2021"), agency.kind, rng).values
    values["active.coercion.decisions"] = 0
    prose = draw_prose(agency, 2025, "gov-2021", values, dt.date(2026, 1, 21), rng,
                       stated_overrides={"active.coercion.decisions": 3})
    claim = [c for c in prose.claims if c.field == "active.coercion.decisions"]
    assert claim and claim[0].stated == 3 and claim[0].value == 0 and "3" in claim[0].text
