"""Parse what follows the matched 町字: an optional 小字 name, the 地番, and trailing text such as a building."""

from __future__ import annotations

from dataclasses import dataclass

from .normalize import CHIBAN_HEADS, DASHES, IROHA, KANJI_NUMERALS, is_katakana, kanji_to_int

# Longest first: 番地の before 番地 before 番.
_SEPARATORS = ("番地の", "番地", "番", "号", "の", "ノ", "之", *DASHES)
_SEP_CHARS = frozenset("のノ之" + DASHES)


@dataclass(frozen=True)
class RestParts:
    """The remainder after the 町字, split into leading text, 地番 and trailing text."""

    prefix: str
    chiban: str | None
    tail: str

    def text(self) -> str:
        """The remainder as one string: prefix + 地番, then a space and the trailing text."""
        out = self.prefix + (self.chiban or "")
        if self.tail:
            return f"{out} {self.tail}" if out else self.tail
        return out


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _kanji_run_end(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in KANJI_NUMERALS:
        i += 1
    return i


def _kanji_is_number(s: str, end: int) -> bool:
    # A kanji numeral counts as a number only where a 地番 can continue, so 一ノ坂 and 三間坂 stay names.
    if end >= len(s):
        return True
    c = s[end]
    if c in " -番号":
        return True
    if c in _SEP_CHARS and end + 1 < len(s):
        nxt = s[end + 1]
        return _is_digit(nxt) or nxt in KANJI_NUMERALS
    return False


def _head_before(s: str, i: int) -> bool:
    if i == 0 or s[i - 1] not in CHIBAN_HEADS:
        return False
    # A katakana head must stand alone (ロ13), not end a katakana word (コーポラス101).
    return not (is_katakana(s[i - 1]) and i >= 2 and is_katakana(s[i - 2]))


def _find_start(s: str) -> int:
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if _is_digit(c):
            return i - 1 if _head_before(s, i) else i
        if c in KANJI_NUMERALS:
            end = _kanji_run_end(s, i)
            if _kanji_is_number(s, end):
                return i - 1 if _head_before(s, i) else i
            i = end
            continue
        i += 1
    return -1


def _read_number(s: str, i: int) -> tuple[str | None, int]:
    n = len(s)
    if i < n and _is_digit(s[i]):
        j = i
        while j < n and _is_digit(s[j]):
            j += 1
        return str(int(s[i:j])), j
    if i < n and s[i] in KANJI_NUMERALS:
        j = _kanji_run_end(s, i)
        if _kanji_is_number(s, j):
            return str(kanji_to_int(s[i:j])), j
    return None, i


def _read_branch(s: str, i: int) -> str | None:
    # いろは branch (360番地ロ): one katakana letter not followed by more katakana.
    if i < len(s) and s[i] in IROHA and (i + 1 == len(s) or not is_katakana(s[i + 1])):
        return s[i]
    return None


def _match_separator(s: str, i: int) -> int:
    for sep in _SEPARATORS:
        if s.startswith(sep, i):
            return i + len(sep)
    return i


def parse_rest(rest: str) -> RestParts:
    """Split the text after the 町字 and normalise its 地番 (kanji numerals are converted only here)."""
    s = rest.strip(" -")
    start = _find_start(s)
    if start < 0:
        return RestParts(s, None, "")
    prefix = s[:start].strip()
    pos = start
    head = ""
    if s[pos] in CHIBAN_HEADS:
        head = s[pos]
        pos += 1
    first, pos = _read_number(s, pos)
    parts = [first or ""]
    n = len(s)
    while pos < n:
        after_sep = _match_separator(s, pos)
        if after_sep > pos:
            number, nxt = _read_number(s, after_sep)
            if number is not None:
                parts.append(number)
                pos = nxt
                continue
            branch = _read_branch(s, after_sep)
            if branch:
                parts.append(branch)
                pos = after_sep + 1
                continue
            pos = after_sep  # a trailing 番地/号/- closes the 地番
            break
        branch = _read_branch(s, pos)
        if branch:
            parts.append(branch)
            pos += 1
            continue
        break
    return RestParts(prefix, head + "-".join(parts), s[pos:].strip(" -"))
