"""What a secret config value may hold, checked before anything is registered. Pure; a value is never echoed.

Both secrets are stored as SSM SecureString parameters (``host.secrets``) and travel to vLLM as data (one file per
secret, ``host.bootstrap`` and ``serving.container_spec``), so no character needs escaping on the way. What limits a
value is where it lands:

- SSM PutParameter ``Value`` (botocore ``ssm`` service model, 2014-11-06): "Standard parameters have a value limit
  of 4 KB" (the stack creates Standard ones), and "You can't include values wrapped in double brackets {{}} or
  {{ssm:parameter-name}} in a parameter value".
- The API key is what clients send as ``Authorization: Bearer <key>``. An HTTP field value has no CR/LF and loses
  its leading and trailing whitespace in parsing (RFC 9110 section 5.5), Starlette decodes header bytes as
  latin-1 (``starlette/datastructures.py`` Headers), and vLLM compares the UTF-8 of what follows "Bearer " with
  the UTF-8 of its key (vllm-project/vllm ``vllm/entrypoints/openai/server_utils.py`` AuthenticationMiddleware).
  A key outside printable ASCII, or with whitespace at either end, could be stored and served but never matched:
  every request would get 401.
"""

from __future__ import annotations

import re

SSM_STANDARD_VALUE_BYTES = 4096
_SSM_REFERENCE = re.compile(r"\{\{.*\}\}", re.DOTALL)
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


def ssm_value_problem(value: str) -> str | None:
    """Why SSM would refuse ``value`` as a Standard SecureString, or None."""
    size = len(value.encode("utf-8"))
    if size > SSM_STANDARD_VALUE_BYTES:
        return f"is {size} bytes; an SSM Standard parameter holds at most {SSM_STANDARD_VALUE_BYTES}"
    if _SSM_REFERENCE.search(value):
        return "contains text wrapped in double braces ({{...}}), which SSM refuses in a parameter value"
    return None


def bearer_token_problem(value: str) -> str | None:
    """Why a client could never present ``value`` in an ``Authorization: Bearer`` header, or None."""
    if value != value.strip(" \t"):
        return "starts or ends with whitespace, which HTTP strips from a header: no client could send it"
    if not _PRINTABLE_ASCII.fullmatch(value):
        position = next(i for i, char in enumerate(value) if not _PRINTABLE_ASCII.fullmatch(char))
        return (
            f"has a character outside printable ASCII (position {position + 1}), which no client can send "
            "unchanged in an Authorization header"
        )
    return None
