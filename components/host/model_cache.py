"""ModelCache: the persistent gp3 volume that holds a replica's weights and compile caches."""

from __future__ import annotations

from typing import Annotated

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field

from .._naming import MODEL_CACHE_ROLE, ROLE_TAG, child_name, merge_tags, type_token

StrInput = str | pulumi.Output[str]


class ModelCacheArgs(BaseModel):
    """Inputs of a :class:`ModelCache`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    availability_zone: Annotated[str, Field(description="AZ of the host it serves; never changes afterwards.")]
    size_gib: Annotated[int, Field(ge=20, le=65536, description="Volume size; growing it is done in place.")]
    iops: Annotated[int, Field(ge=3000, le=80000)] = 3000
    throughput_mibps: Annotated[int, Field(ge=125, le=2000)] = 125
    snapshot_id: Annotated[str | None, Field(description="Seed the volume from this snapshot. Default: empty.")] = None
    kms_key_arn: Annotated[
        StrInput | None, Field(description="Customer managed key, for a new volume only. Default: aws/ebs.")
    ] = None
    retain_on_delete: Annotated[
        bool, Field(description="Keep the volume when it leaves the stack. Default: true (the weights survive).")
    ] = True
    tags: dict[str, str] = {}


class ModelCache(pulumi.ComponentResource):
    """An encrypted gp3 volume for one replica's Hugging Face and vLLM caches.

    The volume outlives its host: replacing a GpuHost re-attaches it (the bootstrap never formats a volume
    that has a filesystem), and with ``retain_on_delete`` neither ``pulumi destroy`` nor a replacement
    deletes it.
    """

    volume_id: pulumi.Output[str]
    """ID of the EBS volume (``vol-...``)."""
    availability_zone: pulumi.Output[str]
    """AZ the volume lives in; its host must be there too."""

    def __init__(self, name: str, args: ModelCacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("ModelCache"), name, None, opts)
        volume_name = child_name(name, "volume")
        self.volume = aws.ebs.Volume(
            volume_name,
            availability_zone=args.availability_zone,
            size=args.size_gib,
            type="gp3",
            iops=args.iops,
            throughput=args.throughput_mibps,
            encrypted=True,
            kms_key_id=args.kms_key_arn,
            snapshot_id=args.snapshot_id,
            final_snapshot=False,
            tags=merge_tags(args.tags, {ROLE_TAG: MODEL_CACHE_ROLE}, name=volume_name),
            opts=pulumi.ResourceOptions(
                parent=self,
                retain_on_delete=args.retain_on_delete,
                # These inputs force a new volume, which would be an empty cache: a later change to them
                # (a new seed snapshot, a different AZ choice) must not throw away the downloaded weights.
                ignore_changes=["availabilityZone", "snapshotId", "encrypted", "kmsKeyId"],
            ),
        )
        self.volume_id = self.volume.id
        self.availability_zone = self.volume.availability_zone
        self.register_outputs({"volume_id": self.volume_id, "availability_zone": self.availability_zone})
