"""checkRepositories: what createJob would say about each reference, with nothing created."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.unit.api.conftest import Gql

CHECK = """
query ($r: [String!]!) {
  checkRepositories(repositories: $r) { reference location allowed problem }
}"""


async def test_each_reference_gets_its_location_whether_it_is_allowed_and_why_not(
    gql: Gql, make_repo: Callable[..., Path], repos_dir: Path, tmp_path: Path, store: Any
) -> None:
    # GIVEN an allowlist of one folder, a repository inside it and a folder outside it
    repo = make_repo("app")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    refs = [str(repo), f"{repos_dir}/missing", str(outside), "acme/Widget.git", "not a repo", f"{repo}/../app"]
    # WHEN the references are checked
    status, body = await gql(CHECK, {"r": refs})
    # THEN each answer is what createJob would say, in order
    assert status == 200, body
    checks = body["data"]["checkRepositories"]
    assert [c["reference"] for c in checks] == refs
    assert checks[0] == {"reference": str(repo), "location": str(repo), "allowed": True, "problem": None}
    assert checks[1]["allowed"] is True and checks[1]["problem"] == f"no directory at {repos_dir}/missing"
    assert checks[2]["allowed"] is False and "is not allowed; allowed patterns:" in checks[2]["problem"]
    assert checks[3]["location"] == "github.com/acme/widget" and checks[3]["allowed"] is False
    assert checks[4]["location"] is None and checks[4]["allowed"] is False
    assert checks[4]["problem"].startswith("not a repository reference")
    assert checks[5]["location"] == str(repo) and checks[5]["problem"] == f"{repo} is listed twice (also at 0)"
    # AND nothing was created
    assert store.list_jobs(10, None, None).jobs == []


async def test_a_path_outside_the_allowlist_is_not_looked_at(gql: Gql, tmp_path: Path) -> None:
    # GIVEN a path outside the allowlist that does not exist
    # WHEN it is checked
    _, body = await gql(CHECK, {"r": [str(tmp_path / "secret")]})
    # THEN the answer is the allowlist's, revealing nothing about the disk
    (check,) = body["data"]["checkRepositories"]
    assert check["allowed"] is False and "no directory" not in check["problem"]


async def test_an_empty_list_has_no_answers_and_an_overlong_one_is_refused(gql: Gql) -> None:
    # GIVEN no references, then more than a form could hold
    _, empty = await gql(CHECK, {"r": []})
    status, body = await gql(CHECK, {"r": ["acme/app"] * 101})
    # THEN the first has no answers, the second a clear input error
    assert empty["data"]["checkRepositories"] == []
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["message"] == "check at most 100 repositories at once"
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
