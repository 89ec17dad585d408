"""Multi-word search with an Aho-Corasick automaton (`ahocorasick-rs`), for any text.

The automaton reads UTF-8, and a Python string may hold lone surrogates that UTF-8 cannot
carry: a PEP 263 cookie naming `unicode_escape` or `raw_unicode_escape` makes them from
`\\udcff` in the source. Such a text is searched with each lone surrogate replaced by `?`,
which keeps every index (one character for one), instead of failing the analyzer."""

from __future__ import annotations

from ahocorasick_rs import AhoCorasick


def find(automaton: AhoCorasick, text: str, overlapping: bool = True) -> list[tuple[int, int, int]]:
    """(pattern index, start, end) of every match, as `find_matches_as_indexes`."""
    try:
        return automaton.find_matches_as_indexes(text, overlapping=overlapping)
    except UnicodeEncodeError:
        clean = text.encode("utf-8", "replace").decode("utf-8")
        return automaton.find_matches_as_indexes(clean, overlapping=overlapping)
