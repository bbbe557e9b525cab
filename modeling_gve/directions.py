# Copyright 2026 The GVE package authors. Apache-2.0.
"""Task directions: what a query holds and what it retrieves, spelled ``T2V``, ``TI2V``, ``TV2V``...

A direction is a pair of modality sets written with one letter per modality (``T`` text, ``I``
image, ``V`` video, always in that order), the query's letters, ``2``, the candidates' letters.
This module is the one home of that vocabulary:

* `Direction`, `parse` (``"TI2V"`` -> value) and `of` (modalities -> value);
* `INSTRUCTIONS`, the query instruction (system turn) of each direction: training tasks without an
  instruction in the mixture, hard-negative mining in V-SynFlow and ``gve search`` read it, so
  negatives are mined and folders searched with the query embeddings training produces.
  Candidates always get the processor's default instruction;
* `PYRAMID_TIERS`, the Modality Pyramid tier of each direction (paper §3.3, Figure 5).

How each instruction was chosen: a direction UVRB evaluates takes the prompt of one of its UVRB
tasks, the wording GVE is scored with (`UVRB_WORDING`: T2V takes DREAM-E's, the one of the twelve
T2V tasks without a dataset-specific angle; V2V takes LoVR-C2V's, the only clip -> video task). The
other directions keep the training recipe's wording (the paper does not publish its own).

    >>> from modeling_gve.directions import parse
    >>> direction = parse("TI2V")
    >>> sorted(direction.query), sorted(direction.candidate), direction.tier
    (['image', 'text'], ['video'], 4)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .suggest import did_you_mean
from .uvrb.tasks import TASKS as UVRB_TASKS

Modality = Literal["text", "image", "video"]
MODALITIES: tuple[Modality, ...] = ("text", "image", "video")
LETTERS: dict[str, str] = {"text": "T", "image": "I", "video": "V"}

# Directions UVRB evaluates -> the UVRB task whose prompt is their instruction (see above).
UVRB_WORDING: dict[str, str] = {
    "T2V": "DREAM-E",
    "I2V": "MSRVTT-I2V",
    "V2V": "LoVR-C2V",
    "TI2V": "MS-TI",
    "TV2V": "MS-TV",
}

INSTRUCTIONS: dict[str, str] = {
    "T2T": "Retrieve the text that matches the given text.",
    "T2I": "Find an image that matches the given text.",
    "I2T": "Find a text that describes the given image.",
    "I2I": "Find an image similar to the given image.",
    "TI2T": "Find a text that answers the given question about the given image.",
    "TI2I": "Find the image that matches the given image modified by the given text.",
    "TI2TI": "Find an image and text that match the given image and text.",
    "T2TI": "Find an image and text that match the given text.",
    **{direction: UVRB_TASKS[task].prompt for direction, task in UVRB_WORDING.items()},
}

# Foundation -> top (paper Figure 5 / §3.3).
PYRAMID_TIERS: tuple[tuple[str, ...], ...] = (
    ("T2T", "T2I"),
    ("TI2I", "TI2T", "TI2TI", "I2I"),
    ("T2V", "I2V", "V2V"),
    ("TI2V", "TV2V"),
)


def letters(modalities: Iterable[str]) -> str:
    """``{"video", "text"}`` -> ``"TV"`` (canonical order T, I, V)."""
    chosen = set(modalities)
    unknown = sorted(chosen - set(MODALITIES))
    if unknown:
        raise ValueError(f"unknown modality {unknown[0]!r}; modalities are {', '.join(MODALITIES)}")
    return "".join(LETTERS[m] for m in MODALITIES if m in chosen)


@dataclass(frozen=True)
class Direction:
    """What a query holds (``query``) and what it retrieves (``candidate``): non-empty modality sets."""

    query: frozenset[str]
    candidate: frozenset[str]

    def __post_init__(self) -> None:
        for side in ("query", "candidate"):
            value = frozenset(getattr(self, side))
            if not value:
                raise ValueError(f"a direction needs at least one {side} modality")
            letters(value)  # unknown modalities fail here
            object.__setattr__(self, side, value)

    @property
    def name(self) -> str:
        """``"TI2V"``."""
        return f"{letters(self.query)}2{letters(self.candidate)}"

    def __str__(self) -> str:
        return self.name

    @property
    def instruction(self) -> str:
        """The query instruction of this direction (`INSTRUCTIONS`).

        Raises:
            ValueError: the table has none for this direction (give the task its own instruction).
        """
        if self.name not in INSTRUCTIONS:
            raise ValueError(
                f"no query instruction for direction {self.name!r}: modeling_gve.directions.INSTRUCTIONS "
                f"has {', '.join(INSTRUCTIONS)}; give this task its own instruction"
            )
        return INSTRUCTIONS[self.name]

    @property
    def tier(self) -> int:
        """Modality Pyramid tier (1-4): the paper's four tiers, extended by modality to directions it
        does not list. A video with a composed query (or composed target) is tier 4, other video
        tasks tier 3, composed or image-to-image tasks tier 2 (``T2TI``, ``I2I``), single-modality
        text/image pairs tier 1 (``T2T``, ``T2I``, ``I2T``)."""
        for tier, names in enumerate(PYRAMID_TIERS, start=1):
            if self.name in names:
                return tier
        composed = len(self.query) > 1 or len(self.candidate) > 1
        if "video" in self.query | self.candidate:
            return 4 if composed else 3
        return 2 if composed or self.query == self.candidate == {"image"} else 1


def of(query: Iterable[str], candidate: Iterable[str]) -> Direction:
    """The direction from a query's modalities to candidates' (``of(["text", "image"], ["video"])`` is TI2V)."""
    return Direction(frozenset(query), frozenset(candidate))


def parse(name: str | Direction) -> Direction:
    """``"TI2V"`` -> `Direction` (a `Direction` is returned as it is).

    Raises:
        ValueError: ``name`` is not ``<letters>2<letters>`` with letters T, I, V in that order.
    """
    if isinstance(name, Direction):
        return name
    by_letter = {letter: modality for modality, letter in LETTERS.items()}
    query, sep, candidate = str(name).partition("2")
    sides = [[by_letter.get(c) for c in side] for side in (query, candidate)]
    valid = sep and all(side and None not in side for side in sides)
    direction = of(*sides) if valid else None
    if direction is None or direction.name != name:
        hint = f"; did you mean {direction.name!r}?" if direction is not None else did_you_mean(name, INSTRUCTIONS)
        raise ValueError(
            f"not a task direction: {name!r}{hint} A direction is the query's modality letters, '2', the "
            "candidates' letters, with T (text), I (image), V (video) in that order, e.g. 'T2V', 'TI2V'"
        )
    return direction


def instruction(direction: str | Direction) -> str:
    """The query instruction of ``direction`` (``"T2V"`` or a `Direction`); see `Direction.instruction`."""
    return parse(direction).instruction


def tier(direction: str | Direction) -> int:
    """The Modality Pyramid tier of ``direction``; see `Direction.tier`."""
    return parse(direction).tier


__all__ = [
    "INSTRUCTIONS",
    "LETTERS",
    "MODALITIES",
    "PYRAMID_TIERS",
    "UVRB_WORDING",
    "Direction",
    "Modality",
    "instruction",
    "letters",
    "of",
    "parse",
    "tier",
]
