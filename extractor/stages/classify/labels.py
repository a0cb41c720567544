"""Names of the roles a table cell can take, shared by training (models/) and inference.

A label is one of:

- ``value``: a value cell of some template field;
- ``row:<row id>``: a row label (``row:denied.state_secret``, ``row:licensing``);
- ``grp:<group id>``: a row-group label spanning several rows (``grp:denied``, ``grp:other``);
- ``col:<column id or header name>``: a column header (``col:natural_person``, ``col:review``);
- ``group_title``: a 第二十条第（x）项 line of section 二; ``note``: a 勾稽关系 note;
- ``O``: anything else (empty corner cells, unrelated tables).
"""

from __future__ import annotations

# Label of a cell that plays no template role.
OTHER = "O"
# Label of a value cell.
VALUE = "value"
# Prefixes of the labels that name a template row, row group or column.
ROW, GROUP, COL = "row:", "grp:", "col:"
# Column-header names that group columns instead of naming one (section 四 groups name a field part).
APPEAL_GROUPS = ("review", "suit_direct", "suit_after_review")
# Truth label roles → label prefix (roles not listed map to their own name or to O).
_ROLE_PREFIX = {"row_label": ROW, "row_group": GROUP, "col_header": COL}
# Truth roles that become a label of their own name.
_PLAIN_ROLES = ("group_title", "note")


def label_of(role: str, key: str) -> str:
    """The cell label of a printed truth label (``row_label``, ``denied.state_secret`` → ``row:denied.state_secret``)."""
    if role in _ROLE_PREFIX:
        return _ROLE_PREFIX[role] + key
    return role if role in _PLAIN_ROLES else OTHER
