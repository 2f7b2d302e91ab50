"""Request and response bodies for the members API (the HTTP edge only)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)
    display_name: str = Field(max_length=200)
    role: Literal["member", "requester"] = "member"


class LoginIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)
    token_name: str = Field(default="api", max_length=100)


class MemberOut(BaseModel):
    id: int
    pseudonym: str
    display_name: str
    role: str
    created_at: datetime


class MeOut(MemberOut):
    email: str


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The secret. Shown once; store it now.")


class TokenIn(Strict):
    name: str = Field(max_length=100)


class RoleIn(Strict):
    role: Literal["member", "requester", "steward"]


class MemberPage(BaseModel):
    data: list[MemberOut]
    next_after: int | None
