"""Runs of ``train.py``, ``evaluate.py`` and ``predict.py``: experiments, sweeps, reliability."""
