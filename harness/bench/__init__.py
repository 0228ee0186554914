"""The benchmark's wing: ``make bench`` / ``labgrade bench`` and the generated class it grades (not used to grade)."""

import sys

#: The ``labgrade`` command as this interpreter runs it, whatever the venv's scripts folder is.
LABGRADE = (sys.executable, "-c", "from labgrade.harness.cli import entry_point; entry_point()")
