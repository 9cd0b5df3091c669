"""Word segmentation for drafting: jieba with a private dictionary per draft, cached on disk.

jieba's module-level tokenizer is process-wide state: adding the registry's names to it (as
drafting must, so that 柳州螺蛳粉产业园 stays one word) would change how every later draft in the
same process segments, and a draft with a cut-back registry would see names it should not know.
So each draft gets its own tokenizer: a copy of the base dictionary plus that draft's words,
made active for the draft through a context variable (`using`).

Loading the base dictionary is most of a cold `kg draft`. jieba can keep the parsed prefix
dictionary in a cache file; by default it writes one into the system temp folder (shared by
all users, cleared at boot). Here the cache lives in a per-user cache folder (``$KG_CACHE_DIR``,
else ``$XDG_CACHE_HOME/yufeng-kg``, else ``~/.cache/yufeng-kg``); bench/draft_bench.py measures
what it saves. (jieba.posseg also reads dict.txt for its tag table when it is imported; that
cost is paid once per process whatever the cache, and its table is reused here.)
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

_ACTIVE: ContextVar["Segmenter | None"] = ContextVar("kg_draft_segmenter", default=None)


def cache_dir() -> Path:
    """The per-user cache folder for jieba's dictionary caches (created when missing)."""
    base = os.environ.get("KG_CACHE_DIR")
    if base:
        path = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        path = (Path(xdg) if xdg else Path.home() / ".cache") / "yufeng-kg"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return path
    except OSError:  # a read-only home: fall back to jieba's own choice
        return Path(tempfile.gettempdir())


@lru_cache(maxsize=1)
def _base():
    """(tokenizer, part-of-speech table) of jieba's general dictionary, loaded once per process.

    The prefix dictionary comes from the cache file in cache_dir() (jieba builds it from dict.txt
    and writes it there the first time). The part-of-speech table is the one jieba.posseg reads
    from dict.txt when it is imported (a cost every process pays, whatever the cache).
    """
    import jieba
    import jieba.posseg as pseg

    jieba.setLogLevel(60)
    tk = jieba.Tokenizer()
    tk.tmp_dir = str(cache_dir())
    tk.initialize()
    return tk, pseg.dt.word_tag_tab


class Segmenter:
    """A tokenizer (plain and part-of-speech) with extra words of its own.

    Args:
        words: names to keep whole (registry names, the genre lexicon).
    """

    def __init__(self, words: tuple[str, ...] = ()):
        import jieba
        import jieba.posseg as pseg

        base, tags = _base()
        tk = jieba.Tokenizer(base.dictionary)
        tk.tmp_dir = base.tmp_dir
        tk.FREQ, tk.total, tk.initialized = dict(base.FREQ), base.total, True
        for w in words:
            tk.add_word(w, freq=2000, tag="nz")
        pos = pseg.POSTokenizer.__new__(pseg.POSTokenizer)
        pos.tokenizer, pos.word_tag_tab = tk, dict(tags)
        self.tokenizer, self.pos = tk, pos
        self.general_freq = base.FREQ

    def cut(self, text: str) -> list[str]:
        return list(self.tokenizer.cut(text))

    def pos_cut(self, text: str) -> list[tuple[str, str]]:
        return [(p.word, p.flag) for p in self.pos.cut(text)]


@lru_cache(maxsize=4)
def segmenter(words: tuple[str, ...] = ()) -> Segmenter:
    """The segmenter for this set of words (cached: drafts with the same registry share it)."""
    return Segmenter(words)


@contextlib.contextmanager
def using(seg: Segmenter):
    """Make seg the segmenter of the code run inside the block (one draft)."""
    token = _ACTIVE.set(seg)
    try:
        yield seg
    finally:
        _ACTIVE.reset(token)


def active() -> Segmenter:
    """The segmenter of the current draft (one without extra words outside a draft)."""
    return _ACTIVE.get() or segmenter(())


def cut(text: str) -> list[str]:
    """Words of text (the current draft's dictionary)."""
    return active().cut(text)


def pos_cut(text: str) -> list[tuple[str, str]]:
    """(word, part-of-speech tag) pairs of text (the current draft's dictionary)."""
    return active().pos_cut(text)


def general_frequency(word: str) -> int:
    """How often jieba's general dictionary has seen word (0 when it is not a word there)."""
    return _base()[0].FREQ.get(word, 0)
