"""Row/column access to a Table whose cells may be merged."""

from __future__ import annotations

from extractor.datamodel import Cell, Table


class GridView:
    """Look up the cell covering any (row, col) of a table grid."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._at: dict[tuple[int, int], Cell] = {}
        for cell in table.cells:
            for r in range(cell.row, cell.row + cell.row_span):
                for c in range(cell.col, cell.col + cell.col_span):
                    self._at[(r, c)] = cell

    @property
    def n_rows(self) -> int:
        return self.table.n_rows

    @property
    def n_cols(self) -> int:
        return self.table.n_cols

    def at(self, row: int, col: int) -> Cell | None:
        return self._at.get((row, col))

    def row_cells(self, row: int) -> list[Cell]:
        """Distinct cells covering a row, left to right."""
        out: list[Cell] = []
        for c in range(self.n_cols):
            cell = self.at(row, c)
            if cell is not None and (not out or out[-1] is not cell):
                out.append(cell)
        return out

    def own_row_cells(self, row: int) -> list[Cell]:
        """Cells that start on this row (not merged down from above), left to right."""
        return [cell for cell in self.row_cells(row) if cell.row == row]

    def texts(self) -> str:
        return " ".join(cell.text for cell in self.table.cells)
