"""The room's poller survives a full or failing channel layer: a consumer that stopped polling
would leave a client that missed a broadcast waiting for the next event."""

import asyncio

import pytest
from channels.exceptions import ChannelFull

from opening.consumers import OpeningRoomConsumer


class FlakyLayer:
    def __init__(self, failures):
        self.failures = list(failures)
        self.sent = 0

    async def send(self, channel, message):
        if self.failures:
            raise self.failures.pop(0)
        self.sent += 1


@pytest.mark.asyncio
async def test_polling_goes_on_after_the_layer_is_full_or_times_out():
    consumer = OpeningRoomConsumer()
    consumer.channel_name = "test.channel"
    consumer.channel_layer = FlakyLayer([ChannelFull(), TimeoutError("Timeout reading from redis")])
    consumer.closed = False
    poller = asyncio.ensure_future(consumer._poll_every(0.01))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if consumer.channel_layer.sent >= 2:
            break
    consumer.closed = True
    poller.cancel()
    assert consumer.channel_layer.sent >= 2 and not consumer.channel_layer.failures


@pytest.mark.asyncio
async def test_the_database_look_is_skipped_while_broadcasts_arrive_and_resumes_when_the_room_is_quiet(monkeypatch):
    looked = []
    monkeypatch.setattr("opening.consumers.events_after", lambda room, seq, limit: looked.append(seq) or [])
    consumer = OpeningRoomConsumer()
    consumer.closed, consumer.sent_seq, consumer.room, consumer.poll_seconds = False, 7, "opening-1", 0.05
    await consumer.room_event({"event": {"seq": 7}})  # a broadcast just arrived (already sent)
    await consumer.room_poll({})
    assert looked == []
    await asyncio.sleep(0.06)
    await consumer.room_poll({})
    assert looked == [7]
