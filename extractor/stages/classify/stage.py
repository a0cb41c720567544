"""The classifier engine: load shipped weights, label every cell of a list of tables."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from extractor.datamodel import Table
from extractor.stages.classify.calibration import Calibration
from extractor.stages.classify.combine import CombineMode
from extractor.stages.classify.features import PAD, encode_table
from extractor.stages.classify.labels import OTHER

_log = logging.getLogger(__name__)

# The weights shipped with the repository (written by `nianbao train`).
DEFAULT_ARTIFACTS = Path(__file__).resolve().parents[3] / "models" / "cell_classifier"
# Files of an artifacts folder besides the transformers config and weights.
VOCAB_FILE = "vocab.json"
# Sequences run through the model at once.
_BATCH = 16


class ClassifyOptions(BaseModel):
    """Options of the cell classifier."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="False: no cell is classified (the rule-based matcher alone)")
    artifacts_path: Path = Field(DEFAULT_ARTIFACTS, description="folder with config.json, model.safetensors, vocab.json")
    threads: int = Field(2, description="torch CPU threads")
    mode: CombineMode = Field(
        CombineMode.RULES_FIRST, description="how classifier readings combine with the rule-based matcher's"
    )


@dataclass(frozen=True)
class CellPrediction:
    """The role of one cell."""

    label: str  # most probable label
    prob: float  # its probability (mean over the cell's tokens), in [0, 1]
    probs: dict[str, float]  # the few most probable labels and their probabilities


@dataclass(frozen=True)
class TablePrediction:
    """Roles of the cells of one table, in ``table.cells`` order."""

    cells: list[CellPrediction]


class ClassifyStage:
    """LayoutLM token classification over the characters of table cells.

    Raises:
        FileNotFoundError: the artifacts folder holds no trained model.
        ImportError: torch or transformers is not installed (``pip install nianbao[train]``).
    """

    def __init__(self, options: ClassifyOptions | None = None) -> None:
        self.options = options or ClassifyOptions()
        self.model = None
        self.calibration: Calibration | None = None  # None: raw scores are used as they are
        if not self.options.enabled:
            return
        path = Path(self.options.artifacts_path)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"no classifier in {path} (run `nianbao train`)")
        # Weights come from the local folder only; nothing is downloaded at run time.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from transformers import LayoutLMForTokenClassification
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise ImportError(f"the cell classifier needs torch and transformers: {exc}") from exc
        hf_logging.disable_progress_bar()  # a bar per load clutters batch logs
        torch.set_num_threads(self.options.threads)
        self._torch = torch
        self.model = LayoutLMForTokenClassification.from_pretrained(path, local_files_only=True).eval()
        self.vocab: dict[str, int] = json.loads((path / VOCAB_FILE).read_text(encoding="utf-8"))
        self.labels: list[str] = [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]
        self.calibration = Calibration.load(path)

    def predict(self, tables: list[Table]) -> list[TablePrediction]:
        """Label every cell of every table (empty predictions when disabled)."""
        if self.model is None:
            return [TablePrediction(cells=[CellPrediction(OTHER, 0.0, {}) for _ in t.cells]) for t in tables]
        probs = self.cell_probabilities(tables)
        return [TablePrediction(cells=[self._cell(p) for p in table_probs]) for table_probs in probs]

    def cell_probabilities(self, tables: list[Table]):
        """Per table an array (cells × labels) of label probabilities, each the mean over the cell's tokens."""
        import numpy as np

        torch = self._torch
        seqs = [(t, s) for t, table in enumerate(tables) for s in encode_table(table, self.vocab)]
        sums = [np.zeros((len(table.cells), len(self.labels))) for table in tables]
        counts = [np.zeros(len(table.cells)) for table in tables]
        for start in range(0, len(seqs), _BATCH):
            batch = seqs[start : start + _BATCH]
            width = max(len(s.input_ids) for _, s in batch)
            ids = torch.full((len(batch), width), self.vocab[PAD], dtype=torch.long)
            boxes = torch.zeros((len(batch), width, 4), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for b, (_, s) in enumerate(batch):
                n = len(s.input_ids)
                ids[b, :n] = torch.tensor(s.input_ids)
                boxes[b, :n] = torch.tensor(s.bbox)
                mask[b, :n] = 1
            with torch.inference_mode():
                logits = self.model(input_ids=ids, bbox=boxes, attention_mask=mask).logits
            p = torch.softmax(logits, dim=-1).numpy()
            for b, (t, s) in enumerate(batch):
                for k, cell in enumerate(s.cell_index):
                    if cell >= 0:
                        sums[t][cell] += p[b, k]
                        counts[t][cell] += 1
        return [s / np.maximum(c, 1)[:, None] for s, c in zip(sums, counts)]

    def _cell(self, p) -> CellPrediction:
        order = p.argsort()[::-1][:3]
        return CellPrediction(
            label=self.labels[order[0]],
            prob=float(p[order[0]]),
            probs={self.labels[i]: round(float(p[i]), 4) for i in order},
        )
