"""Demo data: the sample inbox and the seeded history generator (not part of the nightly product)."""
