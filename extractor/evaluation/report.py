"""The evaluation report (what ``nianbao eval --json`` prints)."""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field


def _rate(part: int, whole: int) -> float | None:
    """`part / whole`, or None when there is nothing to divide by."""
    return part / whole if whole else None


class Accuracy(BaseModel):
    """A yes/no measure counted over documents."""

    correct: int = 0
    total: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rate(self) -> float | None:
        return _rate(self.correct, self.total)

    def add(self, ok: bool) -> None:
        self.total += 1
        self.correct += int(ok)


class FieldTally(BaseModel):
    """Counts over field comparisons, with the rates derived from them.

    A field is *compared* for every field id of the truth file. It is *predicted* when the
    prediction file holds an entry for it (whatever its value). A truth value of None means the
    cell is not printed on the report, so a prediction of None (or no entry) is right there.
    """

    fields: int = Field(0, description="truth fields compared")
    correct: int = Field(0, description="prediction equal to the truth (within tolerance)")
    with_value: int = Field(0, description="truth fields that hold a number")
    missing: int = Field(0, description="truth holds a number; prediction absent or None")
    predicted: int = Field(0, description="fields with an entry in the prediction")
    wrong_predicted: int = Field(0, description="predicted fields that are wrong")
    flagged: int = Field(0, description="predicted fields with status 'flagged'")
    flagged_wrong: int = Field(0, description="flagged fields that are wrong")
    silent_errors: int = Field(0, description="a predicted number that is wrong and not flagged")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def accuracy(self) -> float | None:
        return _rate(self.correct, self.fields)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def missing_rate(self) -> float | None:
        """Missing fields per truth field that holds a number."""
        return _rate(self.missing, self.with_value)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def silent_error_rate(self) -> float | None:
        """Silent errors per compared field: how much of the dataset is wrong without a warning."""
        return _rate(self.silent_errors, self.fields)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flag_rate(self) -> float | None:
        """Flagged per predicted field: the share of the review workload."""
        return _rate(self.flagged, self.predicted)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flag_precision(self) -> float | None:
        """Flagged fields that were wrong, per flagged field."""
        return _rate(self.flagged_wrong, self.flagged)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flag_recall(self) -> float | None:
        """Wrong predicted fields that were flagged, per wrong predicted field."""
        return _rate(self.flagged_wrong, self.wrong_predicted)


class GroupScore(BaseModel):
    """Documents and fields of one group (a difficulty level)."""

    documents: int = 0
    documents_all_right: int = 0
    fields: FieldTally = Field(default_factory=FieldTally)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def documents_all_right_rate(self) -> float | None:
        return _rate(self.documents_all_right, self.documents)


class DocumentScore(BaseModel):
    """How one document fared."""

    id: str
    level: str
    prediction: str = Field(description="ok | missing (no file) | unreadable (not a DocumentResult)")
    fields: FieldTally
    all_right: bool = Field(description="a prediction exists and every field is right")
    template_ok: bool
    agency_ok: bool | None = Field(None, description="None when the truth names no agency")
    year_ok: bool | None = Field(None, description="None when the truth has no year")
    published_ok: bool | None = Field(None, description="None when the truth has no publication date")
    wrong_fields: list[str] = Field(default_factory=list, description="field ids that are wrong or missing")


class EvalReport(BaseModel):
    """Scores of a prediction folder against a truth folder."""

    truth_dir: str
    pred_dir: str
    documents: int = 0
    documents_all_right: int = 0
    overall: FieldTally = Field(default_factory=FieldTally)
    by_section: dict[str, FieldTally] = Field(default_factory=dict, description="active | apply | appeal")
    by_level: dict[str, GroupScore] = Field(default_factory=dict, description="truth 'level'; 'unknown' if absent")
    template: Accuracy = Field(default_factory=Accuracy)
    agency: Accuracy = Field(default_factory=Accuracy, description="exact match (outer spaces ignored)")
    year: Accuracy = Field(default_factory=Accuracy)
    published: Accuracy = Field(default_factory=Accuracy, description="publication date, exact (YYYY-MM-DD)")
    missing_predictions: list[str] = Field(default_factory=list, description="ids with no <id>.json")
    unreadable_predictions: dict[str, str] = Field(default_factory=dict, description="id → why it was rejected")
    unmatched_predictions: list[str] = Field(default_factory=list, description="<id>.json with no truth file")
    truth_errors: dict[str, str] = Field(default_factory=dict, description="truth file → why it was skipped")
    per_document: list[DocumentScore] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def documents_all_right_rate(self) -> float | None:
        return _rate(self.documents_all_right, self.documents)
