"""Shared test setup: this file makes `tests.plancheck` importable from every test folder."""
