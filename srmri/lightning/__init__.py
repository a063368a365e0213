"""The Lightning side: the one LightningModule (:mod:`~srmri.lightning.module`), its losses, EMA of
the weights, learning-rate schedules and the validation panels it logs."""
