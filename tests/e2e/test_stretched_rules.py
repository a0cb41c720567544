"""When the tables found on a low-contrast page's stretched copy replace those found as scanned."""

from extractor.datamodel import BBox
from extractor.datamodel.page import LayoutRegion
from extractor.pipeline import stretched_reading_wins

_PAGE = (2339, 1654)


def _table(x1: float, y1: float, x2: float, y2: float) -> LayoutRegion:
    return LayoutRegion(label="table", bbox=BBox(x1=x1, y1=y1, x2=x2, y2=y2), score=0.9)


def test_a_whole_table_replaces_none_or_its_pieces():
    whole = [_table(210, 264, 1425, 2013)]
    assert stretched_reading_wins([], whole, _PAGE)
    pieces = [_table(296, 363, 1427, 1030), _table(405, 1064, 1427, 1452), _table(406, 1410, 1424, 2017)]
    assert stretched_reading_wins(pieces, whole, _PAGE)


def test_no_table_found_stretched_never_replaces_tables_found_as_scanned():
    # Two tables as scanned, none on the stretched copy: "fewer pieces" must not drop them.
    two = [_table(230, 300, 1450, 1470), _table(230, 1650, 1450, 1880)]
    assert not stretched_reading_wins(two, [], _PAGE)
    assert not stretched_reading_wins([], [], _PAGE)


def test_stretched_tables_running_to_the_page_edge_are_stripes_not_tables():
    two = [_table(230, 300, 1450, 1470), _table(230, 1650, 1450, 1880)]
    assert not stretched_reading_wins(two, [_table(0, 15, 1639, 2160)], _PAGE)
    assert not stretched_reading_wins([], [_table(19, 7, 1640, 1986)], _PAGE)
