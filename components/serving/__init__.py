"""What runs on a GPU host: ``VllmServer`` (vllm_server), ``HostExporters`` (host_exporters), and the pure decisions
about the containers (container_spec: GPU slots, environment, entrypoint, healthcheck, logs).

Import from the module that defines a name; the package root (``components``) is the public API.
"""
