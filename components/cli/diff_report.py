"""The ``plan --compare`` views: the PR comment (markdown) and the same sections for a terminal.

Both render :func:`components.cli.diff_sections.diff_sections`: blockers first and loud, then outages and
disruptions, cost and capacity; in the PR comment the resource lists and the engine's steps are collapsed.
"""

from __future__ import annotations

import io
import re
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table as RichTable

from .diff_sections import Section, Table, diff_sections, footer

COMMENT_MARKER = "<!-- vllm-aws-plan -->"
TEXT_WIDTH = 160


def _heading(section: Section) -> str:
    return f"{section.heading} ({section.count})" if section.count is not None else str(section.heading)


def _markdown_table(table: Table) -> list[str]:
    return [
        "| " + " | ".join(table.headers) + " |",
        "|" + "---|" * len(table.headers),
        *("| " + " | ".join(row) + " |" for row in table.rows),
    ]


def _markdown_section(section: Section) -> list[str]:
    lines: list[str] = []
    if section.heading is not None:
        title = _heading(section)
        lines += [f"<details><summary>{title}</summary>", ""] if section.collapsed else [f"**{title}**", ""]
    for lead in section.lead:
        lines += [lead, ""]
    for item in section.items:
        lines.append(f"{'1.' if section.numbered else '-'} {item.text}")
        lines += [f"  - {detail}" for detail in item.details]
    if section.items:
        lines.append("")
    if section.table is not None:
        lines += [*_markdown_table(section.table), ""]
    if section.collapsed:
        lines += ["</details>", ""]
    return lines


def render_diff_markdown(diff: dict[str, Any], topology: str | None = None) -> str:
    """The PR comment; ``topology`` is the new plan's Mermaid diagram (``None``: none)."""
    lines = [COMMENT_MARKER, f"### vllm-aws plan diff: `{diff['stack']}`", ""]
    for section in diff_sections(diff):
        lines += _markdown_section(section)
    if topology is not None:
        fence = ["```mermaid", topology.rstrip("\n"), "```"]
        lines += ["<details><summary>Topology after the change</summary>", "", *fence, "", "</details>", ""]
    lines += [f"<sub>{footer(diff)}</sub>", ""]
    return "\n".join(lines)


_EMOJI = {":no_entry:": "✖", ":white_check_mark:": "✔", ":rotating_light:": "‼", ":warning:": "⚠"}
_MARKUP = re.compile(r"\*\*|`")


def plain(text: str) -> str:
    """Inline markdown as a terminal shows it: no backticks or bold markers, symbols for the emoji."""
    for code, symbol in _EMOJI.items():
        text = text.replace(code, symbol)
    return _MARKUP.sub("", text)


def _rich_table(table: Table) -> RichTable:
    rendered = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for header in table.headers:
        rendered.add_column(header, overflow="fold")
    for row in table.rows:
        rendered.add_row(*(plain(cell) for cell in row))
    return rendered


def render_diff_text(diff: dict[str, Any]) -> str:
    """The same sections as the PR comment, for a terminal: headings with counts, nothing folded."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=TEXT_WIDTH, color_system=None, highlight=False, markup=False)
    console.print(f"vllm-aws plan diff: {diff['stack']}")
    for section in diff_sections(diff):
        console.print()
        if section.heading is not None:
            console.print(_heading(section))
        for lead in section.lead:
            console.print(plain(lead).removeprefix("> "))
        for number, item in enumerate(section.items, start=1):
            console.print(f"  {f'{number}.' if section.numbered else '-'} {plain(item.text)}")
            for detail in item.details:
                console.print(f"      {plain(detail)}")
        if section.table is not None:
            console.print(_rich_table(section.table))
    console.print()
    console.print(footer(diff).replace("`", ""))
    return buffer.getvalue()
