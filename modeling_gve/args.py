# Copyright 2026 The GVE package authors. Apache-2.0.
"""Recipe settings: argument dataclasses, a YAML file and command-line overrides (TRL's
``TrlParser`` shape, on transformers' `HfArgumentParser`).

- A recipe's settings are `RecipeArguments` dataclasses, grouped by one `RecipeConfig`; every
  value, from a file, the command line or Python, is checked against its field's annotation
  when the dataclass is created (`check_value`), because `HfArgumentParser` converts only
  command-line strings and a YAML typo must not reach a training run.
- `RecipeParser` makes one option per field with transformers' rules (types, ``Literal``
  choices, ``--flag`` / ``--flag false`` / ``--no_flag``, ``--a_b`` and ``--a-b``), plus what the
  shipped configs and docs use: mappings as YAML or as ``KEY=VALUE`` pairs (``--max_rows '{T2V: 5}'``,
  ``--sampling max_frames=16 fps=2``), lists as several values or one YAML list (``--tasks T2V I2V``,
  ``--stages '[]'``), ``null`` for optional settings. ``--config FILE.yaml`` sets values; options
  given on the command line override them.
- Unknown keys, in the file or on the command line, are errors with a "did you mean".
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import functools
import importlib
import importlib.util
import sys
import types
import typing
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import yaml

from .suggest import SuggestingArgumentParser, did_you_mean, unknown_key_error

NULL_SPELLINGS = ("null", "None", "~")  # a command-line value meaning None for an optional setting


def _hf_argparser() -> types.ModuleType:
    """transformers' ``hf_argparser`` module, without running ``transformers/__init__`` when it is
    not loaded yet: that builds the lazy index of the whole library (1-3 s here), while this file
    imports only the standard library and yaml, and ``gve synthesize --help`` must answer at once.
    Falls back to the normal import if transformers is loaded or the file ever needs its package."""
    if "transformers" in sys.modules:
        return importlib.import_module("transformers.hf_argparser")
    package = importlib.util.find_spec("transformers")  # locates, does not run, the package
    path = Path(package.submodule_search_locations[0]) / "hf_argparser.py"
    spec = importlib.util.spec_from_file_location("transformers.hf_argparser", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError:
        return importlib.import_module("transformers.hf_argparser")
    return module


_HF_ARGPARSER = _hf_argparser()
HfArgumentParser, string_to_bool = _HF_ARGPARSER.HfArgumentParser, _HF_ARGPARSER.string_to_bool


# --------------------------------------------------------------------------- values


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _without_none(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> ``(X, True)``; ``X`` -> ``(X, False)``."""
    if _is_union(annotation) and type(None) in typing.get_args(annotation):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True
    return annotation, False


def describe_type(annotation: Any) -> str:
    """``float or null``, ``one of 'a', 'b'``...: what a value of ``annotation`` may be."""
    if _is_union(annotation):
        return " or ".join(describe_type(a) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) is Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(annotation)))
    return "null" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))


