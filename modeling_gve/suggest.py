# Copyright 2026 The GVE package authors. Apache-2.0.
""" "Did you mean" for unknown names: settings keys, command-line options, task names.

Standard library only, so that the command line can answer a typo before it loads torch.
`processing_gve.did_you_mean` is the same rule for the remote-code files, which are copied
into checkpoints and may import nothing of this package.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn


def did_you_mean(name: Any, valid: Iterable[Any], cutoff: float = 0.6) -> str:
    """The tail of an "unknown name" error: ``"; did you mean 'x'?"`` for the entry of ``valid``
    closest to ``name`` (a case-insensitive match first, then `difflib` with ``cutoff``), or
    ``"."`` when none is close.

    >>> "Unknown key 'max_frame'" + did_you_mean("max_frame", ["max_frames", "fps"])
    "Unknown key 'max_frame'; did you mean 'max_frames'?"
    """
    valid = [str(v) for v in valid]
    hint = {v.lower(): v for v in valid}.get(str(name).lower())
    if hint is None:
        close = difflib.get_close_matches(str(name), valid, n=1, cutoff=cutoff)
        hint = close[0] if close else None
    return f"; did you mean {hint!r}?" if hint else "."


def unknown_key_error(key: str, valid: Sequence[str], where: str) -> ValueError:
    """The error for a key that is not a setting, with a "did you mean" and the valid keys."""
    return ValueError(
        f"Unknown key {key!r} in {where}{did_you_mean(key, valid)} Valid keys: {', '.join(sorted(valid))}."
    )


class SuggestingArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose unknown options get a "did you mean" from the parser they
    were given to: ``gve synthesize --captioner_modle m`` names ``--captioner_model`` and shows
    ``gve synthesize``'s usage, not the top-level one. Sub-parsers made with
    ``add_subparsers()`` are of the same class, so the rule holds at every level."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        unknown = self._unknown_options(sys.argv[1:] if args is None else list(args))
        if unknown:  # before argparse's "required" errors, which would hide the typo
            self.unrecognized(unknown)
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:  # argparse would report them later, from the top-level parser, without a hint
            self.unrecognized(extras)
        return namespace, extras

    def _unknown_options(self, args: list[str]) -> list[str]:
        """``--name`` tokens that are no option of this parser (nor, where abbreviations are
        allowed, a prefix of one). Parsers with sub-commands leave them to the sub-parser."""
        if self._subparsers is not None:
            return []
        known = self._option_string_actions
        unknown = []
        for token in args:
            if token == "--":
                break
            name = token.split("=", 1)[0]
            if not name.startswith("--") or name in known:
                continue
            if not (self.allow_abbrev and any(option.startswith(name) for option in known)):
                unknown.append(token)
        return unknown

    def unrecognized(self, extras: list[str]) -> NoReturn:
        options = [s for action in self._actions for s in action.option_strings if s.startswith("--")]
        first = next((e.split("=", 1)[0] for e in extras if e.startswith("-")), None)
        hint = did_you_mean(first, options) if first else "."
        self.error(f"unrecognized arguments: {' '.join(extras)}" + (hint if hint != "." else ""))


__all__ = ["SuggestingArgumentParser", "did_you_mean", "unknown_key_error"]
