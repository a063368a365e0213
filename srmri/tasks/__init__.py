"""What the entry points run (``train.py``, ``evaluate.py``, ``predict.py``), and what a run needs
around it: the config check, tree and redaction, loggers, resume, and multirun sweep summaries."""
