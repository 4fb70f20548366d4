"""Settings read from the environment (prefix ``DIREKTE_``), with safe defaults."""

from __future__ import annotations

import secrets
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIREKTE_", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    secret_key: str = Field(default="", description="at least 32 characters when set")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "info"
    token_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    db_pool_size: int = Field(default=5, ge=1)
    sweep_interval_seconds: int = Field(default=60, ge=1)
    smtp_url: str = Field(default="", description="smtp://host:port; e-mail is off when empty")
    mail_from: str = "direkte <no-reply@direkte.invalid>"
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="where the web app is, for e-mail links"
    )
    webhook_allow_private: bool = False

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if value:
            smtp_address(value)
        return value

    # Limits (API.md "Authentication"); a rate is "N/second|minute|hour", or "off".
    redis_url: str = ""
    redis_prefix: str = "direkte"
    rate_limit: str = "600/minute"
    rate_limit_anonymous: str = "120/minute"
    login_max_failures: int = Field(default=5, ge=1)
    login_lock_seconds: int = Field(default=15 * 60, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Origins whose browser scripts may call the API, comma-separated; empty: CORS off.
    cors_origins: str = ""

    @field_validator("rate_limit", "rate_limit_anonymous")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        if value.strip().lower() not in ("", "off"):
            parse(value)  # raises ValueError
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("DIREKTE_SECRET_KEY must have at least 32 characters")
        return value

    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def embedded(self) -> bool:
        return not self.database_url

    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or the embedded SQLite file."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'direkte.sqlite3').resolve()}"

    @cached_property
    def signing_key(self) -> str:
        """The signing key: configured, or one kept in the data folder so that
        every process on this machine shares it and restarts keep tokens valid."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def smtp_address(url: str) -> tuple[str, int]:
    """The host and port of an ``smtp://host:port`` URL. Raises ValueError, saying why."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "smtp" or not parts.hostname or port == -1 or parts.path not in ("", "/"):
        raise ValueError(f"DIREKTE_SMTP_URL must look like smtp://host:port, not {url!r}")
    return parts.hostname, port or 25


def normalize_database_url(url: str) -> str:
    """Map the plain ``postgresql://`` scheme to the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
