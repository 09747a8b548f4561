"""pricing.source: the snapshot's prices by default; the AWS Price List's at preview/up when live (#12 item 3)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from repo import DATA_DIR
from stack_runs import named, run_stack, stack_raw

from components.catalog.price_list import PriceListError, on_demand_usd_per_hour, price_list_region, product_filters
from components.cli.offline import PRICE_LIST_TOKEN, OfflineAws

RECORDED = (DATA_DIR / "price_list" / "g6.xlarge-us-east-1.json").read_text(encoding="utf-8")
PROVIDER = "pulumi:providers:aws"
LIVE = {"source": "live"}


@dataclass
class PriceListAws(OfflineAws):
    """The AWS a real preview talks to: the Price List answers with ``product`` (the provider's ``result``)."""

    product: str = RECORDED

    def failures(self, token: str, args: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [] if token == PRICE_LIST_TOKEN else super().failures(token, args)

    def answer(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        if token == PRICE_LIST_TOKEN:
            return {
                "id": "product",
                "serviceCode": args["serviceCode"],
                "filters": args["filters"],
                "result": self.product,
            }
        return super().answer(token, args)


def _price_list_calls(run: Any) -> list[dict[str, Any]]:
    return [args for token, args in run.invokes if token == PRICE_LIST_TOKEN]


def test_by_default_prices_are_the_snapshots_and_the_price_list_is_never_asked() -> None:
    run = run_stack("dev", aws=PriceListAws())
    assert run.outputs["instancePrices"] == {
        "qwen-7b": {
            "instanceType": "g6.xlarge",
            "market": "on-demand",
            "usdPerHour": 0.8048,
            "source": "snapshot 2026-07-20",
        }
    }
    assert _price_list_calls(run) == [] and not [r for r in run.resources if r.type == PROVIDER]


def test_live_reads_the_on_demand_price_from_the_price_list_through_a_us_east_1_provider() -> None:
    run = run_stack("dev", aws=PriceListAws(region="eu-west-1"), pricing=LIVE, **{"aws:region": "eu-west-1"})
    assert run.outputs["instancePrices"]["qwen-7b"] == {
        "instanceType": "g6.xlarge",
        "market": "on-demand",
        "usdPerHour": 0.9,
        "source": "AWS Price List, live",
    }
    # botocore data/endpoints.json api.pricing: the aws partition's endpoints are us-east-1, eu-central-1, ap-south-1.
    assert named(run, "price-list").type == PROVIDER and named(run, "price-list").inputs["region"] == "us-east-1"
    (call,) = _price_list_calls(run)
    assert call["serviceCode"] == "AmazonEC2"
    assert {f["field"]: f["value"] for f in call["filters"]} == {
        "instanceType": "g6.xlarge",
        "regionCode": "eu-west-1",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
        "marketoption": "OnDemand",
    }


# What Karpenter filters GetProducts with for the on-demand price of a Linux instance type (aws/karpenter-provider-aws
# pkg/providers/pricing/pricing.go fetchOnDemandPricing and UpdateOnDemandPricing, 09303f3): the catalog's on-demand
# prices are generated from its answers, so the live read asks for the same products.
KARPENTER_ON_DEMAND_FILTERS = {
    "regionCode": "eu-west-1",
    "preInstalledSw": "NA",
    "operatingSystem": "Linux",
    "capacitystatus": "Used",
    "marketoption": "OnDemand",
    "tenancy": "Shared",
}


def test_the_live_read_asks_for_the_products_karpenter_prices() -> None:
    filters = dict(product_filters("g6.xlarge", "eu-west-1"))
    assert KARPENTER_ON_DEMAND_FILTERS.items() <= filters.items()
    # Beyond Karpenter's (which reads every type of the region at once): the one type, and the licence model
    # ("No License required", not "Bring your own license"), so that exactly one product matches.
    assert set(filters) - set(KARPENTER_ON_DEMAND_FILTERS) == {"instanceType", "licenseModel"}


def test_the_offline_plan_never_reads_the_price_list_and_says_so() -> None:
    run = run_stack("dev", pricing=LIVE)
    assert run.outputs["instancePrices"]["qwen-7b"]["source"] == "snapshot 2026-07-20"
    (warning,) = [w for w in run.warnings if "AWS Price List" in w]
    assert "the offline plan never reads the live AWS Price List" in warning
    assert "its price is the snapshot 2026-07-20" in warning


def test_an_answer_that_is_not_one_price_keeps_the_snapshot_with_a_warning() -> None:
    product = json.loads(RECORDED)
    (offer,) = product["terms"]["OnDemand"].values()
    (dimension,) = offer["priceDimensions"].values()
    offer["priceDimensions"]["second"] = {**dimension, "pricePerUnit": {"USD": "1.5"}}
    run = run_stack("dev", aws=PriceListAws(product=json.dumps(product)), pricing=LIVE)
    assert run.outputs["instancePrices"]["qwen-7b"]["source"] == "snapshot 2026-07-20"
    assert any("expected one on-demand hourly USD price, found $0.9, $1.5" in w for w in run.warnings)


def test_spot_hosts_keep_the_snapshots_spot_price() -> None:
    run = run_stack("dev", aws=PriceListAws(), pricing=LIVE, models=[_dev_model(spot=True)])
    price = run.outputs["instancePrices"]["qwen-7b"]
    assert price["market"] == "spot" and price["source"] == "snapshot (skypilot-csv, undated)"
    assert _price_list_calls(run) == []


def _dev_model(**changes: Any) -> dict[str, Any]:
    raw, _ = stack_raw("dev")
    return {**raw["models"][0], **changes}


def test_the_parser_reads_the_recorded_product_and_refuses_what_is_not_a_price() -> None:
    assert on_demand_usd_per_hour(RECORDED) == 0.9
    with pytest.raises(PriceListError, match="found none"):
        on_demand_usd_per_hour(json.dumps({"terms": {"OnDemand": {}}}))
    with pytest.raises(PriceListError, match="not JSON"):
        on_demand_usd_per_hour("<html>")
    assert price_list_region("cn-north-1") == "cn-northwest-1" and price_list_region("ap-southeast-2") == "us-east-1"
