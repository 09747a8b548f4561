"""``python -m vllm_aws plan|render`` (``python -m components`` in a checkout): the offline plan and the artifacts
the hosts will run.

Runs anywhere: no Pulumi CLI, no cloud credentials. Bad input exits 2 with one clean message per problem.
:func:`run_offline` runs any Pulumi program offline under the same mocks, from Python.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pulumi

from ..config.project_rules import stack_issues
from ..config.sources import raw_from_stack_file
from ..config.translate import parse_stack_config
from ..errors import ConfigError
from ..planner.plan import StackPlan
from ..stack_checks import check_stack
from .compare import compare
from .diff_report import render_diff_markdown, render_diff_text
from .endings import end_by_signal
from .measured import read_outputs
from .offline import OfflineAws, volume_zones_of
from .out_dir import OutDirError
from .program import mock_engine, run_offline, run_program
from .progress import Progress
from .render import write_artifacts
from .report import plan_json, render_markdown, render_table
from .topology import topology_mermaid

EXIT_BLOCKERS = 1
EXIT_BAD_INPUT = 2
# --strict: the plan is valid but warns. Not 1 (--fail-on-blockers: the change would break `pulumi up`) nor 2
# (bad input, and argparse's usage errors): CI can tell "fix the config" from "read the warnings".
EXIT_WARNINGS = 3
# How the user ran us: the installed package, or the checkout's directory.
PROG = f"python -m {__name__.split('.')[0]}"


class MissingProgramError(Exception):
    """The project directory holds no ``__main__.py``: nothing to run (the config itself may be fine)."""


def _program(project_dir: Path) -> Path:
    program = project_dir / "__main__.py"
    if not program.is_file():
        raise MissingProgramError(
            f"no Pulumi program at {program}: run from the project's directory (Pulumi.yaml, __main__.py) "
            "or pass --project-dir DIR"
        )
    return program


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("plan", "validate the stack config, size every model and list the resources `pulumi up` would create"),
        ("render", "write what the hosts will run (vLLM args, user-data, Prometheus config) to a directory"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument(
            "--stack",
            help="the stack: reads Pulumi.<stack>.yaml, or with --config names the stack that file configures "
            "(default: dev, or the --config file's name without `Pulumi.`)",
        )
        sub.add_argument("--config", type=Path, help="read this file (Pulumi.<stack>.yaml shape) instead")
        sub.add_argument(
            "--project-dir",
            type=Path,
            default=Path.cwd(),
            help="the Pulumi project directory (holds __main__.py and the stack files); default: cwd",
        )
        if name == "plan":
            sub.add_argument("--format", choices=("table", "json", "markdown"), default="table")
            sub.add_argument(
                "--compare",
                type=Path,
                metavar="OLD.json",
                help="compare with a plan JSON (e.g. the base branch's): the simulated `pulumi up` (steps, "
                "blockers, disruptions), cost and capacity",
            )
            sub.add_argument(
                "--quiet",
                action="store_true",
                help="hide warnings in the table and markdown (the JSON keeps them: it is data)",
            )
            sub.add_argument(
                "--strict",
                action="store_true",
                help=f"exit {EXIT_WARNINGS} (after printing) when the plan has any warning, for CI",
            )
            sub.add_argument(
                "--fail-on-blockers",
                action="store_true",
                help="with --compare: exit 1 (after printing the report) when the change has blockers",
            )
            sub.add_argument(
                "--fresh-runner",
                action="store_true",
                help="with --compare: the deploying machine ran no earlier deploy (a CI runner), so files one-shot "
                "local commands wrote then are missing",
            )
            sub.add_argument(
                "--deployed-outputs",
                type=Path,
                metavar="OUTPUTS.json",
                help="with --compare: the deployed stack's `pulumi stack output --json`; shows each server's "
                "measured time to healthy (and host boot, weight read) beside the prediction",
            )
            sub.add_argument(
                "--rotate-secret",
                action="append",
                default=[],
                metavar="PARAMETER",
                help="with --compare: the value of this secret's SSM parameter changes, e.g. api-key-parameter "
                "(the plans record [secret], so the change is invisible otherwise; repeatable)",
            )
            sub.add_argument(
                "--replace",
                action="append",
                default=[],
                metavar="URN_OR_NAME",
                help="with --compare: simulate `pulumi up --replace` of this resource (repeatable)",
            )
        else:
            sub.add_argument("--out", type=Path, required=True, help="directory to write the artifacts into")
    return parser


def _load(args: argparse.Namespace) -> tuple[str, dict[str, Any], list[str], StackPlan]:
    path = args.config.resolve() if args.config else args.project_dir / f"Pulumi.{args.stack or 'dev'}.yaml"
    # Pulumi runs the program from the project directory: relative paths in config mean the same here.
    os.chdir(args.project_dir)
    # The stack name reaches resource inputs (SSM parameter names, tags): two files of one stack must plan alike.
    stack = args.stack or (args.config.stem.removeprefix("Pulumi.") if args.config else "dev")
    if not path.is_file():
        raise ConfigError.single(str(path), None, "does not exist", "pass --stack NAME or --config FILE")
    project_file = args.project_dir / "Pulumi.yaml"
    # What `pulumi preview` checks before the program runs (a --config file may hold plain secrets offline),
    # reported together with the config's own problems when the file still reads.
    file_issues = (
        stack_issues(project_file, path, stack, plain_secrets=args.config is not None) if project_file.is_file() else []
    )
    try:
        raw, secret_keys = raw_from_stack_file(path)
        # The program's own checks, AWS lookups included (answered offline): every problem in this one run.
        with mock_engine(stack=stack, config=raw, secret_keys=secret_keys):
            plan = check_stack(lambda: parse_stack_config(raw)).plan
    except ConfigError as error:
        known = {str(issue) for issue in file_issues}
        raise ConfigError([*file_issues, *(issue for issue in error.issues if str(issue) not in known)]) from None
    if file_issues:
        raise ConfigError(file_issues)
    return stack, raw, secret_keys, plan


def _plan(args: argparse.Namespace) -> int:
    old_document = _read_old_plan(args.compare) if args.compare else None
    stack, raw, secret_keys, plan = _load(args)
    # Compared with a deployed plan, its volumes exist: hosts follow them to their zones, as in a real preview.
    existing = OfflineAws(region=plan.config.region, volume_zones=volume_zones_of(old_document or {}))
    with Progress() as progress:
        run = run_program(_program(args.project_dir), raw, secret_keys, stack, aws=existing, on_register=progress)
    document = plan_json(stack, plan, run.resources, run.outputs.get("quotas"), run.warnings)
    # --quiet hides them from the views people read; the JSON and --strict still see every warning.
    shown = {**document, "warnings": []} if args.quiet else document
    warned = EXIT_WARNINGS if args.strict and document["warnings"] else 0
    if old_document is not None:
        outputs = read_outputs(args.deployed_outputs) if args.deployed_outputs else None
        diff = compare(
            old_document,
            document,
            fresh_runner=args.fresh_runner,
            replace=args.replace,
            rotate=args.rotate_secret,
            deployed_outputs=outputs,
        )
        if args.format == "json":
            print(json.dumps(diff, indent=2))
        else:
            view = {**diff, "warnings": {**diff["warnings"], "new": []}} if args.quiet else diff
            if args.format == "markdown":
                print(render_diff_markdown(view, topology=topology_mermaid(document)))
            else:
                print(render_diff_text(view))
        return EXIT_BLOCKERS if args.fail_on_blockers and diff["blockers"] else warned
    if args.format == "json":
        print(json.dumps(document, indent=2, sort_keys=False))
    elif args.format == "markdown":
        print(render_markdown(shown))
    else:
        print(render_table(shown), end="")
    return warned


def _read_old_plan(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError.single(
            str(path),
            None,
            f"is not a readable plan JSON ({exc})",
            f"pass a file written by `{PROG} plan --format json`",
        ) from None
    if not isinstance(document, dict) or "resources" not in document or "models" not in document:
        raise ConfigError.single(
            str(path),
            None,
            "is not a plan JSON (no models/resources)",
            f"pass a file written by `{PROG} plan --format json`",
        )
    return document


def _render(args: argparse.Namespace) -> int:
    stack, raw, secret_keys, plan = _load(args)
    with Progress() as progress:
        run = run_program(_program(args.project_dir), raw, secret_keys, stack, on_register=progress)
    for path in write_artifacts(plan, run.resources, args.out):
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # a reader that went away shows here, not in the interpreter's last flush
    except BrokenPipeError:
        end_by_signal(signal.SIGPIPE)
    except KeyboardInterrupt:
        end_by_signal(signal.SIGINT)
    return code


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if (
        args.command == "plan"
        and args.compare is None
        and (args.fail_on_blockers or args.fresh_runner or args.replace or args.rotate_secret or args.deployed_outputs)
    ):
        parser.error(
            "--fail-on-blockers, --fresh-runner, --replace, --rotate-secret and --deployed-outputs need --compare"
        )
    try:
        return _plan(args) if args.command == "plan" else _render(args)
    except (ConfigError, pulumi.RunError, MissingProgramError) as error:
        # RunError: the program itself rejected the config (e.g. no AZ offers the instance type).
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutDirError as error:
        print(f"error: render --out {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


__all__ = ["EXIT_BAD_INPUT", "EXIT_BLOCKERS", "EXIT_WARNINGS", "main", "run_offline"]
