"""The smoke run of every benchmark script."""
