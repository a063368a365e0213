"""Lightning callbacks a run adds to the trainer (``conf/callbacks/``): the NaN/Inf guard and the
global random states kept in checkpoints."""
