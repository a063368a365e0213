"""In-process tests, one folder per package folder (``tests/unit/io/`` tests ``srmri/io/``)."""
