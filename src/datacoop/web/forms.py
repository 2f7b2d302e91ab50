"""Reading posted HTML forms: the text fields as a plain dict, for pages with many fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request


async def posted_form(request: Request) -> dict[str, str]:
    """The text fields of a posted form (routes that take files read them themselves)."""
    form = await request.form(max_files=0, max_fields=200)
    return {key: value for key, value in form.items() if isinstance(value, str)}


PostedForm = Annotated[dict[str, str], Depends(posted_form)]
