# Copyright 2026 The GVE package authors. Apache-2.0.
"""Annotation rectification (V-SynFlow stage 1, paper §3.2): clean captions and drop the
non-descriptive ones, by configurable rules.

A caption is first stripped of boilerplate (``strip_patterns``: URLs, hashtags, stock-footage
tags...), then dropped by the first rule it fails, in this order: ``empty``, ``pattern``
(``drop_patterns``: file names, "untitled", "no caption"...), ``too_short`` / ``too_long``
(words), ``non_alpha`` (share of letters), ``repetitive`` (one word dominates), and, over the
whole input, ``shared_caption`` (the same caption on more than ``max_videos_per_caption``
videos says nothing specific about any of them). The rules are ours: the paper names the step
without rules. The last one borrows the rule §A.4 applies when preparing the public WebVid data.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Sequence

from .config import QualityArguments
from .sources import SourceVideo

DEFAULT_STRIP_PATTERNS = [
    r"https?://\S+|www\.\S+",  # links
    r"(?<!\w)[#@][\w-]+",  # hashtags, handles
    r"\b(?:stock\s+(?:footage|video|clip)|royalty[\s-]free|free\s+download)\b",
    r"\b(?:4k|8k|uhd|ultra\s+hd|full\s+hd|hd|1080p|720p|2160p|60\s?fps|30\s?fps)\b",
    r"\bshot\s+on\s+\w+\b",
]
DEFAULT_DROP_PATTERNS = [
    r"^\S+\.(?:mp4|mov|avi|mkv|webm|m4v|wmv|flv|jpe?g|png|gif)$",  # a file name
    r"^(?:img|dsc|dji|vid|mov|gopr|mvi|pxl)[_-]?\d+\b",  # camera file names
    r"^(?:untitled|no\s+(?:caption|description|title)|none|null|n/?a|video|clip|test|footage|image|photo)\W*$",
    r"^(?:click|subscribe|follow|like)\b",  # calls to action
]


@dataclass
class RectificationRules:
    """The rules (see the module docstring); ``from_args`` reads them from the settings."""

    min_words: int = 3
    max_words: int | None = 300
    min_alpha_ratio: float = 0.5
    max_word_repeat_ratio: float = 0.5
    strip_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_STRIP_PATTERNS))
    drop_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_DROP_PATTERNS))
    max_videos_per_caption: int | None = 1

    def __post_init__(self):
        self._strip = [_compile(p, "strip_patterns") for p in self.strip_patterns]
        self._drop = [_compile(p, "drop_patterns") for p in self.drop_patterns]

    @classmethod
    def from_args(cls, args: QualityArguments) -> "RectificationRules":
        return cls(
            min_words=args.min_words,
            max_words=args.max_words,
            min_alpha_ratio=args.min_alpha_ratio,
            max_word_repeat_ratio=args.max_word_repeat_ratio,
            strip_patterns=list(DEFAULT_STRIP_PATTERNS if args.strip_patterns is None else args.strip_patterns),
            drop_patterns=list(DEFAULT_DROP_PATTERNS if args.drop_patterns is None else args.drop_patterns),
            max_videos_per_caption=args.max_videos_per_caption,
        )

    def clean(self, caption: str) -> str:
        """The caption with boilerplate removed and whitespace/punctuation runs tidied."""
        text = caption
        for pattern in self._strip:
            text = pattern.sub(" ", text)
        text = re.sub(r"\s+([,.;:!?])", r"\1", text)
        text = re.sub(r"([,.;:!?])(?:\s*[,.;:!?])+", r"\1", text)  # ". ," left behind by stripping
        text = re.sub(r"\s+", " ", text).strip(" -|,;:")
        return text

    def check(self, caption: str) -> tuple[str, str | None]:
        """``(cleaned caption, None)`` or ``(cleaned caption, reason it is dropped)`` for one caption
        (the per-caption rules; `rectify` adds the ``shared_caption`` rule)."""
        text = self.clean(caption)
        if not text:
            return text, "empty"
        for pattern in self._drop:
            if pattern.search(text):
                return text, "pattern"
        words = text.split()
        if len(words) < self.min_words:
            return text, "too_short"
        if self.max_words is not None and len(words) > self.max_words:
            return text, "too_long"
        letters = sum(ch.isalpha() for ch in text)
        if letters / max(1, sum(not ch.isspace() for ch in text)) < self.min_alpha_ratio:
            return text, "non_alpha"
        if len(words) >= 6:
            top = Counter(w.lower().strip(".,;:!?") for w in words).most_common(1)[0][1]
            if top / len(words) > self.max_word_repeat_ratio:
                return text, "repetitive"
        return text, None


def _compile(pattern: str, setting: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as err:
        raise ValueError(f"{setting}: invalid regular expression {pattern!r}: {err}") from None


def rectify(sources: Sequence[SourceVideo], rules: RectificationRules) -> tuple[list[SourceVideo], dict[str, str]]:
    """Apply the rules to every input pair.

    Returns:
        ``(kept, dropped)``: kept pairs with cleaned captions (input order), and
        ``{video id: reason}`` for the dropped ones.
    """
    checked, dropped = [], {}
    for source in sources:
        text, reason = rules.check(source.caption)
        if reason:
            dropped[source.id] = reason
        else:
            checked.append(replace(source, caption=text))
    if rules.max_videos_per_caption is not None:
        counts = Counter(_normalise(s.caption) for s in checked)
        kept = []
        for source in checked:
            if counts[_normalise(source.caption)] > rules.max_videos_per_caption:
                dropped[source.id] = "shared_caption"
            else:
                kept.append(source)
        return kept, dropped
    return checked, dropped


def _normalise(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


__all__ = ["DEFAULT_DROP_PATTERNS", "DEFAULT_STRIP_PATTERNS", "RectificationRules", "rectify"]
