"""The one box type of the project.

Coordinates are in page pixels of the page image the box was measured on, with the origin at
the top-left corner, x growing right and y growing down::

    (x1, y1) ──────────┐
        │              │
        └──────── (x2, y2)

A box that must be mapped to another resolution is scaled with :meth:`BBox.scaled`; page
records carry their DPI so any box can be turned back into PDF points (72 per inch).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class BBox(BaseModel):
    """Axis-aligned box in page pixels, top-left origin."""

    model_config = ConfigDict(frozen=True)

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    def scaled(self, factor: float) -> BBox:
        """The same box on an image `factor` times larger."""
        return BBox(x1=self.x1 * factor, y1=self.y1 * factor, x2=self.x2 * factor, y2=self.y2 * factor)

    def intersection(self, other: BBox) -> float:
        """Area shared with `other` (0 when they do not overlap)."""
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        return w * h if w > 0 and h > 0 else 0.0

    def iou(self, other: BBox) -> float:
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def contains_point(self, x: float, y: float) -> bool:
        return self.x1 <= x <= self.x2 and self.y1 <= y <= self.y2

    def union(self, other: BBox) -> BBox:
        return BBox(
            x1=min(self.x1, other.x1),
            y1=min(self.y1, other.y1),
            x2=max(self.x2, other.x2),
            y2=max(self.y2, other.y2),
        )

    def as_list(self) -> list[float]:
        return [round(self.x1, 1), round(self.y1, 1), round(self.x2, 1), round(self.y2, 1)]

    @classmethod
    def from_list(cls, values: list[float] | tuple[float, ...]) -> BBox:
        x1, y1, x2, y2 = values
        return cls(x1=x1, y1=y1, x2=x2, y2=y2)
