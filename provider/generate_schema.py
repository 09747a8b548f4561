"""Write provider/schema.json: the package schema the SDK analyzer infers, offline (no Pulumi CLI).

Run from the repository root after changing the component's inputs or outputs, and commit the result:

    .venv/bin/python provider/generate_schema.py

tests/project/test_provider.py fails while the committed file differs from what this script writes.
"""

import json
import sys
from pathlib import Path

PROVIDER_DIR = Path(__file__).resolve().parent
SCHEMA_FILE = PROVIDER_DIR / "schema.json"
sys.path[:0] = [str(PROVIDER_DIR), str(PROVIDER_DIR.parent)]

from pulumi.provider.experimental.component import ComponentProvider  # noqa: E402

# The provider imports the installed package, vllm_aws; here it is this checkout's components/, by that name.
from components.cli.program import share_installed_name  # noqa: E402

share_installed_name()

import vllm_aws  # noqa: E402
from vllm_aws_provider import VllmDeployment  # noqa: E402

PACKAGE = "vllm-aws"


def provider() -> ComponentProvider:
    return ComponentProvider([VllmDeployment], PACKAGE, version=vllm_aws.__version__)


def schema() -> dict[str, object]:
    text = provider().schema
    assert text is not None, "the SDK inferred no schema"
    loaded: dict[str, object] = json.loads(text)
    return loaded


def render() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    SCHEMA_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE.relative_to(Path.cwd()) if SCHEMA_FILE.is_relative_to(Path.cwd()) else SCHEMA_FILE}")


if __name__ == "__main__":
    main()
