"""The study's evaluation, done right: every method against HR and bicubic, per slice, view and angle.

``evaluate.py`` runs :func:`srmri.tasks.evaluate.evaluate` with the composed
``conf/evaluate.yaml``, which uses the parts here:

- :mod:`~srmri.evaluation.settings`: the evaluation keys of the config, checked;
- :mod:`~srmri.evaluation.comparison`: models from checkpoints, baselines, scale, degradation and
  normalisation (:mod:`~srmri.evaluation.methods`, :mod:`~srmri.models.interpolation`);
- :mod:`~srmri.evaluation.study`: the pass over volumes, views, slices and angles
  (:mod:`~srmri.evaluation.rotation`, :mod:`~srmri.evaluation.reach`,
  :mod:`~srmri.data.brain_mask`), scored with :mod:`srmri.metrics` only;
- :mod:`~srmri.evaluation.statistics`, :mod:`~srmri.evaluation.figures` and
  :mod:`~srmri.evaluation.report`: what is written and logged.
"""
