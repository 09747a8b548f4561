"""The observability renderers are pure: no Pulumi, directly or through what they import."""

from __future__ import annotations

from pathlib import Path

from import_graph import reachable, read_graph

import components

# --- purity -------------------------------------------------------------------------------------------------


def test_observability_renderers_import_no_pulumi() -> None:
    # The renderers and every package module they import, transitively; Monitoring (the component), the
    # monitoring host helper and the alert topics are not renderers.
    modules = read_graph(Path(components.__file__).parent)
    renderers = [
        name
        for name in modules
        if name.startswith("components.observability")
        and name
        not in {
            "components.observability.monitoring",
            "components.observability.monitoring_host",
            "components.observability.alert_delivery",
        }
    ]
    assert len(renderers) >= 5
    for renderer in renderers:
        for name in reachable(modules, renderer):
            assert not {e for e in modules[name].external if e.startswith("pulumi")}, (renderer, name)
