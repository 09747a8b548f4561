"""Ready-to-paste client snippets for the stack outputs (the API key is read from the stack, never embedded)."""

from __future__ import annotations

import json
import shlex

from components import routing

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


def model_base_urls(scheme: str, alb_dns: str, models: list[str], domain: str | None) -> dict[str, str]:
    """Per-model OpenAI base URLs (path-prefix routes, or host routes when a domain is set)."""
    return routing.base_urls(scheme, alb_dns, models, domain)
