"""Tables whose rules are too faint for the threshold (Augraphy's scans of grey paper) are found
along their rules' length; the strokes of a big bold title are no table."""

from pathlib import Path

import numpy as np
from PIL import Image

from extractor.stages.layout.ruled_tables import find_ruled_tables
from extractor.stages.pixels import stretch_contrast

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


def test_table_split_by_a_faded_band_is_one_table():
    # Section 三 of Augraphy's hard scan of a generated report (development seed 123002): every
    # row rule fades over the 科研机构 column, leaving two networks of rules, each a table with
    # part of the columns. They share their row rules: one table, label column to 总计.
    regions = find_ruled_tables(_image("table_split_by_faded_band_augraphy.jpg"), 200)
    assert len(regions) == 1
    box = regions[0].bbox
    assert box.x1 < 80 and box.x2 > 1300


def test_table_cut_by_a_faded_band_keeps_its_merged_cells_beyond_it():
    # Section 一 of the same page: beyond the band its value cells span the rest of the width,
    # a network of row rules with no column rule, no table alone. It is the table's right part
    # (the values 73, 46, 0 and 174.41 were read as blank cells, "0", without a flag).
    regions = find_ruled_tables(_image("table_cut_by_faded_band_augraphy.jpg"), 200)
    assert len(regions) == 1
    box = regions[0].bbox
    assert box.x1 < 80 and box.x2 > 1300


def test_tables_of_a_dark_photocopy_are_found_whole_once_its_ink_is_stretched():
    # Sections 三 (its end) and 四 of Augraphy's typical scan of a generated report (development
    # seed 123003): grey paper at 147 and ink at 74, rules 10-25 levels below the paper. As
    # scanned, section 三 is found without its label columns and section 四 not at all; with the
    # ink stretched from the paper both are found whole (the page as scanned gave no table).
    page = _image("dark_photocopy_tables_augraphy.jpg")
    assert len(find_ruled_tables(page, 200)) < 2
    regions = find_ruled_tables(stretch_contrast(page), 200, follow_faint=True)
    assert len(regions) == 2
    assert all(r.bbox.x1 < 110 and r.bbox.x2 > 1290 for r in regions)
