"""The typed application key under which the hub keeps its knowledge base."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from knowledge_base.service import KnowledgeBase

KNOWLEDGE_BASE: web.AppKey[KnowledgeBase] = web.AppKey("kefu.knowledge_base")
