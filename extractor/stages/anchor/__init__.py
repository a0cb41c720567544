"""Template-anchored placement: a table's grid from the template's labels where its rules are lost.

The template knows every row label and column header of section 三. Where a scan kept too little
of a table's rules for a ruled grid (a faint photocopy, a shadow, a fold), its printed labels are
still read by the page's OCR: rows are located by their labels (fuzzy matched to the template,
misreads tolerated, in the template's order), columns by their headers and a robust straight-line
fit of the header positions against the template's column order (value columns are evenly
spaced, so two read headers place all seven). The grid made so is read like any other: its value
cells from their crops, its fields placed by the assembler and checked by the identities; every
cell of it says it was placed by anchors, and its fields are reviewed unless identities over other
rows confirm them.
"""

from extractor.stages.anchor.stage import AnchorOptions, AnchorStage

__all__ = ["AnchorOptions", "AnchorStage"]