def check_value(name: str, annotation: Any, value: Any) -> Any:
    """``value`` checked against the type ``annotation`` of setting ``name``; returns it
    normalised (an int where a float is expected becomes a float, a number written as a YAML
    string such as ``3e-5`` becomes the number, one value where a list is expected a list).

    Raises:
        ValueError: naming the setting, the value and what was allowed.
    """
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if _is_union(annotation):
        for option in args:
            try:
                return check_value(name, option, value)
            except ValueError:
                continue
        raise ValueError(f"{name}: {value!r} is not valid; expected {describe_type(annotation)}")
    if annotation is type(None) and value is not None:
        raise ValueError(f"{name}: expected null")
    if origin is Literal and value not in args:
        allowed = ", ".join(map(repr, args))
        raise ValueError(f"{name}: {value!r} is not one of {allowed}{did_you_mean(value, args)}")
    if origin is list:
        value = value if isinstance(value, (list, tuple)) else [value]  # one value: a one-element list
        return [check_value(f"{name}[{i}]", args[0], v) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ValueError(f"{name}: expected a mapping, got {value!r}")
        return {
            check_value(f"{name} key", args[0], k): check_value(f"{name}[{k}]", args[1], v) for k, v in value.items()
        }
    if annotation in (int, float):
        return _check_number(name, annotation, value)
    if annotation in (bool, str) and not isinstance(value, annotation):
        raise ValueError(f"{name}: expected {'true/false' if annotation is bool else 'a string'}, got {value!r}")
    return value


def _check_number(name: str, annotation: type, value: Any) -> int | float:
    if isinstance(value, str):  # YAML 1.1 reads 3e-5 as a string
        try:
            value = annotation(value)
        except ValueError:
            pass
    if isinstance(value, int if annotation is int else (int, float)) and not isinstance(value, bool):
        return annotation(value)
    raise ValueError(f"{name}: expected {'an integer' if annotation is int else 'a number'}, got {value!r}")


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@dataclasses.dataclass
class RecipeArguments:
    """Base of a recipe's argument dataclasses: on creation every field is checked against its
    annotation (`check_value`); subclasses add their own checks after ``super().__post_init__()``.
    The first line of a subclass's docstring titles its options in ``--help``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        title = (cls.__doc__ or "").strip().split("\n", 1)[0]
        cls._argument_group_name = f"{cls.__name__}: {title}" if title else cls.__name__  # read by HfArgumentParser

    def __post_init__(self) -> None:
        hints = _field_types(type(self))
        for f in dataclasses.fields(self):
            setattr(self, f.name, check_value(f.name, hints[f.name], getattr(self, f.name)))


def load_yaml_config(path: str | Path) -> dict[str, Any]:
    """The flat ``{key: value}`` mapping of a recipe YAML file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} not found")
    values = yaml.safe_load(path.read_text()) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: a recipe config is a mapping of keys to values, got {type(values).__name__}")
    return values


# --------------------------------------------------------------------------- command line


