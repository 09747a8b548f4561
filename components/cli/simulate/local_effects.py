"""One-shot local side effects: a ``command:local:Command`` runs its ``create`` once, on the machine that runs
that ``pulumi up``, and never again unless replaced; nothing runs in preview."""

from __future__ import annotations

from collections.abc import Iterator

from .blocker import Blocker
from .engine import DBR, EngineRun
from .provider_rules import LOCAL_COMMAND, PROVIDER_PREFIX


def local_side_effects(run: EngineRun, *, fresh_runner: bool) -> Iterator[Blocker]:
    for urn, decision in run.decisions.items():
        new = run.new[urn]
        if new.type != LOCAL_COMMAND or decision.op != "replace" or decision.mode == DBR or not decision.old:
            continue
        old = run.old[decision.old]
        if old.inputs.get("delete") and old.inputs.get("delete") == new.inputs.get("delete"):
            yield Blocker(
                new.name,
                new.type,
                "LocalSideEffectUndone",
                "LocalSideEffectUndone: the replacement's `create` runs when it registers, and the old command's "
                f"`delete` ({str(old.inputs['delete']).strip()}) runs in the delete phase, after it: what the new "
                "command made is removed again",
                "pulumi-command local/commandController.go (Create runs create, Delete runs delete); pulumi/pulumi "
                "step_generator.go (create-before-delete: the old delete runs last)",
                "make the command idempotent and not undone by its own replacement (no `delete`, or "
                "`delete_before_replace=True`), or write the file where every run does",
            )
    if fresh_runner:
        yield from _fresh_runner(run)


def _fresh_runner(run: EngineRun) -> Iterator[Blocker]:
    """A provider that depends on a local command needs what that command left on the deploying machine."""
    needed: dict[str, list[str]] = {}
    for provider_urn, provider in sorted(run.new.items()):
        if not provider.type.startswith(PROVIDER_PREFIX):
            continue
        for command_urn in sorted(provider.dependencies):
            command = run.new.get(command_urn)
            if command is None or command.type != LOCAL_COMMAND:
                continue
            if run.decisions[command_urn].op in ("create", "replace"):
                continue  # its create runs on this runner, before the provider is used
            needed.setdefault(command_urn, []).extend(_steps_through(run, provider_urn))
    for command_urn, users in needed.items():
        if not users:
            continue
        command = run.new[command_urn]
        yield Blocker(
            command.name,
            command.type,
            "LocalSideEffectMissing",
            f"LocalSideEffectMissing: `{command.name}` ran its `create` once, on the machine that first deployed; "
            f"a fresh runner lacks what it left there, and {len(users)} step(s) through providers that depend on "
            f"it need it (first: {users[0]})",
            "pulumi-command local/commandController.go (create runs at creation only; nothing runs in preview); "
            "pulumi/pulumi step_generator.go (an unchanged resource gets no step)",
            "make every deploy produce it (e.g. write the key file on each run), or deploy only from the "
            "machine that created the stack",
        )


def _steps_through(run: EngineRun, provider_urn: str) -> list[str]:
    old_provider = run.matching.pairs.get(provider_urn)
    users = []
    for step in run.steps:
        if step.phase == "program" and step.op != "delete-replaced":
            if run.new[step.urn].provider == provider_urn:
                users.append(f"{step.op} `{run.new[step.urn].name}`")
        elif old_provider and run.old[step.urn].provider == old_provider and step.skipped is None:
            # A delete through the old provider (a skipped delete never calls it).
            users.append(f"{step.op} `{run.old[step.urn].name}`")
    return users
