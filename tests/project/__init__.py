"""The repository itself: its docs, its wheel, its benchmarks."""
