"""srmri: deep-learning super resolution for MRI."""

__version__ = "0.1.0"
