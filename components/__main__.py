"""Entry point of ``python -m vllm_aws`` (``python -m components`` in a checkout)."""

from .cli import main
from .cli.event_loops import close_main_loop

try:
    code = main()
finally:
    close_main_loop()
raise SystemExit(code)
