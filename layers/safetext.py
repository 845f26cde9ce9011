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
# every control/format character a one-line label must not carry (C0, DEL, C1, line/para
# separators, bidi overrides)
_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"
                       "\ud800-\udfff\ufeff\ufffe\uffff]")


def xml_safe(value) -> str:
    """``value`` as text with the characters XML 1.0 forbids removed."""
    return _XML_BAD.sub("", "" if value is None else str(value))


def one_line(value) -> str:
    """A label for one line: control and separator characters become spaces, runs collapse."""
    text = unicodedata.normalize("NFC", "" if value is None else str(value))
    return " ".join(_LINE_BAD.sub(" ", text).split())


def has_control(value: str) -> bool:
    """True when ``value`` contains a character :func:`one_line` would replace."""
    return bool(_LINE_BAD.search(value))
