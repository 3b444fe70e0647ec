"""A channel's failed tries are counted by channel and reason, so an empty
provider balance can be alerted on (docs/sending-codes.md)."""

from referrals.adapters.metrics.events import MetricsSink
from referrals.adapters.metrics.instruments import Metrics
from referrals.application.events import ChannelFailed, Hooks


async def test_a_channel_failure_is_counted_by_channel_and_reason() -> None:
    metrics = Metrics()
    sink = MetricsSink(metrics, Hooks(), gateway="console")
    await sink.publish(ChannelFailed(at=0.0, channel="smsru", reason="insufficient_balance"))
    await sink.publish(ChannelFailed(at=1.0, channel="smsru", reason="insufficient_balance"))
    await sink.publish(ChannelFailed(at=2.0, channel="telegram", reason="unreachable"))
    sample = metrics.registry.get_sample_value
    name = "referrals_channel_failures_total"
    assert sample(name, {"channel": "smsru", "reason": "insufficient_balance"}) == 2
    assert sample(name, {"channel": "telegram", "reason": "unreachable"}) == 1
