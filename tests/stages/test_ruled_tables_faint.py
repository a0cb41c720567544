"""Tables whose rules are too faint for the threshold (Augraphy's scans of grey paper) are found
along their rules' length; the strokes of a big bold title are no table."""

from pathlib import Path

import numpy as np
from PIL import Image

from extractor.stages.layout.ruled_tables import find_ruled_tables

_DATA = Path(__file__).parent / "test_data"


def _image(name: str) -> np.ndarray:
    return np.array(Image.open(_DATA / name).convert("RGB"))


def test_table_of_faint_broken_rules_on_grey_paper_is_found():
    # Section 二's table and the top of section 三 from Augraphy's typical scan of a generated
    # report: rules 10-20 grey levels darker than grey paper, broken every few millimetres.
    # The threshold kept no rule long enough, and all 97 fields of the page were "not found".
    page = _image("faint_rules_table_augraphy.png")
    regions = find_ruled_tables(page, 200)
    assert len(regions) == 1
    box = regions[0].bbox
    assert box.x1 < 260 and box.x2 > 1400 and box.y1 < 60 and box.y2 > 590


def test_bold_title_strokes_are_not_a_table():
    assert find_ruled_tables(_image("bold_title_augraphy.png"), 200) == []
