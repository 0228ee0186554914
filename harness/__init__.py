"""labgrade: a grading and verification harness for the PyTorch matrix-factorisation lab."""

__version__ = "0.1.0"
