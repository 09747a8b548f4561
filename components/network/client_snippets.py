"""Ready-to-paste client snippets for the stack outputs (the API key is read from the stack, never embedded)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence

API_KEY_COMMAND = "pulumi stack output apiKey --show-secrets"


def curl(base_url: str, model: str) -> str:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Hello!"}]})
    return (
        f"curl -sS {shlex.quote(base_url + '/chat/completions')} "
        f'-H "Authorization: Bearer $({API_KEY_COMMAND})" '
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )


def openai_python(base_url: str, model: str) -> str:
    return (
        "# export OPENAI_API_KEY=$(" + API_KEY_COMMAND + ")\n"
        "from openai import OpenAI\n"
        f'client = OpenAI(base_url="{base_url}")\n'
        f'reply = client.chat.completions.create(model="{model}", '
        'messages=[{"role": "user", "content": "Hello!"}])\n'
        "print(reply.choices[0].message.content)\n"
    )


def model_base_urls(scheme: str, alb_dns: str, models: Sequence[str], domain: str | None) -> dict[str, str]:
    """A base URL per model for an OpenAI client: the host route when a domain is set, else the path prefix."""
    return {name: f"{scheme}://{name}.{domain}/v1" if domain else f"{scheme}://{alb_dns}/{name}/v1" for name in models}
