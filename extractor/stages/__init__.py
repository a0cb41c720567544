"""Page-understanding stages: pure functions over typed page records.

Each stage is a sub-package (``rasterise``, ``ocr``, ``layout``, ``grid``, ``cells``, ...) holding
its options, its stage class and, where several engines exist, one sibling module per engine.
The engines of every stage are built from their options by :mod:`extractor.stages.registry`.
"""
