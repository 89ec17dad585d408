"""Multi-word search with an Aho-Corasick automaton (`ahocorasick-rs`), for any text.

The automaton reads UTF-8, and a Python string may hold lone surrogates that UTF-8 cannot
carry: a PEP 263 cookie naming `unicode_escape` or `raw_unicode_escape` makes them from
`\\udcff` in the source. Such a text is searched with each lone surrogate replaced by `?`,
which keeps every index (one character for one), instead of failing the analyzer."""

from __future__ import annotations

from collections.abc import Iterable

from ahocorasick_rs import AhoCorasick, Implementation


def find(automaton: AhoCorasick, text: str, overlapping: bool = True) -> list[tuple[int, int, int]]:
    """(pattern index, start, end) of every match, as `find_matches_as_indexes`."""
    try:
        return automaton.find_matches_as_indexes(text, overlapping=overlapping)
    except UnicodeEncodeError:
        clean = text.encode("utf-8", "replace").decode("utf-8")
        return automaton.find_matches_as_indexes(clean, overlapping=overlapping)


class Words:
    """A fixed list of words, and which of them occur in a text (one pass of a DFA)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(dict.fromkeys(words))
        self.automaton = AhoCorasick(self.words, implementation=Implementation.DFA)

    def present(self, text: str) -> list[str]:
        """The words that occur in `text`, each once, in order of first occurrence."""
        return [self.words[i] for i in dict.fromkeys(m[0] for m in find(self.automaton, text))]
