"""Read a user-supplied text file, turning every way it can fail into one clear message."""

from __future__ import annotations

from pathlib import Path

from labgrade.harness.errors import UserError


def read_user_text(path: Path, what: str, error: type[UserError] = UserError) -> tuple[bytes, str]:
    """Return the bytes and UTF-8 text of ``path``; raise ``error`` naming the file otherwise.

    Args:
        path: the file.
        what: what the file should be, for messages ("titles file", "YAML file").
        error: the :class:`UserError` subclass to raise.
    """
    try:
        raw = path.read_bytes()
        return raw, raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, expected a {what}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
