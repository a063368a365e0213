"""Scripts that measure quality, speed and memory (``python -m benchmarks.<name>``) and write
``benchmarks/RESULTS.md``; ``common`` and ``results`` hold what they share."""
