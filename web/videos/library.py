"""A page of the library, as the query arguments of ``GET /api/videos`` and of the
library page ask for it: filtered by state, searched by file name, one user's or (for an
admin) everyone's, newest first, a cursor for the next page."""

from __future__ import annotations

import re
from collections.abc import Mapping

from transcoder.accounts.users import User
from transcoder.errors import InvalidInput
from transcoder.records.states import Video, VideoState

from ..auth.access import owner_filter
from ..services import services

#: What no file name or search holds: C0 and C1 control characters, DEL.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def library_page(args: Mapping[str, str], user: User) -> tuple[list[Video], str | None]:
    """The library page these query arguments ask for (the API's and the page's): an
    uploader's own videos, or an admin's choice of everyone's (``owner`` names one user)."""
    state = args.get("state") or None
    if state is not None and state not in {s.value for s in VideoState}:
        names = ", ".join(s.value for s in VideoState)
        raise InvalidInput(f"state must be one of {names}, not {state!r}.", code="bad_filter")
    try:
        limit = min(max(int(args.get("limit") or 50), 1), 200)
    except ValueError:
        raise InvalidInput("limit must be a whole number from 1 to 200.", code="bad_filter") from None
    query = args.get("q") or ""
    if CONTROL.search(query):
        # A NUL reached the search as a pattern that matched every video.
        raise InvalidInput("q must not hold control characters.", code="bad_filter")
    query = query.strip()[:100]
    owner = owner_filter(user)
    if user.admin and (name := (args.get("owner") or "").strip()):
        found = services().users.by_name(name[:64])
        if found is None:
            raise InvalidInput(f"No user named {name[:64]!r}.", code="bad_filter")
        owner = found.id
    cursor = args.get("cursor") or None
    return services().videos.page(state=state, query=query, cursor=cursor, limit=limit, owner=owner)
