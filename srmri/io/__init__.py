"""Files and errors: atomic writes, safe checkpoint reading and writing, plain hyperparameter
values, old checkpoints' names, and srmri's error classes."""
