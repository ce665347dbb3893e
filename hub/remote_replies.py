"""Messages another hub process stored or sent reach the live sockets (web chat tabs) connected to this one."""

from __future__ import annotations

from aiohttp import web

from channels.render import render_for
from hub.events import DeliveryChanged, Event, Handler, MessageReceived
from hub.keys import CHANNELS, DATABASE, QUERIES
from hub.queries import conversation_recipient

# record_send_result publishes one of these once per reply, from the process that sent it.
_SENT = ("sent", "delivered")


def remote_reply_mirror(app: web.Application) -> Handler:
    """A bus subscriber for remote events: push another process's messages to this process's sockets.

    The process that sends a reply pushes it to the sockets it holds, and the process a visitor wrote
    on echoes the message to the visitor's other tabs there; tabs on other processes would otherwise
    see either only on reconnect. Only channels with live sockets (those with `connected_addresses`)
    are mirrored, through their `send`, which for them only pushes to open sockets; nothing is sent to
    a provider twice.
    """

    async def mirror(event: Event) -> None:
        if isinstance(event, DeliveryChanged):
            if event.status not in _SENT:
                return
        elif not isinstance(event, MessageReceived):
            return
        live = {kind: ch for kind, ch in app[CHANNELS].items() if hasattr(ch, "connected_addresses")}
        if not any(ch.connected_addresses() for ch in live.values()):  # type: ignore[attr-defined]
            return
        target = await conversation_recipient(app[DATABASE], event.conversation_id)
        if target is None or target[0] not in live:
            return
        channel = live[target[0]]
        if target[1] not in channel.connected_addresses():  # type: ignore[attr-defined]
            return
        outbound = await app[QUERIES].outbound(event.message_id)
        await channel.send(render_for(channel.capabilities, outbound))

    return mirror
