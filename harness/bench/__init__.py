"""The benchmark's wing: ``make bench`` / ``labgrade bench`` and the generated class it grades (not used to grade)."""
