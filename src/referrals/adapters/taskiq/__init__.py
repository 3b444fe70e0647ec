"""The task queue: taskiq brokers, the code-delivery task, and the CodeSender."""

from referrals.adapters.taskiq.broker import (
    ReclaimingRedisStreamBroker,
    ReclaimingRedisStreamClusterBroker,
    build_broker,
)
from referrals.adapters.taskiq.tasks import DELIVER_CODE, TaskiqCodeSender, register_tasks

__all__ = [
    "DELIVER_CODE",
    "ReclaimingRedisStreamBroker",
    "ReclaimingRedisStreamClusterBroker",
    "TaskiqCodeSender",
    "build_broker",
    "register_tasks",
]
