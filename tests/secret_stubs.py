"""Hostile secret values and a stub `vllm` that records exactly what the entrypoint hands it.

The values are what a person may paste as a key or a token, and what broke the old path: spaces and quotes
(word splitting, a crash loop), `$` (silently expanded, every client then gets 401), backticks and `$(...)` (a
command ran), backslashes and `=` (env-file and `read` parsing), and newlines anywhere (`$(...)` drops trailing
ones, an env file cannot hold one). Two values would run `touch pwned` if anything evaluated them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# The longest value of a Standard-tier SSM parameter (botocore ssm PutParameter `Value`: "Standard parameters have
# a value limit of 4 KB").
SSM_STANDARD_VALUE_BYTES = 4096
CANARY = "pwned"

HOSTILE_VALUES: dict[str, str] = {
    "space": "two words",
    "spaces-around": "  padded  ",
    "double-quote": 'say "hi"',
    "single-quote": "it's",
    "unbalanced-quotes": '"\'"',
    "dollar": "pa$$w0rd$HOME${PATH}$1$@",
    "command-substitution": f"$(touch {CANARY})",
    "backtick": f"`touch {CANARY}`",
    "backslashes": "a\\b\\\\c\\n\\t\\",
    "trailing-backslash": "key\\",
    "equals": "==a=b==",
    "export-line": "export VLLM_API_KEY=other",
    "leading-newline": "\nkey",
    "trailing-newline": "key\n",
    "trailing-newlines": "key\n\n\n",
    "only-newlines": "\n\n",
    "inner-newlines": "line1\nline2\n\nline4",
    "crlf": "key\r\n",
    "tab": "a\tb",
    "glob": "*",
    "dash-n": "-n",
    "dash-e": "-e",
    "printf-format": "%s%n%%%b",
    "semicolon": "k; rm -rf /; #",
    "brace-expansion": "${IFS}{a,b}~",
    "comment": "#not-a-comment",
    "non-ascii": "clé-ünïcödé-鍵",
    "everything": " \"' $ ` \\ = \n\t*? $(x) ${y} \n",
    "ssm-maximum": "k" * SSM_STANDARD_VALUE_BYTES,
}


def write_vllm_stub(bin_dir: Path, dump: Path) -> None:
    """A `vllm` on PATH that writes its argv and its environment's raw bytes (hex) to ``dump``, then exits 0."""
    stub = bin_dir / "vllm"
    stub.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"with open({str(dump)!r}, 'w') as out:\n"
        "    json.dump({'argv': sys.argv[1:], 'env': {k.hex(): v.hex() for k, v in os.environb.items()}}, out)\n"
    )
    stub.chmod(0o755)


def read_vllm_dump(dump: Path) -> tuple[list[str], dict[str, bytes]]:
    """What the stub `vllm` received: its arguments and its environment, byte for byte."""
    data = json.loads(dump.read_text())
    env = {bytes.fromhex(k).decode(): bytes.fromhex(v) for k, v in data["env"].items()}
    return list(data["argv"]), env
