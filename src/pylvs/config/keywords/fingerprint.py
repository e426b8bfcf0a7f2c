"""HAProxy's word fingerprints: how it finds the known word closest to a mistyped one (src/tools.c
update_word_fingerprint / make_word_fingerprint / word_fingerprint_distance; src/action.c
action_suggest; the CLI's keyword help, control/haproxy/keywords.py).

A fingerprint counts, in 8-bit counters, the transitions between character classes (a..z
case-folded, a digit, anything else; the start and the end of a word are "anything else"), and
marks the classes seen; the distance between two is the sum of their differences.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def fingerprint(words: Sequence[str]) -> list[int]:
    """update_word_fingerprint over several words: letter-class transitions, 8-bit counters."""
    fp = [0] * 1024
    for word in words:
        prev = 28  # begin
        for ch in word:
            # tolower() in the C locale: ASCII only ('İ'.lower() is two characters)
            c = chr(ord(ch) | 0x20) if "A" <= ch <= "Z" else ch
            if "a" <= c <= "z":
                cur = ord(c) - ord("a") + 1
            elif "0" <= c <= "9":
                cur = 27
            else:
                cur = 28
            fp[cur] = 1
            fp[32 * prev + cur] = (fp[32 * prev + cur] + 1) & 0xFF
            prev = cur
        fp[32 * prev + 28] = (fp[32 * prev + 28] + 1) & 0xFF
    return fp


def distance(a: list[int], b: list[int]) -> int:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True))


def closest(word: str, known: Iterable[str], prefix: frozenset[str] = frozenset()) -> str | None:
    """action_suggest, cfgparse.c cfg_find_best_match, proxy.c proxy_find_best_option: the
    known word nearest to `word`, the first of equals; None when it is more than twice as far
    as either word is long (three times for the words in `prefix`, matched by prefix:
    `track-sc`).  haproxy 2.6.12 suggests 'set-dst' for `http-request set-status`: one update
    per word (at 12 from it, where two would put it at 21, past 2 x 7)."""
    if not word:
        return None
    mine = fingerprint((word,))
    best, best_dist = None, 0
    for kw in known:
        dist = distance(mine, fingerprint((kw,)))
        if best is None or dist < best_dist:
            best, best_dist = kw, dist
    if best is None:
        return None
    room = 3 if best in prefix else 2
    if best_dist > room * len(word) or best_dist > room * len(best):
        return None
    return best
