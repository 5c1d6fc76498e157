"""Tests that need system parts (Chromium, Open MPI): skip locally, fail in CI."""

import os

import pytest


def in_ci() -> bool:
    """True under CI (CI=true), where a missing system part is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_or_fail(reason: str, *, ci_hint: str) -> None:
    """Skip locally with ``reason``; fail in CI, where these tests must run."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: {ci_hint})", pytrace=False)
    pytest.skip(reason)
