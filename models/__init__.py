"""The token classifier's training side: data building, training, evaluation and its manifest.

Inference lives in :mod:`extractor.stages.classify`; this package produces the weights it loads
(``models/cell_classifier/``) with ``nianbao train``.
"""
