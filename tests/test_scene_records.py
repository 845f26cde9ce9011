"""Scene helpers over columns: name lengths counted from the UTF-8 bytes, chunk by chunk."""
from __future__ import annotations

import random

import pytest

from planatlas.desktop.render import records
from planatlas.layers.colattrs import StringColumn


@pytest.mark.parametrize("chunk", [1, 3, 7, 1 << 22])
def test_char_counts_of_a_string_column_equal_len(monkeypatch, chunk):
    monkeypatch.setattr(records, "_CHUNK", chunk)
    rng = random.Random(chunk)
    for _ in range(40):
        names = ["".join(rng.choice("ab广州市🙂é ") for _ in range(rng.randint(0, 6)))
                 for _ in range(rng.randint(0, 40))]
        got = records.char_counts(StringColumn.from_list(names))
        assert got.tolist() == [len(n) for n in names]
