"""The hosts: ``GpuHost`` (gpu_host) and its ``ModelCache`` (model_cache), the stack's secrets for them (secrets)
and SSH access as resources (ssh_access: key pair, Docker providers, key file); pure: how to reach a host (ssh),
its IAM policies (iam), its AMIs and users (ami) and its cloud-init bootstrap (bootstrap/).

Import from the module that defines a name; the package root (``components``) is the public API.
"""
