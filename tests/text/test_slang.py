"""Slang dictionaries: kamusalay loader, merge rules, protected terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from pantau.text import Normaliser, build_slang_map, load_kamusalay, resources


def test_load_kamusalay_latin1_and_skips(tmp_path: Path) -> None:
    path = tmp_path / "kamus.csv"
    rows = "gw,gue\ngue,saya\naseng,asing\nchina,cina\nbtw\nsama,sama\ncafé,kafe\nx!,y\n"
    path.write_bytes(rows.encode("latin-1"))
    loaded = load_kamusalay(path)
    assert loaded == {"gw": "gue", "gue": "saya", "café": "kafe"}


def test_build_slang_map_resolves_chains_and_drops_cycles() -> None:
    merged = build_slang_map({"gw": "gue", "gue": "saya", "a1": "b1", "b1": "a1", "jd": "j"})
    assert merged["gw"] == "saya" and merged["gue"] == "saya"
    assert "a1" not in merged and "b1" not in merged  # a cycle
    assert "jd" not in merged  # single letters could be re-joined by the spaced-letter repair


def test_protected_keys_never_enter_a_slang_map() -> None:
    merged = build_slang_map({"kadrun": "kadal", "cebong": "berudu", "bali": "bal", "gk": "tidak"})
    assert merged == {"gk": "tidak"}


def test_core_slang_values_are_stable() -> None:
    core = build_slang_map(resources.core_slang())
    assert len(core) >= 100
    norm = Normaliser()
    for value in core.values():
        assert norm.normalise(value) == value


@pytest.mark.realdata
def test_real_kamusalay(shared_data: Path) -> None:
    loaded = load_kamusalay(shared_data / "ibrohim2019" / "new_kamusalay.csv")
    assert len(loaded) > 10_000
    protected = resources.protected_words()
    assert not protected & set(loaded)  # aseng -> asing and china -> cina are gone
    merged = build_slang_map(loaded, resources.core_slang())
    norm = Normaliser(slang_map=merged)
    assert norm.normalise("aseng china yg gk jelas") == "aseng china yang tidak jelas"
    for value in list(norm.slang.values())[:3000]:
        assert norm.normalise(value) == value
