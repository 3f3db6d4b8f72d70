"""The event bus: one interface, an in-process backend (embedded) and a Kafka backend."""

from shared.bus.base import Accepted, EventBus, Handler, Message, Outgoing

__all__ = ["Accepted", "EventBus", "Handler", "Message", "Outgoing"]
