"""The front door and where hosts go: ``LoadBalancer`` (load_balancer), ``ModelEndpoint`` (model_endpoint), the AWS
lookups of the network and zones (lookup); pure: routing and rule priorities (routing), the spread of replicas
over zones (placement), client snippets (client_snippets).

Deliberately empty: config.sections imports network.routing, so this package must not import what imports config.
Import from the module that defines a name; the package root (``components``) is the public API.
"""
