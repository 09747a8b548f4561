"""The deploying machine's copy of the stack's SSH private key, which ``ssh`` (run by pulumi-docker) reads.

ssh takes keys from files only, and every machine that runs ``pulumi up`` or ``preview`` (a laptop, a fresh
CI runner) needs the file before a Docker provider dials a host. The program writes it itself whenever the key
is known: at every ``up``, and at every ``preview`` of an existing stack (the key comes from state). A
``command.local`` resource cannot do this: its ``create`` runs once, when the resource is created, on whichever
machine ran that ``up`` (pulumi/pulumi-command provider/pkg/provider/local). Nothing is written while the key
is unknown (the first preview, when no host exists yet either) or is a placeholder (offline plans).

The file is created readable by its owner alone (0600, in a 0700 directory when that is created), written
to a temporary file first and renamed, so ssh never reads half a key; the key never reaches a log or output.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pulumi

# OpenSSH ("OPENSSH PRIVATE KEY") and PEM ("RSA/EC PRIVATE KEY", PKCS#8 "PRIVATE KEY") private keys.
_PRIVATE_KEY_HEADER = "PRIVATE KEY-----"


def looks_like_private_key(text: str) -> bool:
    first_line = text.lstrip().split("\n", 1)[0]
    return first_line.startswith("-----BEGIN ") and first_line.endswith(_PRIVATE_KEY_HEADER)


def write_private_file(path: Path, content: str) -> None:
    """Make ``path`` hold ``content``, mode 0600; unchanged files are left alone (their mtime too)."""
    if not content.endswith("\n"):
        content += "\n"  # ssh rejects an OpenSSH key whose last line has no newline
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    if path.is_file() and path.read_text(encoding="utf-8") == content:
        path.chmod(0o600)
        return
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def keep_key_file(private_key: pulumi.Output[str], path: str) -> pulumi.Output[str]:
    """``path`` (as given, ``~`` unexpanded), resolved once this machine holds ``private_key`` there.

    Inputs derived from the result (a Docker provider's ``ssh_opts``) wait for the write. The result is not
    secret: it is the path, never the key.
    """

    def write(key: str | None) -> str:
        if key is not None and looks_like_private_key(key):
            write_private_file(Path(path).expanduser(), key)
        return path

    return pulumi.Output.unsecret(private_key.apply(write))
