"""The hub side of the web chat's reads: history by visitor address, typing to agents."""
from __future__ import annotations

from typing import Any

from hub.events import Bus, Typing
from hub.queries import Queries


class WebchatDirectory:
    """Implements channels.webchat.adapter.VisitorDirectory over the hub's queries and bus."""

    channel = "webchat"

    def __init__(self, queries: Queries, bus: Bus) -> None:
        self.queries = queries
        self.bus = bus

    async def history(self, address: str, after: tuple[int, int] | None) -> list[dict[str, Any]]:
        """Everything the visitor may see after their cursor."""
        customer_id = await self.queries.visitor_customer(self.channel, address)
        if customer_id is None:
            return []
        return await self.queries.channel_history(customer_id, self.channel, after=after)

    async def typing(self, address: str, active: bool) -> None:
        """Tell the agents the visitor is typing in their open conversation."""
        customer_id = await self.queries.visitor_customer(self.channel, address)
        if customer_id is None:
            return
        conversation_id = await self.queries.open_conversation_for(customer_id, self.channel)
        if conversation_id is not None:
            await self.bus.publish(Typing(conversation_id, "customer", active))
