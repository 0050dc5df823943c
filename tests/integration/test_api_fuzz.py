"""A property-based run over the API's OpenAPI document (schemathesis): no request the
schema allows makes a server error. The fuzzer signs in as an admin, so it reaches every
endpoint, and aims at the seeded scenario's real rows half the time.

Its own module, with its own store: it may revoke tokens and demote users on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.python import asgi

from fabnet.api import Settings, create_app
from fabnet.services import accounts, editing
from fabnet.services import branches as branch_svc
from fabnet.services import database as db_svc
from fabnet.services.editing import row_key
from fabnet.store import Role, Store
from tests.integration.test_api_fixtures import Seeded

pytest_plugins = ["tests.integration.test_api_fixtures"]

#: examples per operation: enough to meet the classic 5xx (odd numbers, text, keys),
#: few enough for the whole run to take well under a minute
EXAMPLES = 4


@dataclass
class Fuzz:
    """An app to fuzz, its schema, and what keeps the fuzzer's admin signed in."""

    schema: Any
    keeper: Store
    keys: dict[str, list[str]]
    token: str

    def headers(self) -> dict[str, str]:
        """An admin's headers; the fuzzer may have demoted, deactivated or revoked them."""
        ada = accounts.get_user(self.keeper, "ada")
        if not ada.active or ada.role is not Role.ADMIN:
            accounts.update_user(self.keeper, "ada", Role.ADMIN, (), True)
        if accounts.user_for_token(self.keeper, self.token) is None:
            self.token = accounts.issue_token(self.keeper, "ada", "fuzz")[0]
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def fuzz(module_seeded: Seeded) -> Iterator[Fuzz]:
    """The app on a seeded store with a branch `b1`, as schemathesis loads it."""
    keeper = db_svc.connect(module_seeded.url, "fuzz-keeper")
    branch_svc.create_branch(keeper, "b1", "net")
    view = editing.read_scenario(keeper, "net")
    keys = {s: [row_key(s, r) for r in view.rows(s)] for s in view.tables if s != "scenario"}
    app = create_app(Settings(database_url=module_seeded.url, max_samples=3))
    try:
        yield Fuzz(schemathesis.openapi.from_asgi("/openapi.json", app), keeper, keys,
                   module_seeded.tokens[Role.ADMIN])
    finally:
        asgi.shutdown_lifespans()
        keeper.engine.dispose()


def test_no_request_the_schema_allows_makes_a_server_error(fuzz: Fuzz) -> None:
    failures: list[str] = []
    for result in fuzz.schema.get_all_operations():
        operation = result.ok()
        parts = operation.path.split("/")
        keys = fuzz.keys.get(parts[3], []) if len(parts) > 3 else []

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), data=st.data())
        def no_server_error(case: Any, data: st.DataObject) -> None:
            params = case.path_parameters  # aim at things that exist half the time
            if "scenario" in params:
                params["scenario"] = "net"
            if "key" in params:
                params["key"] = data.draw(st.sampled_from([*keys, params["key"]]))  # noqa: B023
            if "branch" in params:
                params["branch"] = data.draw(st.sampled_from(["b1", params["branch"]]))
            response = case.call(headers=fuzz.headers())
            assert response.status_code < 500, \
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}"

        try:
            no_server_error()
        except AssertionError as e:
            failures.append(str(e).splitlines()[0])
    assert not failures, "\n".join(failures)


