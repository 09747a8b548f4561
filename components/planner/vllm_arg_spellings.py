"""How vLLM 0.33's ``vllm serve`` parser reads a flag, so ``extraArgs`` accepts every spelling it accepts.

vLLM parses with ``FlexibleArgumentParser`` (vllm/utils/argparse_utils.py, 0.33.0 wheel), which before argparse
sees the arguments:
- turns ``_`` into ``-`` in a ``--`` flag's name up to its first ``.`` (``--max_num_seqs`` is ``--max-num-seqs``);
- turns ``-O3``, ``-O=3`` and ``-O 3`` (levels 0-3 only for the spaced form) into ``--optimization-level``;
- gathers dotted keys (``--compilation-config.mode 3``, ``-cc.mode=3``, ``--x.list+ a,b``) into one JSON value
  for the flag before the first ``.``, which only a flag typed as a config dataclass or a dict accepts
  (``catalog/vllm_serve_json_flags.json``);
- registers ``BooleanOptionalAction`` flags as ``EnableDisableAction``: ``--enable-x`` pairs with ``--disable-x``,
  and the ``--no-`` form of the flag as declared stays accepted, hidden from help (and so from the flag table).
argparse then also accepts ``--flag=value`` and, with ``allow_abbrev`` (vLLM leaves it on), a unique prefix of a
long flag: that one this project refuses (a flag a later vLLM adds can make the prefix ambiguous).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .. import catalog

OPTIMIZATION_LEVEL = "--optimization-level"
_SPACED_LEVELS = frozenset({"0", "1", "2", "3"})
_NEGATIVE_NUMBER = re.compile(r"^-\d")


@dataclass(frozen=True)
class FlagUse:
    """One flag in ``extraArgs``: where it starts, how it was written, and what vLLM's parser makes of it."""

    position: int
    written: str
    option: str
    value: str | None
    json_key: str | None = None


def is_flag(token: str) -> bool:
    return token.startswith("-") and not _NEGATIVE_NUMBER.match(token)


def flag_uses(tokens: Sequence[str]) -> list[FlagUse]:
    """Every flag in ``tokens`` as vLLM's parser normalizes it; values with no flag before them are skipped."""
    uses: list[FlagUse] = []
    consumed: set[int] = set()
    for position, token in enumerate(tokens):
        if position in consumed or not is_flag(token):
            continue
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if token.startswith("-O") and token != "-O":
            level = token[3:] if token[2] == "=" else token[2:]
            uses.append(FlagUse(position, token, OPTIMIZATION_LEVEL, level))
            continue
        if token == "-O" and following in _SPACED_LEVELS:
            consumed.add(position + 1)
            uses.append(FlagUse(position, f"-O {following}", OPTIMIZATION_LEVEL, following))
            continue
        name, has_value, inline = token.partition("=")
        if name.startswith("--"):
            head, dot, rest = name[2:].partition(".")
            name = "--" + head.replace("_", "-") + dot + rest
        if "." in name:
            # The value of a dotted key is always the next token, whatever it looks like (as in vLLM).
            option, _, key = name.partition(".")
            if not has_value:
                consumed.add(position + 1)
            value = inline if has_value else following
            written = token if has_value or following is None else f"{token} {following}"
            uses.append(FlagUse(position, written, option, value, key.removesuffix("+")))
            continue
        value = inline if has_value else following if following is not None and not is_flag(following) else None
        uses.append(FlagUse(position, token, name, value))
    return uses


@cache
def option_table() -> Mapping[str, Mapping[str, Any]]:
    """The flag table plus the ``--no-`` forms vLLM keeps accepting but leaves out of its help."""
    flags = catalog.serve_flags()
    table: dict[str, Mapping[str, Any]] = dict(flags)
    for option, spec in flags.items():
        declared = "--" + spec["dest"].replace("_", "-")
        if option == declared and option.startswith(("--enable-", "--disable-")):
            inverse = (
                declared.replace("--enable-", "--disable-", 1)
                if declared.startswith("--enable-")
                else (declared.replace("--disable-", "--enable-", 1))
            )
            if flags.get(inverse, {}).get("dest") == spec["dest"]:
                table.setdefault("--no-" + declared[2:], spec)
    return table


@cache
def json_destinations() -> frozenset[str]:
    """Destinations whose value vLLM parses as JSON: the flags a dotted key may set."""
    text = resources.files(catalog).joinpath("vllm_serve_json_flags.json").read_text(encoding="utf-8")
    return frozenset(json.loads(text)["dests"])


def abbreviated(option: str) -> str | None:
    """The one long flag ``option`` is a prefix of, as argparse's ``allow_abbrev`` would read it."""
    if not option.startswith("--"):
        return None
    matches = {spec["dest"]: name for name, spec in option_table().items() if name.startswith(option)}
    return next(iter(matches.values())) if len(matches) == 1 else None
