"""A table recovered from one or more pages: cells on a row/column grid."""

from __future__ import annotations

from pydantic import BaseModel, Field

from extractor.datamodel.geometry import BBox


class Cell(BaseModel):
    """One (possibly merged) cell of a table grid."""

    row: int = Field(description="0-based top row of the cell in the table grid")
    col: int = Field(description="0-based left column of the cell in the table grid")
    row_span: int = 1
    col_span: int = 1
    text: str = Field("", description="the cell's text, tokens joined in reading order")
    bbox: BBox
    page: int = Field(description="0-based page the cell is printed on")
    score: float = Field(1.0, description="lowest recognition score of the cell's tokens; 1.0 if empty")
    token_texts: list[str] = Field(default_factory=list, description="texts of the tokens inside the cell")
    merged_text: str | None = Field(
        None, description="text of the merged cell this one was split from, where a rule was lost on the scan"
    )
    candidates: list[tuple[str, float]] = Field(
        default_factory=list,
        description="the k most probable readings over the value alphabet, with their probabilities, most "
        "probable first; empty where the cell was not read that way (text layer, labels, decided by shape)",
    )
    evidence: list[str] = Field(
        default_factory=list, description="why the cell was read as it was, e.g. 'shape:dash', 'alphabet:n-best 3'"
    )


class Table(BaseModel):
    """A table grid. A table continued over several pages is joined into one grid."""

    n_rows: int
    n_cols: int
    cells: list[Cell]
    pages: list[int] = Field(description="0-based pages the table spans, in order")
    bbox: BBox = Field(description="table box on its first page")
    ruled: bool = Field(True, description="False when the grid came from token alignment, not ruling lines")
    score: float = Field(1.0, description="confidence in the grid structure, in [0, 1]")
