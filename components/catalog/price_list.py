"""The AWS Price List's answer for one EC2 instance type: which product to ask for, where to ask, and its price.

``pricing.source: live`` reads each model's on-demand price at ``pulumi preview``/``up`` through
``aws.pricing.get_product`` (the Terraform data source aws_pricing_product: GetProducts with TERM_MATCH filters,
which must match exactly one product). The product is the Linux, shared-tenancy, on-demand instance without
pre-installed software. Field names: instanceType, operatingSystem, tenancy, preInstalledSw, capacitystatus ("Used":
a running instance, not reserved capacity) and licenseModel as pulumi-aws's own EC2 example of get_product spells
them (pulumi_aws 7.51.1 pricing/get_product.py docstring); regionCode instead of its location name, and marketoption
"OnDemand" (not Capacity Blocks). Karpenter asks GetProducts for the same on-demand Linux products with the same
fields and values (regionCode, preInstalledSw "NA", operatingSystem "Linux", capacitystatus "Used", marketoption
"OnDemand", tenancy "Shared": aws/karpenter-provider-aws pkg/providers/pricing/pricing.go fetchOnDemandPricing,
09303f3), the source of the catalog's own on-demand prices. A filter that matches nothing keeps the snapshot's
price, with a warning.
The answer is one Price List JSON document; its shape (product.attributes, terms.OnDemand.<offer>.
priceDimensions.<rate>.unit and pricePerUnit.USD, publicationDate) is the one botocore's example of GetProducts
shows (botocore 1.43.11 data/pricing/2017-10-15/examples-1.json).
"""

from __future__ import annotations

import json
from typing import Any

LIVE_SOURCE = "AWS Price List, live"
SERVICE_CODE = "AmazonEC2"


class PriceListError(ValueError):
    """The Price List's answer is not one hourly USD price."""


def price_list_region(stack_region: str) -> str:
    """Where the Price List Query API answers for the stack's partition.

    botocore 1.43.11 data/endpoints.json, service ``api.pricing``: partition aws has us-east-1, eu-central-1 and
    ap-south-1 only; aws-cn has cn-northwest-1. Any of a partition's endpoints prices every region of it.
    """
    return "cn-northwest-1" if stack_region.startswith("cn-") else "us-east-1"


def product_filters(instance_type: str, stack_region: str) -> list[tuple[str, str]]:
    """(field, value) pairs that pick the type's Linux on-demand product in the stack's region."""
    return [
        ("instanceType", instance_type),
        ("regionCode", stack_region),
        ("operatingSystem", "Linux"),
        ("tenancy", "Shared"),
        ("preInstalledSw", "NA"),
        ("capacitystatus", "Used"),
        ("licenseModel", "No License required"),
        ("marketoption", "OnDemand"),
    ]


def on_demand_usd_per_hour(product_json: str) -> float:
    """The product's on-demand hourly USD price; a document with none, or with two different ones, is an error."""
    try:
        product: Any = json.loads(product_json)
    except json.JSONDecodeError as error:
        raise PriceListError(f"the answer is not JSON ({error})") from None
    offers = product.get("terms", {}).get("OnDemand", {}) if isinstance(product, dict) else {}
    prices = {
        float(dimension["pricePerUnit"]["USD"])
        for offer in (offers.values() if isinstance(offers, dict) else ())
        for dimension in offer.get("priceDimensions", {}).values()
        if dimension.get("unit") == "Hrs" and "USD" in dimension.get("pricePerUnit", {})
    }
    if len(prices) != 1:
        found = ", ".join(f"${price}" for price in sorted(prices)) or "none"
        raise PriceListError(f"expected one on-demand hourly USD price, found {found}")
    return prices.pop()
