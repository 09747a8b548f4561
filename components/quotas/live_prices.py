"""Each model's instance price as the stack reports it (the ``instancePrices`` output): the bundled snapshot's, or
with ``pricing.source: live`` the AWS Price List's at ``pulumi preview``/``up``.

The live read is ``aws.pricing.get_product`` through an explicit provider in the Price List's own region
(catalog/price_list.py says which product and where). Spot hosts keep the snapshot's spot price: the Price List
has on-demand prices only. A price that cannot be read (no ``pricing:GetProducts`` permission, no single product,
or the offline plan, whose mock engine never answers it) keeps the snapshot's, with a warning naming why: the
price must not block a deploy that would work.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ..catalog.price_list import (
    LIVE_SOURCE,
    SERVICE_CODE,
    on_demand_usd_per_hour,
    price_list_region,
    product_filters,
)
from ..planner.plan import ModelPlan, StackPlan


def snapshot_price(model: ModelPlan) -> dict[str, object] | None:
    """The model's price as the plan has it, and which snapshot it comes from; None where nothing prices it."""
    price = model.price
    if price is None:
        return None
    return {
        "instanceType": model.instance.name,
        "market": price.market,
        "usdPerHour": price.usd_per_hour,
        # The catalog's source says when its prices were collected; an undated one is named instead.
        "source": f"snapshot {price.source.date or f'({price.source.key}, undated)'}",
    }


def instance_prices(plan: StackPlan) -> dict[str, dict[str, object] | None]:
    """Each model's instance price per hour and its source, by model name."""
    prices = {model.config.name: snapshot_price(model) for model in plan.models}
    if plan.config.pricing.source != "live":
        return prices
    region = plan.config.region
    provider = aws.Provider("price-list", region=price_list_region(region))
    read: dict[str, float | str] = {}  # by instance type: the price, or why it was not read
    for model in plan.models:
        if model.config.spot:
            continue
        name = model.instance.name
        if name not in read:
            read[name] = _read(name, region, provider)
        usd = read[name]
        if isinstance(usd, float):
            prices[model.config.name] = {
                "instanceType": name,
                "market": "on-demand",
                "usdPerHour": usd,
                "source": LIVE_SOURCE,
            }
        else:
            kept = prices[model.config.name]
            pulumi.log.warn(
                f"{model.config.name}: the AWS Price List was not read for {name} in {region} ({usd}); "
                + (f"its price is the {kept['source']}" if kept else "it has no price")
            )
    return prices


def _read(instance_type: str, region: str, provider: aws.Provider) -> float | str:
    """The live on-demand price, or why there is none."""
    try:
        product = aws.pricing.get_product(
            service_code=SERVICE_CODE,
            filters=[
                aws.pricing.GetProductFilterArgs(field=field, value=value)
                for field, value in product_filters(instance_type, region)
            ],
            opts=pulumi.InvokeOptions(provider=provider),
        )
        return on_demand_usd_per_hour(product.result)
    except Exception as error:  # an invoke failure is a plain Exception; PriceListError is a ValueError
        return str(error)
