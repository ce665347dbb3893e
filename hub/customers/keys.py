"""The app key the customer-records service lives under."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from hub.customers.service import CustomersService

CUSTOMERS: web.AppKey[CustomersService] = web.AppKey("kefu.customers")
