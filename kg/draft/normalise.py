"""Text normalisation with an offset map back to code points of the original file.

The sources are set in narrow columns: words are broken across lines and digits and characters
are spaced out ("2023 年 ， 鱼 峰 区"). Matching runs on the *compact* text (all white space
removed, full-width digits and signs folded to ASCII), and every match is mapped back to a
[start, end) span of the original text, which is what the fact files store.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_FOLD = {**{chr(0xFF10 + i): str(i) for i in range(10)}, "％": "%", "．": ".", "﹪": "%"}
_SENTENCE_END = "。！？!?"
_CLAUSE_END = "。！？!?，,；;：:"


@dataclass
class Text:
    """A document as written and its compact form.

    Attributes:
        original: the file's text, exactly.
        compact: the text without white space, digits folded.
        offsets: offsets[i] is the original code point of compact[i].
    """

    original: str
    compact: str
    offsets: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) of compact [start, end)."""
        if end <= start:
            raise ValueError(f"empty compact span {start}-{end}")
        return self.offsets[start], self.offsets[end - 1] + 1

    def sentence(self, pos: int) -> tuple[int, int]:
        """Compact [start, end) of the sentence around pos (ends at 。！？)."""
        return _around(self.compact, pos, _SENTENCE_END)

    def clause(self, pos: int) -> tuple[int, int]:
        """Compact [start, end) of the clause around pos (ends at ，；：。 and the like)."""
        return _around(self.compact, pos, _CLAUSE_END)


def _around(text: str, pos: int, ends: str) -> tuple[int, int]:
    start = pos
    while start > 0 and text[start - 1] not in ends:
        start -= 1
    end = pos
    while end < len(text) and text[end] not in ends:
        end += 1
    return start, min(end + 1, len(text))


def normalise(original: str) -> Text:
    """Build the compact text and its offset map."""
    chars, offsets = [], []
    for i, ch in enumerate(original):
        if ch.isspace():
            continue
        chars.append(_FOLD.get(ch, ch))
        offsets.append(i)
    return Text(original, "".join(chars), offsets)


def sentences(text: Text) -> list[tuple[int, int]]:
    """Compact spans of every sentence, in order."""
    out, start = [], 0
    for m in re.finditer(f"[{_SENTENCE_END}]", text.compact):
        out.append((start, m.end()))
        start = m.end()
    if start < len(text.compact):
        out.append((start, len(text.compact)))
    return out
