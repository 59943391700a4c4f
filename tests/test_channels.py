"""The configured channel layer carries live-room messages: in memory by default, through Redis
when REDIS_URL is set (settings then choose channels_redis). Rooms depend on this round trip."""

import asyncio
import os
import uuid

import pytest
from channels.layers import get_channel_layer
from django.conf import settings


@pytest.fixture
async def layer():
    layer = get_channel_layer()
    yield layer
    # No flush: on a shared Redis it would empty other runs' rooms too; unique groups suffice.
    close_pools = getattr(layer, "close_pools", None)
    if close_pools is not None:  # channels_redis: release this event loop's connections
        await close_pools()


def _group():
    return f"room-{uuid.uuid4().hex}"  # unique, so runs sharing one Redis never cross


def test_the_layer_is_the_one_the_environment_asks_for():
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    expected = "channels_redis.core.RedisChannelLayer" if os.environ.get("REDIS_URL") else (
        "channels.layers.InMemoryChannelLayer")
    assert backend == expected


async def test_a_group_message_reaches_every_member(layer):
    group = _group()
    host, partner = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(group, host)
    await layer.group_add(group, partner)

    event = {"type": "room.event", "seq": 1, "text": "开标开始", "lots": [1, 2]}
    await layer.group_send(group, event)

    assert await asyncio.wait_for(layer.receive(host), timeout=5) == event
    assert await asyncio.wait_for(layer.receive(partner), timeout=5) == event


async def test_a_member_who_left_the_group_hears_nothing(layer):
    group = _group()
    stays, leaves = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(group, stays)
    await layer.group_add(group, leaves)
    await layer.group_discard(group, leaves)

    await layer.group_send(group, {"type": "room.event", "seq": 2})

    assert (await asyncio.wait_for(layer.receive(stays), timeout=5))["seq"] == 2
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(leaves), timeout=0.3)


async def test_messages_to_one_member_arrive_in_order(layer):
    channel = await layer.new_channel()
    for seq in range(1, 6):
        await layer.send(channel, {"type": "room.event", "seq": seq})
    received = [(await asyncio.wait_for(layer.receive(channel), timeout=5))["seq"] for _ in range(5)]
    assert received == [1, 2, 3, 4, 5]
