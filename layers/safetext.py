"""Text that is safe where it goes: XML/SVG/XLSX cells, one-line labels (titles, ids), TOML.

Plan texts, survey files and command-line arguments can carry control characters (``\\x0b``,
``\\x0c``, ``\\x7f``, NEL …), lone surrogates and Unicode line separators. XML 1.0 forbids most
C0 controls even as character references, TOML forbids them in strings, and a title is one line.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["xml_safe", "one_line", "has_control"]

# XML 1.0 Char excludes C0 controls other than TAB/LF/CR, U+FFFE/U+FFFF and surrogates
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# in a one-line label white-space controls and separators become spaces; every other control
# or format character (C0, DEL, C1, bidi overrides, BOM, surrogates) is dropped
_LINE_SPACE = re.compile("[\t\n\x0b\x0c\r\x1c-\x1f\x85\u2028\u2029]")
_LINE_DROP = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200e\u200f\u202a-\u202e"
                        "\u2066-\u2069\ud800-\udfff\ufeff\ufffe\uffff]")


def xml_safe(value) -> str:
    """``value`` as text with the characters XML 1.0 forbids removed."""
    return _XML_BAD.sub("", "" if value is None else str(value))


def one_line(value) -> str:
    """A label for one line: line breaks and tabs become spaces, other control and format
    characters are dropped, runs of spaces collapse (``"a\x7fb"`` → ``"ab"``)."""
    text = "" if value is None else str(value)
    text = _LINE_DROP.sub("", _LINE_SPACE.sub(" ", text))
    return " ".join(unicodedata.normalize("NFC", text).split())


def has_control(value: str) -> bool:
    """True when ``value`` contains a character :func:`one_line` would change."""
    return bool(_LINE_SPACE.search(value) or _LINE_DROP.search(value))
