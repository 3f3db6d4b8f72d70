"""The event bus: one interface, an in-process backend (embedded) and a Kafka backend."""

from shared.bus.base import EventBus, Handler, Message

__all__ = ["EventBus", "Handler", "Message"]
