"""One partition per municipality, keyed by CBS locality code.

Dynamic, so a data engineer onboards an authority without a code change (`toshav run` and the inbox sensor
add the partition when they first see a municipality)."""

import dagster as dg

municipality_partitions = dg.DynamicPartitionsDefinition(name="municipality")


def municipality_of(context) -> int:
    return int(context.partition_key)
