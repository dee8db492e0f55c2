"""A fake GitHub: the REST endpoints Cody Batch uses, over real HTTP, with local bare repositories.

Used through real PyGithub (`CODY_BATCH_GITHUB_API_URL = fake.url`). Git reaches the bare
repositories through `url.<root>.insteadOf = https://github.com/` (see `install_git_redirect`).
Faults on demand: `fail(...)` for API answers (`after=True`: an error once GitHub has done the
request, as a gateway timing out leaves it), `hold(...)` for an answer kept back until released,
`fail_next_push(...)` for a rejected push, `hold_pushes(...)` for a push stalled in the remote,
`reject_pushes(...)` for a remote that refuses every push in its own words (GH006, archived).
Like GitHub it checks the token's scheme, validates pull-request creation (title, an
existing head, commits between base and head), refuses unknown states and refuses to reopen
a pull request whose head branch was force-pushed or recreated while it was closed; a
renamed or transferred repository (`rename`) answers its old name with a 301.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SECONDARY_RATE_LIMIT = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
PRIMARY_RATE_LIMIT = "API rate limit exceeded for user ID 1."
DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
DRAFTS_UNSUPPORTED = "Draft pull requests are not supported in this repository."

# Stalls a push while `hold-pushes` is a FIFO (until something is written to it, or the pusher dies),
# marking `push-held` once it waits; rejects a push while the counter file holds a positive number,
# as a flaky remote answering 5xx would;
# rejects every push with the message in `reject-pushes` while that file exists, as a refusing remote does.
_PRE_RECEIVE = """#!/bin/sh
here="$(dirname "$0")/.."
if [ -p "$here/hold-pushes" ]; then
  touch "$here/push-held"
  cat "$here/hold-pushes" >/dev/null