def _or_null(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        return None if text in NULL_SPELLINGS else convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")  # argparse names it in "invalid ... value"
    return parse


def _yaml_mapping(text: str) -> dict:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a YAML mapping such as '{{T2V: 1}}', got {text!r}")
    return value


_yaml_mapping.__name__ = "mapping"


def _yaml_scalar(text: str) -> Any:
    return yaml.safe_load(text)


class _MappingAction(argparse.Action):
    """A mapping setting from one YAML mapping (``--sampling '{max_frames: 16}'``) or from
    ``KEY=VALUE`` pairs (``--sampling max_frames=16 fps=2``, each value read as YAML); ``null``
    for an optional one."""

    def __init__(self, *args: Any, optional: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.optional = optional

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        if self.optional and len(values) == 1 and values[0] in NULL_SPELLINGS:
            setattr(namespace, self.dest, None)
            return
        if len(values) == 1 and "=" not in values[0]:
            try:
                value = _yaml_mapping(values[0])
            except argparse.ArgumentTypeError as err:
                raise argparse.ArgumentError(self, f"{err} or KEY=VALUE pairs") from None
        else:
            value = {}
            for pair in values:
                key, sep, text = pair.partition("=")
                if not sep or not key:
                    raise argparse.ArgumentError(self, f"expected KEY=VALUE pairs or one YAML mapping, got {pair!r}")
                try:
                    value[key] = yaml.safe_load(text)
                except yaml.YAMLError:
                    value[key] = text
        setattr(namespace, self.dest, value)


class _ListAction(argparse.Action):
    """A list setting from several values (``--tasks T2V I2V``) or one YAML list
    (``--tasks '[T2V, I2V]'``, ``--stages '[]'``); ``null`` for an optional one. ``Literal`` items
    are checked here, like a scalar's choices; other items with the dataclass (`check_value`)."""

    def __init__(self, *args: Any, optional: bool = False, item_choices: tuple | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.optional, self.item_choices = optional, item_choices

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        if self.optional and len(values) == 1 and values[0] in NULL_SPELLINGS:
            values = None
        elif len(values) == 1 and values[0].lstrip().startswith("["):
            try:
                values = yaml.safe_load(values[0])
            except yaml.YAMLError as err:
                raise argparse.ArgumentError(self, f"not a YAML list: {values[0]!r} ({err})") from None
        for value in values or ():
            if self.item_choices is not None and value not in self.item_choices:
                choices = ", ".join(map(repr, self.item_choices))
                raise argparse.ArgumentError(self, f"invalid choice: {value!r} (choose from {choices})")
        setattr(namespace, self.dest, values)


def _help(field: dataclasses.Field) -> str:
    help = field.metadata.get("help", "")
    if field.default is not dataclasses.MISSING:
        help += f" (default: {field.default!r})"
    elif field.default_factory is not dataclasses.MISSING:
        help += f" (default: {field.default_factory()!r})"
    return help.strip().replace("%", "%%")  # argparse %-formats help texts


def _command_line_only(action: argparse.Action, help: str, optional: bool) -> None:
    """The recipe rules on an option `HfArgumentParser` made: no argparse default (an option not
    given stays unset, so the YAML file and then the dataclass default apply), nothing required
    on the command line (the file may give it), ``null`` for optional settings, and ``--flag``
    alone meaning true for optional booleans too."""
    action.default, action.required = argparse.SUPPRESS, False
    if action.nargs == 0 and action.const is False:  # HfArgumentParser's --no_<flag>
        action.help = f"same as {action.option_strings[0].replace('no_', '', 1)} false"
        return
    action.help = help
    if optional and action.type is not None:
        if action.type is string_to_bool:
            action.nargs, action.const = "?", True
        action.type = _or_null(action.type)
        if action.choices is not None:
            action.choices = (*action.choices, None)


class RecipeParser(HfArgumentParser, SuggestingArgumentParser):
    """`HfArgumentParser` over a recipe's dataclasses with ``--config FILE.yaml``; unknown options
    get a "did you mean" (`SuggestingArgumentParser`), unknown YAML keys too (`parse_dict`).

    Args:
        dataclass_types: the recipe's `RecipeArguments` classes.
        deprecated_keys: old key -> its new key, or ``"mapping.key"`` for a key that moved into a
            mapping setting; old keys are accepted with a `FutureWarning` for one release.
    """

    def __init__(
        self, dataclass_types: Sequence[type], *, deprecated_keys: Mapping[str, str] | None = None, **kwargs: Any
    ):
        kwargs.setdefault("allow_abbrev", False)  # a prefix is not a setting's name
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(dataclass_types, **kwargs)
        self.deprecated_keys = dict(deprecated_keys or {})
        self.add_argument("--config", metavar="FILE.yaml", help="YAML file of settings (options override it)")
        for old in self.deprecated_keys:
            hidden = dict(dest=old, type=_yaml_scalar, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
            self.add_argument(f"--{old}", **hidden)

    def _parse_dataclass_field(self, parser: Any, field: dataclasses.Field) -> None:
        """One field's options (`HfArgumentParser`'s hook): mappings and lists here, the other types
        by transformers' rules, all with `_command_line_only`."""
        annotation, optional = _without_none(field.type)
        names = [f"--{field.name}"] + ([f"--{field.name.replace('_', '-')}"] if "_" in field.name else [])
        kwargs = dict(dest=field.name, default=argparse.SUPPRESS, help=_help(field))
        if typing.get_origin(annotation) is dict:
            mapping = dict(nargs="+", action=_MappingAction, optional=optional, metavar="KEY=VALUE")
            parser.add_argument(*names, **mapping, **kwargs)
        elif typing.get_origin(annotation) is list:
            item = typing.get_args(annotation)[0]
            choices = typing.get_args(item) if typing.get_origin(item) is Literal else None
            metavar = (
                "{" + ",".join(map(str, choices)) + "}" if choices else getattr(item, "__name__", "VALUE").upper()
            )
            parser.add_argument(
                *names,
                nargs="+",
                action=_ListAction,
                optional=optional,
                item_choices=choices,
                metavar=metavar,
                **kwargs,
            )
        else:
            first = len(parser._actions)
            super()._parse_dataclass_field(parser, copy.copy(field))  # it rewrites field.type
            for action in parser._actions[first:]:
                _command_line_only(action, kwargs["help"], optional)

    def parse_args_and_config(self, args: Sequence[str] | None = None) -> tuple[Any, ...]:
        """``[--config FILE.yaml] [--key value ...]`` (``sys.argv[1:]`` by default) -> one instance per
        dataclass. Command-line errors exit with the usage (argparse); file and value errors raise.

        Raises:
            ValueError: an unknown key in the file (with a "did you mean"), a missing required
                setting, or a value its setting does not allow.
        """
        return self.parse_namespace(self.parse_args(args))

    def parse_namespace(self, namespace: argparse.Namespace) -> tuple[Any, ...]:
        """The YAML file ``namespace.config`` (if any), overridden by the options in ``namespace``."""
        given = dict(vars(namespace))
        path = given.pop("config", None)
        values = {**(load_yaml_config(path) if path else {}), **given}
        return self.parse_dict(values, where=f"config file {path}" if path else "settings")

    def parse_dict(
        self, args: Mapping[str, Any], allow_extra_keys: bool = False, where: str = "settings"
    ) -> tuple[Any, ...]:
        """One instance per dataclass from a flat ``{key: value}`` mapping; ``where`` names its
        origin in errors."""
        values = self._upgrade_keys(dict(args))
        valid = [f.name for dtype in self.dataclass_types for f in dataclasses.fields(dtype)]
        for key in values:
            if key not in valid and not allow_extra_keys:
                raise unknown_key_error(key, valid, where)
        outputs = []
        for dtype in self.dataclass_types:
            for f in dataclasses.fields(dtype):
                if f.name not in values and f.default is f.default_factory is dataclasses.MISSING:
                    raise ValueError(f"{f.name} is required: set it in the config file or pass --{f.name}")
            outputs.append(dtype(**{f.name: values[f.name] for f in dataclasses.fields(dtype) if f.name in values}))
        return tuple(outputs)

    def _upgrade_keys(self, values: dict[str, Any]) -> dict[str, Any]:
        for old, new in self.deprecated_keys.items():
            if old not in values:
                continue
            warnings.warn(f"setting {old!r} is deprecated; use {new!r}", FutureWarning, stacklevel=4)
            value = values.pop(old)
            mapping, _, key = new.partition(".")
            if key:  # moved into a mapping setting
                values[mapping] = {**(values.get(mapping) or {}), key: value}
            elif new in values:
                raise ValueError(f"{old!r} and {new!r} are one setting ({old!r} is deprecated): give {new!r} only")
            else:
                values[new] = value
        return values


# --------------------------------------------------------------------------- a recipe's settings


@dataclasses.dataclass
class RecipeConfig:
    """Base of a recipe's settings: one attribute per `RecipeArguments` group, built from one
    flat ``{key: value}`` mapping (every key belongs to exactly one group)."""

    DEPRECATED_KEYS: ClassVar[dict[str, str]] = {}  # see `RecipeParser`

    @classmethod
    def argument_classes(cls) -> tuple[type, ...]:
        hints = _field_types(cls)
        return tuple(hints[f.name] for f in dataclasses.fields(cls))

    @classmethod
    def valid_keys(cls) -> list[str]:
        return [f.name for group in cls.argument_classes() for f in dataclasses.fields(group)]

    @classmethod
    def parser(cls, **parser_kwargs: Any) -> RecipeParser:
        """The recipe's command line: ``--config`` and one option per setting."""
        return RecipeParser(cls.argument_classes(), deprecated_keys=cls.DEPRECATED_KEYS, **parser_kwargs)

    @classmethod
    def from_values(cls, values: Mapping[str, Any], where: str = "settings") -> Self:
        """Checked settings from a flat mapping; ``where`` names its origin in errors."""
        return cls(*cls.parser().parse_dict(values, where=where))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Self:
        """Settings from the namespace of `parser`: the YAML file ``args.config`` (if any)
        overridden by the options given on the command line."""
        return cls(*cls.parser().parse_namespace(args))

    @classmethod
    def parse(cls, argv: Sequence[str] | None = None, **parser_kwargs: Any) -> Self:
        """``[--config FILE.yaml] [--key value ...]`` -> settings (``sys.argv[1:]`` by default)."""
        return cls(*cls.parser(**parser_kwargs).parse_args_and_config(argv))

    def to_dict(self) -> dict[str, Any]:
        """Flat ``{key: value}``, the YAML form (what trackers and dataset cards record)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            out.update(dataclasses.asdict(getattr(self, f.name)))
        return out


__all__ = [
    "RecipeArguments",
    "RecipeConfig",
    "RecipeParser",
    "check_value",
    "describe_type",
    "load_yaml_config",
    "unknown_key_error",
]
