"""Typed route parameters shared by the pages and the API, each bounded to what the store can hold.

An item id past the INTEGER column's range fails validation on the path (answered 404: no such
item) instead of reaching PostgreSQL or SQLite's driver as a number they cannot take (a 500 before).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from pantau.queue.reads import ID_MAX, OFFSET_MAX

PAGE_MAX = 1_000_000  # pages of the queue page; page × page_size stays far inside OFFSET_MAX

ItemId = Annotated[int, Path(ge=1, le=ID_MAX, description="an item id")]
CampaignId = Annotated[int, Path(ge=1, le=ID_MAX, description="a campaign id")]
ItemIdFilter = Annotated[int | None, Query(ge=1, le=ID_MAX, description="only this item's events")]
ComplaintItem = Annotated[int | None, Query(ge=1, le=ID_MAX, description="only this item's complaint")]
Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX)]
PageNo = Annotated[int, Query(alias="page", ge=1, le=PAGE_MAX)]

__all__ = ["PAGE_MAX", "CampaignId", "ComplaintItem", "ItemId", "ItemIdFilter", "Offset", "PageNo"]
