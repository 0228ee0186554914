"""Does `make install` explain missing Pango or fonts instead of letting WeasyPrint crash?"""

from __future__ import annotations

import pytest

from labgrade.harness import syscheck


def test_passes_on_this_machine() -> None:
    assert syscheck.main() == 0


def test_missing_pango_and_fonts_print_the_install_command(monkeypatch, capsys) -> None:
    monkeypatch.setattr(syscheck.ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(syscheck, "has_fonts", lambda: False)
    monkeypatch.setattr(syscheck.platform, "system", lambda: "Linux")
    assert syscheck.main() == 1
    err = capsys.readouterr().err
    assert "missing library: Pango" in err and "no fonts installed" in err
    assert "apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core" in err


@pytest.mark.parametrize(("system", "hint"), [("Darwin", "brew install pango"), ("Linux", "apt-get")])
def test_hint_fits_the_system(monkeypatch, system: str, hint: str) -> None:
    monkeypatch.setattr(syscheck.platform, "system", lambda: system)
    assert hint in syscheck.install_hint()