fi
f="$here/fail-pushes"
n=$(cat "$f" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then
  echo $((n - 1)) > "$f"
  echo "error: 503 Service Unavailable (injected fault)" >&2
  exit 1
fi
if [ -f "$here/reject-pushes" ]; then
  echo $(( $(cat "$here/push-attempts" 2>/dev/null || echo 0) + 1 )) > "$here/push-attempts"
  cat "$here/reject-pushes" >&2
  exit 1
fi
"""
GH006 = (
    "error: GH006: Protected branch update failed for refs/heads/{branch}.\n"
    "error: Changes must be made through a pull request."
)
ARCHIVED_PUSH = "error: This repository was archived so it is read-only."
REOPEN_REFUSED = "state cannot be changed. The {branch} branch was force-pushed or recreated."


@dataclass
class FakeRepo:
    owner: str
    name: str
    bare: Path
    id: int = 0
    default_branch: str = "main"
    private: bool = False
    archived: bool = False
    push: bool = True
    drafts: bool = True  # False: a plan without draft pull requests (private repository on GitHub Free)
    merge_methods: tuple[str, ...] = ("merge", "squash", "rebase")  # the methods its settings allow
    required_approvals: int = 0  # branch protection of the default branch
    required_checks: tuple[str, ...] = ()  # check runs that must have succeeded on the head

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class FakePull:
    number: int
    repo: str
    head: str
    base: str
    title: str
    body: str
    draft: bool
    state: str = "open"
    merged: bool = False
    closed_head: str | None = None  # the head branch's commit when it was closed: reopening needs it unchanged
    reviews: list[dict[str, Any]] = field(default_factory=list)
    requested_reviewers: list[str] = field(default_factory=list)
    mergeable: bool | None = True
    updated_at: str = field(default_factory=lambda: _now())


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    after: bool = False  # carry the request out first, then answer with the error


@dataclass
class Hold:
    """One answer kept back: `arrived` is set once the request was carried out (or, `before`, once it came),
    `release` lets it go on."""

    method: str
    path: re.Pattern[str]
    before: bool = False  # keep the request back before carrying it out
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def wait(self) -> None:
        self.arrived.set()
        self.release.wait(timeout=120)  # a guard: the test releases it (or the fake's exit does)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.time)  # when it arrived (epoch seconds, this machine's clock)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@dataclass
class FakeGitHub:
    """The fake's state and its HTTP server; start with `with FakeGitHub(root) as fake:`."""

    root: Path
    token: str | None = "test-token"
    login: str = "cody-bot"
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    pulls: list[FakePull] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    moved: dict[str, FakeRepo] = field(default_factory=dict)  # old owner/name -> the repository now
    check_runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by "owner/name@sha"
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by "owner/name@sha", newest last
    lock: threading.Lock = field(default_factory=threading.Lock)
    not_modified: int = 0  # conditional requests answered 304
    comments: list[tuple[str, int, str]] = field(default_factory=list)  # (owner/name, number, body)
    _server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for held in self.holds:
            held.release.set()  # whatever the test did, no handler thread waits on
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def remotes(self) -> Path:
        return self.root / "remotes"

    # -- set-up ------------------------------------------------------------------------

    def add_repo(self, full_name: str, files: dict[str, str] | None = None, **options: Any) -> FakeRepo:
        """A repository with one commit of `files` on its default branch, as a bare repo."""
        owner, name = full_name.lower().split("/")
        repo = FakeRepo(owner, name, self.remotes / owner / f"{name}.git", id=1000 + len(self.repos), **options)
        with tempfile.TemporaryDirectory() as tmp:
            seed = Path(tmp)
            _git(seed, "init", "-q", "-b", repo.default_branch)
            for rel, content in (files or {"README.md": f"# {name}\n"}).items():
                (seed / rel).parent.mkdir(parents=True, exist_ok=True)
                (seed / rel).write_text(content)
            _git(seed, "add", "-A")
            _git(seed, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "-q", "-m", "initial")
            repo.bare.parent.mkdir(parents=True, exist_ok=True)
            _git(seed, "clone", "-q", "--bare", str(seed), str(repo.bare))
        hook = repo.bare / "hooks" / "pre-receive"
        hook.write_text(_PRE_RECEIVE)
        hook.chmod(0o755)
        self.repos[repo.full_name] = repo
        return repo

    def rename(self, old: str, new: str) -> FakeRepo:
        """Rename or transfer a repository: its old name answers with a 301, git's old URL still reaches it."""
        repo = self.repos.pop(old)
        repo.owner, repo.name = new.lower().split("/")
        bare = self.remotes / repo.owner / f"{repo.name}.git"
        bare.parent.mkdir(parents=True, exist_ok=True)
        repo.bare.rename(bare)
        repo.bare.symlink_to(bare)  # GitHub redirects git's requests of the old name too
        repo.bare = bare
        self.repos[repo.full_name] = repo
        self.moved[old] = repo
        return repo

    def close_pull(self, number: int, repo: str | None = None) -> FakePull:
        """Close a pull request as a maintainer would on GitHub."""
        pull = next(p for p in self.pulls if p.number == number and (repo is None or p.repo == repo))
        pull.state, pull.closed_head = "closed", self.branch_head(pull.repo, pull.head)
        return pull

    def pull(self, number: int, repo: str | None = None) -> FakePull:
        """A pull request by number (and repository, when numbers repeat)."""
        return next(p for p in self.pulls if p.number == number and (repo is None or p.repo == repo))

    def merge_pull(self, number: int, repo: str | None = None) -> FakePull:
        """Merge a pull request as a maintainer would on GitHub (the base branch takes the head's commit)."""
        pull = self.pull(number, repo)
        head = self.branch_head(pull.repo, pull.head)
        _git(self.repos[pull.repo].bare, "update-ref", f"refs/heads/{pull.base}", str(head))
        pull.state, pull.merged, pull.closed_head, pull.updated_at = "closed", True, head, _now()
        return pull

    def add_review(self, number: int, user: str, state: str, repo: str | None = None) -> None:
        """A review (APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED) by `user`."""
        pull = self.pull(number, repo)
        pull.reviews.append({"id": len(pull.reviews) + 1, "user": {"login": user}, "state": state})
        pull.updated_at = _now()

    def add_check_run(
        self, number: int, name: str, status: str, conclusion: str | None = None, repo: str | None = None
    ) -> None:
        """A check run on the pull request's head (status queued / in_progress / completed)."""
        pull = self.pull(number, repo)
        key = f"{pull.repo}@{self.branch_head(pull.repo, pull.head)}"
        runs = self.check_runs.setdefault(key, [])
        runs[:] = [r for r in runs if r["name"] != name]
        runs.append({"id": len(runs) + 1, "name": name, "status": status, "conclusion": conclusion})

    def set_status(self, number: int, context: str, state: str, repo: str | None = None) -> None:
        """A commit status (pending / success / failure / error) on the pull request's head."""
        pull = self.pull(number, repo)
        key = f"{pull.repo}@{self.branch_head(pull.repo, pull.head)}"
        self.statuses.setdefault(key, []).append({"context": context, "state": state})

    def delivery(
        self, event: str, payload: dict[str, Any], secret: str, delivery_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook delivery as GitHub sends one: the JSON body and its headers, signed with `secret`."""
        body = json.dumps(payload).encode()
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": f"sha256={digest}",
        }
        return body, headers

    def pull_request_payload(self, number: int, action: str, repo: str | None = None) -> dict[str, Any]:
        """The body of a pull_request (or pull_request_review) delivery about a pull request now."""
        pull = self.pull(number, repo)
        repository = self.repo_json(self.repos[pull.repo], authenticated=False)
        return {"action": action, "number": number, "pull_request": self.pull_json(pull), "repository": repository}

    def check_run_payload(self, number: int, name: str, repo: str | None = None) -> dict[str, Any]:
        """The body of a check_run delivery about a check run on a pull request's head."""
        pull = self.pull(number, repo)
        sha = self.branch_head(pull.repo, pull.head)
        run = next(r for r in self.check_runs[f"{pull.repo}@{sha}"] if r["name"] == name)
        check_run = {
            **run,
            "head_sha": sha,
            "pull_requests": [{"number": number}],
            "check_suite": {"head_branch": pull.head},
        }
        return {
            "action": "completed",
            "check_run": check_run,
            "repository": self.repo_json(self.repos[pull.repo], False),
        }

    def status_payload(self, number: int, context: str, repo: str | None = None) -> dict[str, Any]:
        """The body of a status delivery: like GitHub's, it names the head's branches, not the pull request."""
        pull = self.pull(number, repo)
        sha = self.branch_head(pull.repo, pull.head)
        status = next(s for s in reversed(self.statuses[f"{pull.repo}@{sha}"]) if s["context"] == context)
        return {
            **status,
            "sha": sha,
            "branches": [{"name": pull.head, "commit": {"sha": sha}}],
            "repository": self.repo_json(self.repos[pull.repo], False),
        }

    def reject_pushes(self, full_name: str, message: str) -> None:
        """Refuse every push to a repository with `message` from its pre-receive hook (until `accept_pushes`)."""
        (self.repos[full_name].bare / "reject-pushes").write_text(message + "\n")

    def push_attempts(self, full_name: str) -> int:
        """How many pushes a refusing repository has refused."""
        counter = self.repos[full_name].bare / "push-attempts"
        return int(counter.read_text()) if counter.exists() else 0

    def install_git_redirect(self, gitconfig: Path) -> None:
        """Append to a git config file the rewrite that sends https://github.com/ to the bare repos."""
        with gitconfig.open("a") as out:
            out.write(f'[url "file://{self.remotes}/"]\n\tinsteadOf = https://github.com/\n')

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        message: str = "fault",
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
        after: bool = False,
    ) -> None:
        """Answer the next `times` requests matching `method` and the `path` regex with an error
        (`after`: once the request was carried out, as when GitHub acted but its answer was lost)."""
        fault = Fault(
            method,
            re.compile(path),
            status,
            {"message": message} if body is None else body,
            headers or {},
            times,
            after,
        )
        with self.lock:
            self.faults.append(fault)

    def fail_secondary_rate_limit(self, method: str, path: str, retry_after: int = 1) -> None:
        """One 403 secondary rate limit answer with a Retry-After header."""
        self.fail(method, path, 403, SECONDARY_RATE_LIMIT, headers={"Retry-After": str(retry_after)})

    def hold(self, method: str, path: str, *, before: bool = False) -> Hold:
        """Carry out the next request matching `method` and the `path` regex, then keep its answer back until
        `release` is set (the client sees a request that never returns); `before`: keep it back undone, and
        once released drop it undone."""
        held = Hold(method, re.compile(path), before)
        with self.lock:
            self.holds.append(held)
        return held

    def hold_pushes(self, full_name: str) -> Path:
        """Stall pushes to a repository in its pre-receive hook, on a FIFO (returned) that releases them
        once written to; `push_held` says when one waits."""
        fifo = self.repos[full_name].bare / "hold-pushes"
        os.mkfifo(fifo)
        return fifo

    def push_held(self, full_name: str) -> bool:
        """Whether a push to a repository waits in its pre-receive hook."""
        return (self.repos[full_name].bare / "push-held").exists()

    def fail_next_push(self, full_name: str, times: int = 1) -> None:
        """Reject the next `times` pushes to a repository (its pre-receive hook fails)."""
        (self.repos[full_name].bare / "fail-pushes").write_text(str(times))

    def take(self, pending: list[Any], method: str, path: str) -> Any:
        """The first fault (spending one of its times) or hold (spent at once) matching a request, if any."""
        with self.lock:
            for item in pending:
                if item.method != method or not item.path.search(path):
                    continue
                if isinstance(item, Hold):
                    pending.remove(item)
                    return item
                if item.times > 0:
                    item.times -= 1
                    return item
        return None

    # -- inspection --------------------------------------------------------------------

    def branch_head(self, full_name: str, branch: str) -> str | None:
        """The commit a branch of a bare repository points at, if it exists."""
        bare = self.repos[full_name].bare
        out = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", f"refs/heads/{branch}"], cwd=bare, capture_output=True, text=True
        )
        return out.stdout.strip() or None

    def show(self, full_name: str, ref: str, path: str) -> str:
        """A file's content at a ref of a bare repository."""
        return _git(self.repos[full_name].bare, "show", f"{ref}:{path}")

    def requests_to(self, method: str, pattern: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    # -- JSON --------------------------------------------------------------------------

    def commits_between(self, full_name: str, base: str, head: str) -> int:
        """Commits on `head` that `base` does not have."""
        out = _git(self.repos[full_name].bare, "rev-list", "--count", f"refs/heads/{base}..refs/heads/{head}")
        return int(out.strip())

    def repo_json(self, repo: FakeRepo, authenticated: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": repo.id,
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": {"login": repo.owner, "id": 1, "type": "Organization"},
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "archived": repo.archived,
            "allow_merge_commit": "merge" in repo.merge_methods,
            "allow_squash_merge": "squash" in repo.merge_methods,
            "allow_rebase_merge": "rebase" in repo.merge_methods,
            "disabled": False,
            "default_branch": repo.default_branch,
            "html_url": f"https://github.com/{repo.full_name}",
            "clone_url": f"https://github.com/{repo.full_name}.git",
            "url": f"{self.url}/repos/{repo.full_name}",
        }
        if authenticated:
            data["permissions"] = {"admin": False, "maintain": False, "push": repo.push, "triage": True, "pull": True}
        return data

    def pull_json(self, pull: FakePull) -> dict[str, Any]:
        owner = pull.repo.split("/")[0]
        return {
            "id": 1000 + pull.number,
            "node_id": f"PR_{pull.repo}#{pull.number}",
            "issue_url": f"{self.url}/repos/{pull.repo}/issues/{pull.number}",
            "number": pull.number,
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "draft": pull.draft,
            "merged": pull.merged,
            "mergeable": pull.mergeable if pull.state == "open" else None,
            "updated_at": pull.updated_at,
            "requested_reviewers": [{"login": login} for login in pull.requested_reviewers],
            "requested_teams": [],
            "merged_at": "2024-01-01T00:00:00Z" if pull.merged else None,
            "html_url": f"https://github.com/{pull.repo}/pull/{pull.number}",
            "url": f"{self.url}/repos/{pull.repo}/pulls/{pull.number}",
            "head": {"ref": pull.head, "label": f"{owner}:{pull.head}", "sha": self.branch_head(pull.repo, pull.head)},
            "base": {"ref": pull.base, "label": f"{owner}:{pull.base}"},
            "user": {"login": self.login, "id": 2, "type": "User"},
        }


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops its keep-alive connection is normal; anything else is reported.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        if isinstance(body, _Redirect):
            headers["Location"], body = body.location, {"message": "Moved Permanently", "url": body.location}
        data = b"" if status == 204 else json.dumps(body).encode()
        if self.command == "GET" and status == 200:
            # Like GitHub: an ETag on every answer; the same If-None-Match back gets a bodiless 304.
            headers["ETag"] = '"' + hashlib.sha1(data).hexdigest() + '"'
            if self.headers.get("If-None-Match") == headers["ETag"]:
                status, data = 304, b""
                with self.fake.lock:
                    self.fake.not_modified += 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-RateLimit-Limit", "5000")
        self.send_header("X-RateLimit-Remaining", "4999")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with fake.lock:
            fake.requests.append(RecordedRequest(self.command, parts.path, query, dict(self.headers), body))
        auth = self.headers.get("Authorization")
        if auth is not None:
            scheme, _, credential = auth.partition(" ")
            # GitHub takes a token as "token T" or "Bearer T"; any other scheme or value is refused.
            if scheme.lower() not in {"token", "bearer"} or credential != fake.token:
                return self._send(401, {"message": "Bad credentials"})
        held = fake.take(fake.holds, self.command, parts.path)
        if held is not None and held.before:
            held.wait()
            self.close_connection = True  # dropped undone, as a request that never reached GitHub
            return None
        fault = fake.take(fake.faults, self.command, parts.path)
        if fault is not None and not fault.after:
            return self._send(fault.status, fault.body, fault.headers)
        routes = _Routes(fake, self, authenticated=auth is not None, query=query, body=body)
        status, payload = routes.dispatch(self.command, parts.path)
        if held is not None and not held.before:
            held.wait()
        if fault is not None:
            return self._send(fault.status, fault.body, fault.headers)
        self._send(status, payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


@dataclass
class _Routes:
    fake: FakeGitHub
    handler: _Handler
    authenticated: bool
    query: dict[str, str]
    body: Any

    def dispatch(self, method: str, path: str) -> tuple[int, Any]:
        if method == "GET" and path == "/user":
            if not self.authenticated:
                return 401, {"message": "Requires authentication"}
            return 200, {"login": self.fake.login, "id": 2, "type": "User"}
        if method == "POST" and path in {"/graphql", "/api/graphql"}:
            return self.graphql()
        writes = re.fullmatch(
            r"/repos/([^/]+)/([^/]+)/(issues/(\d+)/comments|pulls/(\d+)/merge|git/refs/heads/(.+))", path
        )
        if writes is not None and method in {"POST", "PUT", "DELETE"}:
            repo = self.fake.repos.get(f"{writes[1]}/{writes[2]}".lower())
            if repo is None or not self.authenticated:
                return 404, {"message": "Not Found"}
            if writes[4] and method == "POST":
                return self.comment(repo, int(writes[4]))
            if writes[5] and method == "PUT":
                return self.merge(repo, int(writes[5]))
            if writes[6] and method == "DELETE":
                return self.delete_branch(repo, writes[6])
            return 404, {"message": "Not Found"}
        by_id = re.fullmatch(r"/repositories/(\d+)", path)
        if by_id is not None and method == "GET":
            found = next((r for r in self.fake.repos.values() if r.id == int(by_id[1])), None)
            if found is None or (found.private and not self.authenticated):
                return 404, {"message": "Not Found"}
            return 200, self.fake.repo_json(found, self.authenticated)
        match = re.fullmatch(
            r"/repos/([^/]+)/([^/]+)(/pulls(?:/(\d+)(/reviews|/merge)?)?|/commits/([0-9a-f]{40})/(check-runs|status))?",
            path,
        )
        if match is None:
            return 404, {"message": "Not Found"}
        name = f"{match[1]}/{match[2]}".lower()
        repo = self.fake.repos.get(name)
        moved = self.fake.moved.get(name)
        if repo is None and moved is not None and not (moved.private and not self.authenticated):
            # GitHub answers an old name with a 301 to the repository's id.
            return 301, _Redirect(f"{self.fake.url}/repositories/{moved.id}{match[3] or ''}")
        if repo is None or (repo.private and not self.authenticated):
            return 404, {"message": "Not Found"}
        if match[3] is None:
            return (200, self.fake.repo_json(repo, self.authenticated)) if method == "GET" else (404, {})
        if not self.authenticated and method != "GET":
            return 401, {"message": "Requires authentication"}
        if match[6] is not None:
            return self.commit_checks(repo, match[6], match[7]) if method == "GET" else (404, {})
        if match[5] == "/reviews":
            return self.reviews(repo, int(match[4])) if method == "GET" else (404, {})
        if match[4] is not None and match[5] is None:
            return self.one_pull(method, repo, int(match[4]))
        if match[4] is not None:
            return 404, {"message": "Not Found"}
        return self.list_pulls(repo) if method == "GET" else self.create_pull(repo)

    def list_pulls(self, repo: FakeRepo) -> tuple[int, Any]:
        state, head = self.query.get("state", "open"), self.query.get("head")
        # head is "owner:branch": owners ignore case, branch names do not. Without the owner
        # GitHub ignores the filter and lists every pull request, as this fake does.
        owner, _, branch = (head or "").rpartition(":")
        found = [
            p
            for p in self.fake.pulls
            if p.repo == repo.full_name
            and (state == "all" or p.state == state)
            and (not owner or (owner.lower() == repo.owner and p.head == branch))
        ]
        return 200, [self.fake.pull_json(p) for p in reversed(found)]

    def create_pull(self, repo: FakeRepo) -> tuple[int, Any]:
        if repo.archived:
            return 403, {"message": "Repository was archived so is read-only."}
        if not repo.push:
            return 403, {"message": "Resource not accessible by personal access token"}
        body = self.body or {}
        head = str(body.get("head", "")).split(":")[-1]
        base = str(body.get("base", ""))
        if not str(body.get("title") or "").strip():
            return 422, _validation({"resource": "PullRequest", "field": "title", "code": "missing_field"})
        if not self.fake.branch_head(repo.full_name, head):
            return 422, _validation({"resource": "PullRequest", "field": "head", "code": "invalid"})
        if not self.fake.branch_head(repo.full_name, base):
            return 422, _validation({"resource": "PullRequest", "field": "base", "code": "invalid"})
        if self.fake.commits_between(repo.full_name, base, head) == 0:
            message = f"No commits between {base} and {head}"
            return 422, _validation({"resource": "PullRequest", "code": "custom", "message": message})
        if body.get("draft") and not repo.drafts:
            return 422, {"message": DRAFTS_UNSUPPORTED, "documentation_url": DOCS}
        with self.fake.lock:
            if any(p.repo == repo.full_name and p.head == head and p.state == "open" for p in self.fake.pulls):
                message = f"A pull request already exists for {repo.owner}:{head}."
                return 422, _validation({"resource": "PullRequest", "code": "custom", "message": message})
            pull = FakePull(
                number=len(self.fake.pulls) + 1,
                repo=repo.full_name,
                head=head,
                base=base,
                title=str(body.get("title", "")),
                body=str(body.get("body") or ""),
                draft=bool(body.get("draft", False)),
            )
            self.fake.pulls.append(pull)
        return 201, self.fake.pull_json(pull)

    def graphql(self) -> tuple[int, Any]:
        # Only the mutation GitHub offers no REST endpoint for: markPullRequestReadyForReview.
        if not self.authenticated:
            return 401, {"message": "This endpoint requires you to be authenticated."}
        body = self.body or {}
        node = ((body.get("variables") or {}).get("input") or {}).get("pullRequestId", "")
        if "markPullRequestReadyForReview" not in str(body.get("query")):
            return 200, {"errors": [{"message": "unsupported by the fake"}]}
        pull = next((p for p in self.fake.pulls if f"PR_{p.repo}#{p.number}" == node), None)
        if pull is None:
            return 200, {
                "errors": [
                    {"type": "NOT_FOUND", "message": f"Could not resolve to a node with the global id of '{node}'"}
                ]
            }
        pull.draft, pull.updated_at = False, _now()
        return 200, {
            "data": {"markPullRequestReadyForReview": {"clientMutationId": None, "pullRequest": {"isDraft": False}}}
        }

    def comment(self, repo: FakeRepo, number: int) -> tuple[int, Any]:
        text = str((self.body or {}).get("body") or "")
        if not any(p.repo == repo.full_name and p.number == number for p in self.fake.pulls):
            return 404, {"message": "Not Found"}
        if not text:
            return 422, _validation({"resource": "IssueComment", "field": "body", "code": "missing_field"})
        with self.fake.lock:
            self.fake.comments.append((repo.full_name, number, text))
            comment_id = len(self.fake.comments)
        return 201, {"id": comment_id, "body": text, "user": {"login": self.fake.login, "id": 2, "type": "User"}}

    def merge(self, repo: FakeRepo, number: int) -> tuple[int, Any]:
        pull = next((p for p in self.fake.pulls if p.repo == repo.full_name and p.number == number), None)
        if pull is None:
            return 404, {"message": "Not Found"}
        method = (self.body or {}).get("merge_method") or "merge"
        if method not in repo.merge_methods:
            return 405, {"message": f"{method.capitalize()} merges are not allowed on this repository."}
        if pull.state != "open" or pull.draft:
            return 405, {"message": "Pull Request is not mergeable"}
        approvals = {r["user"]["login"] for r in pull.reviews if r["state"] == "APPROVED"}
        if len(approvals) < repo.required_approvals:
            needed = repo.required_approvals
            return 405, {"message": f"At least {needed} approving review is required by reviewers with write access."}
        sha = self.fake.branch_head(repo.full_name, pull.head)
        passed = {
            r["name"] for r in self.fake.check_runs.get(f"{repo.full_name}@{sha}", []) if r["conclusion"] == "success"
        }
        missing = [c for c in repo.required_checks if c not in passed]
        if missing:
            return 405, {"message": f'Required status check "{missing[0]}" is expected.'}
        self.fake.merge_pull(number, repo.full_name)
        return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

    def delete_branch(self, repo: FakeRepo, branch: str) -> tuple[int, Any]:
        if self.fake.branch_head(repo.full_name, branch) is None:
            return 422, {"message": "Reference does not exist"}
        _git(repo.bare, "update-ref", "-d", f"refs/heads/{branch}")
        return 204, None

    def reviews(self, repo: FakeRepo, number: int) -> tuple[int, Any]:
        pull = next((p for p in self.fake.pulls if p.repo == repo.full_name and p.number == number), None)
        return (404, {"message": "Not Found"}) if pull is None else (200, pull.reviews)

    def commit_checks(self, repo: FakeRepo, sha: str, what: str) -> tuple[int, Any]:
        key = f"{repo.full_name}@{sha}"
        if what == "check-runs":
            runs = self.fake.check_runs.get(key, [])
            return 200, {"total_count": len(runs), "check_runs": runs}
        latest = {s["context"]: s for s in self.fake.statuses.get(key, [])}  # GitHub keeps a context's last
        states = {s["state"] for s in latest.values()}
        state = (
            "failure"
            if states & {"failure", "error"}
            else "pending"
            if "pending" in states or not states
            else "success"
        )
        return 200, {"state": state, "sha": sha, "total_count": len(latest), "statuses": list(latest.values())}

    def one_pull(self, method: str, repo: FakeRepo, number: int) -> tuple[int, Any]:
        pull = next((p for p in self.fake.pulls if p.repo == repo.full_name and p.number == number), None)
        if pull is None:
            return 404, {"message": "Not Found"}
        if method == "PATCH":
            changes = self.body or {}
            state = changes.get("state", pull.state)
            if state not in {"open", "closed"}:
                return 422, _validation({"resource": "PullRequest", "field": "state", "code": "invalid"})
            head = self.fake.branch_head(repo.full_name, pull.head)
            reopening = state == "open" and pull.state == "closed"
            if reopening and (pull.merged or head is None or head != pull.closed_head):
                message = REOPEN_REFUSED.format(branch=pull.head)
                return 422, _validation({"resource": "PullRequest", "code": "custom", "message": message})
            if state == "closed" and pull.state == "open":
                pull.closed_head = head
            for key in ("title", "body"):
                if key in changes:
                    setattr(pull, key, changes[key])
            pull.state, pull.updated_at = state, _now()
        return 200, self.fake.pull_json(pull)


@dataclass
class _Redirect:
    location: str


def _validation(error: dict[str, Any]) -> dict[str, Any]:
    return {"message": "Validation Failed", "errors": [error]}
