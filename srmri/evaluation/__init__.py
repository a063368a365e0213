"""The study's evaluation, done right: every method against HR and bicubic, per slice, view and angle.

``evaluate.py`` calls :func:`evaluate` with the composed ``conf/evaluate.yaml``. The parts:

- :mod:`~srmri.evaluation.settings`: the evaluation keys of the config, checked;
- :mod:`~srmri.evaluation.comparison`: models from checkpoints, baselines, scale, degradation and
  normalisation (:mod:`~srmri.evaluation.methods`, :mod:`~srmri.evaluation.lanczos`);
- :mod:`~srmri.evaluation.study`: the pass over volumes, views, slices and angles
  (:mod:`~srmri.evaluation.rotation`, :mod:`~srmri.evaluation.reach`,
  :mod:`~srmri.evaluation.brain_mask`), scored with :mod:`srmri.metrics` only;
- :mod:`~srmri.evaluation.statistics`, :mod:`~srmri.evaluation.figures`,
  :mod:`~srmri.evaluation.markdown`, :mod:`~srmri.evaluation.report`,
  :mod:`~srmri.evaluation.tracking`: what is written and logged.
"""

from srmri.evaluation.task import evaluate

__all__ = ["evaluate"]
