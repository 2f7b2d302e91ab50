"""Settings, read from ``DATACOOP_*`` environment variables (documented in docs/settings.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DATACOOP_", extra="ignore")

    data_dir: Path = Field(
        default=Path("."),
        description="Directory holding the SQLite database, the signing key and media files.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Unset: SQLite at DATA_DIR/datacoop.db. "
        "PostgreSQL: postgresql+psycopg://user:pass@host/db.",
    )
    signing_key_path: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM, mode 0600). "
        "Unset: DATA_DIR/keys/log-signing-key.pem.",
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest JSON request body accepted (bytes)."
    )
    max_import_bytes: int = Field(
        default=200_000_000, ge=1024, description="Largest item import file accepted (bytes)."
    )
    session_days: int = Field(default=14, ge=1, description="Lifetime of a browser session.")
    argon2_time_cost: int = Field(default=3, ge=1, description="argon2id time cost.")
    argon2_memory_kib: int = Field(default=65536, ge=8, description="argon2id memory (KiB).")
    secure_cookies: bool = Field(
        default=False, description="Mark cookies Secure (set when served over HTTPS)."
    )
    payout_debtor_name: str | None = Field(
        default=None,
        description="The cooperative's account holder name in SEPA payout files (pain.001).",
    )
    payout_debtor_iban: str | None = Field(
        default=None, description="The cooperative's IBAN that SEPA payouts are paid from."
    )
    payout_debtor_bic: str | None = Field(
        default=None, description="The BIC of that account (optional)."
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'datacoop.db').resolve()}"

    def resolved_signing_key_path(self) -> Path:
        return self.signing_key_path or (self.data_dir / "keys" / "log-signing-key.pem")

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"
