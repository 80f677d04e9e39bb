"""The deadline rush drill: 300 applicants in the last minute of a call, against the platform as
it is deployed (gunicorn, gthread workers, production settings, PostgreSQL).

The drill builds its own database (``rush_drill_*``, dropped at the end), migrates it with the
real command, seeds one LEA/LIA call and 300 complete drafts through the models, serves the app
with gunicorn on a free loopback port, then lets 300 submitters loose over one minute: a tenth log
in (the others are logged in since earlier), a third upload their last document over HTTP, all
submit, a fifth of them deliberately after the deadline (some also try to replace a document then).
It checks what each of them saw and what the database and the file store hold, and writes the
latencies and the server's CPU time to ``bench/out/rush.json`` for the benchmark report.

It runs in the PostgreSQL pass only (``TEST_DATABASE_URL=postgresql+psycopg://...``, as in
``make test-postgres``), so CI does not run it twice, and on a database of its own.

A companion test (every pass, SQLite included) pins down the arrival rule the rush relies on:
a submission that arrived before the deadline is judged on its arrival, however long its request
takes to reach the deadline check.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import json
import math
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine

from tests.conftest import free_port
from tests.factories import make_call
from tests.submission_support import (  # noqa: F401 - fixtures, by their names
    complete_draft,
    coordinator_fixture,
    page_text,
    programme_manager_fixture,
)

ROOT = Path(__file__).resolve().parents[2]
BENCH_OUT = ROOT / "bench" / "out"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")

SUBMITTERS = 300
DEADLINE_AFTER = 45  # seconds from the start of the rush to the call's deadline
RUSH_SECONDS = 60  # the last submitter sends at most this long after the start
LATE_SHARE = 0.2  # submitters who click after the deadline, on purpose
GRACE_MINUTES = 0
WORKERS, THREADS = 3, 4  # gunicorn gthread, as in the README (2 cores here)
CLIENT_THREADS = 100  # bounded concurrency of the submitters
REQUEST_TIMEOUT = 30
TIME_LIMIT = 170  # the whole drill, seconds: it fails rather than run past this
PASSWORD = "rush-hour password 2026"


# --- a small browser on http.client: cookies, forms, visible text --------------------------------


class FormScanner(HTMLParser):
    """The page's forms: their action and hidden fields (CSRF token, version)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._open = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action") or "", "fields": {}})
            self._open = True
        elif tag == "input" and self._open and attributes.get("type") == "hidden" and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = False


def forms_of(page: str) -> list[dict]:
    scanner = FormScanner()
    scanner.feed(page)
    scanner.close()
    return scanner.forms


def form_ending(page: str, suffix: str) -> dict | None:
    return next((f for f in forms_of(page) if f["action"].endswith(suffix)), None)


def csrf_of(page: str) -> str:
    """The session's CSRF token as any form of the page carries it (a stale page has one too)."""
    for form in forms_of(page):
        for name, value in form["fields"].items():
            if name.endswith("csrf_token"):
                return value
    return ""


def visible(page: str) -> str:
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


@dataclass
class Reply:
    status: int
    location: str
    text: str
    sent: float = 0.0  # wall clock, just before the request
    done: float = 0.0  # wall clock, once the answer is read


class Browser:
    """One applicant's browser. The session cookie is sent back over plain HTTP on loopback, as a
    TLS-terminating proxy would do for the real one (production cookies are Secure)."""

    def __init__(self, port: int, requests: list):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.requests = requests  # (label, status, seconds), shared by the drill

    def send(self, label: str, method: str, path: str, body: bytes = b"", content_type: str = "") -> Reply:
        headers = {"Accept-Language": "en", "User-Agent": "rush-drill"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        sent, started = time.time(), time.perf_counter()
        try:
            connection.request(method, path, body=body if method == "POST" else None, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        self.requests.append((label, response.status, time.perf_counter() - started, sent))
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=thu, 01 jan 1970" in header.lower() or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return Reply(
            response.status,
            response.getheader("Location") or "",
            data.decode("utf-8", "replace"),
            sent,
            time.time(),
        )

    def get(self, label: str, path: str) -> Reply:
        return self.send(label, "GET", path)

    def post(self, label: str, path: str, fields: dict) -> Reply:
        body = urllib.parse.urlencode(fields).encode()
        return self.send(label, "POST", path, body, "application/x-www-form-urlencoded")

    def post_file(self, label: str, path: str, fields: dict, name: str, filename: str, data: bytes) -> Reply:
        boundary = "rush" + secrets.token_hex(12)
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.send(label, "POST", path, b"".join(parts), f"multipart/form-data; boundary={boundary}")


# --- the plan of each submitter, and what happened to them ------------------------------------------


@dataclass(eq=False)
class Plan:
    index: int
    email: str
    proposal_id: int
    reference: str
    version: int
    prep_at: float  # seconds after the start: log in, upload, open the proposal
    submit_at: float  # seconds after the start: the click
    late: bool  # planned after the deadline
    logs_in: bool  # logs in over HTTP during the rush (else already logged in)
    cookie: str = ""
    upload_kind: str = ""  # a document still missing, uploaded over HTTP before submitting
    upload_data: bytes = b""
    late_upload_kind: str = ""  # tries to replace this document after the deadline
    files: dict[str, str] = field(default_factory=dict)  # kind -> sha256 expected in the submission


@dataclass
class Outcome:
    t_send: float = 0.0  # wall clock, just before the submit request
    t_done: float = 0.0  # wall clock, once its answer is read
    submit: Reply | None = None
    after_submit: Reply | None = None  # the page the redirect leads to
    upload: Reply | None = None
    late_upload: Reply | None = None
    login: Reply | None = None
    form_found: bool = False
    started: float = 0.0  # wall clock, when the submitter began
    error: str = ""


class Aborted(Exception):
    pass


def run_submitter(plan: Plan, port: int, start: float, stop: threading.Event, requests: list) -> Outcome:
    outcome = Outcome()

    def sleep_until(offset: float) -> None:
        delay = start + offset - time.time()
        if delay > 0 and stop.wait(delay):
            raise Aborted()
        if stop.is_set():
            raise Aborted()

    browser = Browser(port, requests)
    try:
        sleep_until(plan.prep_at)
        outcome.started = time.time()
        if plan.logs_in:
            page = browser.get("login page", "/auth/login")
            fields = {"csrf_token": csrf_of(page.text), "email": plan.email, "password": PASSWORD}
            outcome.login = browser.post("login", "/auth/login", fields)
        else:
            browser.cookies["session"] = plan.cookie
        if plan.upload_kind:
            page = browser.get("documents page", f"/proposals/{plan.proposal_id}/documents")
            form = form_ending(page.text, f"/documents/{plan.upload_kind}")
            # Opened too late, the page has no upload form: the file goes from an older copy.
            fields = form["fields"] if form else {f"{plan.upload_kind}-csrf_token": csrf_of(page.text)}
            outcome.upload = browser.post_file(
                "upload",
                f"/proposals/{plan.proposal_id}/documents/{plan.upload_kind}",
                fields,
                f"{plan.upload_kind}-file",
                f"{plan.upload_kind} final.pdf",
                plan.upload_data,
            )
        page = browser.get("proposal page", f"/proposals/{plan.proposal_id}")
        form = form_ending(page.text, f"/proposals/{plan.proposal_id}/submit")
        outcome.form_found = form is not None
        if form is None:  # the page was opened too late: the click comes from an older copy of it
            form = {"fields": {"csrf_token": csrf_of(page.text), "version": str(plan.version)}}
        if plan.late_upload_kind:  # a replacement sent from the page opened before the deadline
            sleep_until(plan.submit_at - 0.3)
            outcome.late_upload = browser.post_file(
                "upload",
                f"/proposals/{plan.proposal_id}/documents/{plan.late_upload_kind}",
                {f"{plan.late_upload_kind}-csrf_token": csrf_of(page.text)},
                f"{plan.late_upload_kind}-file",
                "too late.pdf",
                plan.upload_data,
            )
        sleep_until(plan.submit_at)
        outcome.submit = browser.post("submit", f"/proposals/{plan.proposal_id}/submit", form["fields"])
        outcome.t_send, outcome.t_done = outcome.submit.sent, outcome.submit.done
        if outcome.submit.status == 302:
            outcome.after_submit = browser.get("proposal page", outcome.submit.location)
    except Aborted:
        outcome.error = "aborted: the drill ran out of time"
    except Exception as exc:  # noqa: BLE001 - a refused connection or a timeout is a finding
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


# --- the server and its database --------------------------------------------------------------------


def percentiles(values: list[float]) -> dict:
    values = sorted(values)
    if len(values) < 2:
        return {"n": len(values)}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "n": len(values),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p95_ms": round(cuts[94] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "max_ms": round(values[-1] * 1000, 1),
    }


def server_connection(url, dbname: str):
    import psycopg

    params = {"host": url.host, "port": url.port, "user": url.username, "password": url.password}
    return psycopg.connect(dbname=dbname, autocommit=True, **{k: v for k, v in params.items() if v})


def server_cpu_seconds(pid: int) -> float:
    """CPU time used by gunicorn's master and workers (Linux /proc; 0 elsewhere): a figure the
    machine's other load does not change, unlike the latencies."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return 0.0
    total = 0.0
    for process in [pid, *children]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks  # utime stime cutime cstime
    return total


def wait_until_serving(process: subprocess.Popen, port: int, log_path: Path, limit: float = 40) -> None:
    ends = time.monotonic() + limit
    while time.monotonic() < ends:
        if process.poll() is not None:
            pytest.fail(f"gunicorn stopped at start: {log_path.read_text()[-3000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/auth/login", headers={"Accept-Language": "en"})
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.3)
    pytest.fail(f"gunicorn did not answer within {limit} s: {log_path.read_text()[-3000:]}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group gunicorn leads: its own workers
            process.wait(timeout=10)


def build_timings(rng: random.Random, count: int) -> list[dict]:
    """When each submitter prepares and clicks: on-time clicks grow denser towards the deadline
    (a density rising linearly), late ones spread over the seconds after it."""
    late = set(rng.sample(range(count), int(count * LATE_SHARE)))
    timings = []
    for i in range(count):
        if i in late:
            submit_at = rng.uniform(DEADLINE_AFTER + 1.0, RUSH_SECONDS - 2.0)
            # They opened the page before the deadline and clicked after it.
            prep_at = rng.uniform(2.0, DEADLINE_AFTER - 12.0)
        else:
            submit_at = 2.0 + (DEADLINE_AFTER - 5.0) * math.sqrt(rng.random())
            prep_at = max(0.0, submit_at - rng.uniform(6.0, 15.0))  # upload, reread, then click
        timings.append({"late": i in late, "prep_at": prep_at, "submit_at": submit_at})
    return timings


def migrate(env: dict) -> None:
    """The schema and the reference data, by the commands an operator runs."""
    flask = Path(sys.executable).with_name("flask")
    for command in (["db", "upgrade", "heads"], ["seed-reference"]):
        subprocess.run(
            [str(flask), *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120
        )


def seed(seed_app) -> tuple[int, list[Plan]]:
    """One open LEA/LIA call and 300 applicants, each with a complete draft - but for one in three
    of them one document, which they upload over HTTP during the rush."""
    from argon2 import PasswordHasher

    from tests.factories import make_proposal
    from tests.submission_support import attach, pdf_bytes
    from webapp.extensions import db
    from webapp.models import utcnow
    from webapp.operations import accounts
    from workflows.proposal_states import ProposalState
    from workflows.roles import Role

    rng = random.Random(20260614)
    timings = build_timings(rng, SUBMITTERS)
    production_hash = PasswordHasher().hash(PASSWORD)  # production's Argon2 parameters: no rehash
    plans = []
    with seed_app.app_context():
        manager = accounts.create_user(
            "rush.manager@inserm.fr",
            first_name="Sophie",
            last_name="Rush",
            roles=(Role.MANAGER,),
            confirmed=True,
        )
        db.session.commit()
        call = make_call(manager, closes_at=utcnow() + timedelta(hours=2), grace_minutes=GRACE_MINUTES)
        call_id = call.id
        kinds = [k.code for k in call.required_attachments]
        assert len(kinds) >= 2
        serializer = seed_app.session_interface.get_signing_serializer(seed_app)
        for i, timing in enumerate(timings):
            user = accounts.create_user(
                f"rush{i:03d}@inserm.example",
                first_name="Applicant",
                last_name=f"{i:03d}",
                confirmed=True,
                locale="en",
                is_permanent=True,
                position="DR2",
            )
            user.password_hash = production_hash
            db.session.commit()
            proposal = make_proposal(call, user, ProposalState.DRAFT)
            # One in three still has a document to upload, over HTTP, during the rush.
            upload_kind = kinds[i % len(kinds)] if i % 3 == 1 else ""
            expected = {}
            for kind in kinds:
                if kind != upload_kind:
                    data = pdf_bytes(text=f"{kind} of applicant {i}")
                    expected[kind] = attach(proposal, kind, data=data, commit=False).sha256
            db.session.commit()
            upload_data = pdf_bytes(pages=2, text=f"final document of applicant {i}")
            if upload_kind:
                expected[upload_kind] = hashlib.sha256(upload_data).hexdigest()
            plans.append(
                Plan(
                    index=i,
                    email=user.email,
                    proposal_id=proposal.id,
                    reference=proposal.reference,
                    version=proposal.version_id,
                    prep_at=timing["prep_at"],
                    submit_at=timing["submit_at"],
                    late=timing["late"],
                    logs_in=i % 10 == 0,  # the others are logged in since earlier in the day
                    cookie=serializer.dumps({"_user_id": user.get_id(), "_fresh": True}),
                    upload_kind=upload_kind,
                    upload_data=upload_data,
                    # Half the late ones without an upload also try to replace a document.
                    late_upload_kind=kinds[0] if timing["late"] and not upload_kind and i % 2 else "",
                    files=expected,
                )
            )
        db.session.remove()
    return call_id, plans


def start_server(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [
                str(gunicorn),
                "webapp:create_app()",
                "--worker-class",
                "gthread",
                "--workers",
                str(WORKERS),
                "--threads",
                str(THREADS),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--max-requests",
                "2000",
                "--max-requests-jitter",
                "200",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def set_deadline(seed_app, call_id: int) -> tuple[float, int]:
    """The deadline, on a whole second, DEADLINE_AFTER seconds after the rush starts."""
    from webapp.extensions import db
    from webapp.models.calls import Call

    deadline_epoch = math.ceil(time.time() + 1.0 + DEADLINE_AFTER)
    with seed_app.app_context():
        db.session.get(Call, call_id).closes_at = datetime.fromtimestamp(deadline_epoch, UTC)
        db.session.commit()
        db.session.remove()
    return deadline_epoch - DEADLINE_AFTER, deadline_epoch


def run_rush(plans: list[Plan], port: int, start: float, time_left: float, server) -> tuple[dict, list]:
    stop = threading.Event()
    requests: list = []
    ordered = sorted(plans, key=lambda p: p.prep_at)
    pool = ThreadPoolExecutor(max_workers=CLIENT_THREADS, thread_name_prefix="submitter")
    futures = []
    try:
        futures = [pool.submit(run_submitter, plan, port, start, stop, requests) for plan in ordered]
        _done, not_done = wait_for(futures, timeout=max(time_left, 1.0))
        assert not not_done, f"{len(not_done)} submitters were still running when the time limit came"
    finally:
        stop.set()
        if any(not f.done() for f in futures):
            stop_server(server)  # their requests end at once instead of waiting for their timeout
        pool.shutdown(wait=True, cancel_futures=True)
    return {plan: future.result() for plan, future in zip(ordered, futures, strict=True)}, requests


def check_answers(by_plan: dict, requests: list, log_text: str, deadline_epoch: int) -> dict:
    """What each submitter saw: no 5xx, a receipt or a clear refusal, nothing late accepted."""
    cutoff = deadline_epoch + GRACE_MINUTES * 60
    errors = [(p.index, o.error) for p, o in by_plan.items() if o.error]
    assert errors == [], f"requests that got no answer: {errors[:5]}"
    server_errors = [r[:3] for r in requests if r[1] >= 500]
    assert server_errors == [], f"{len(server_errors)} answers 5xx: {server_errors[:5]}"
    for trouble in ("Traceback", "Unhandled error", "WORKER TIMEOUT"):
        assert trouble not in log_text, log_text[-3000:]
    accepted, refused, undecided = {}, {}, []
    for plan, outcome in by_plan.items():
        if plan.logs_in:
            assert outcome.login.status == 302, visible(outcome.login.text)[:300]
        if plan.upload_kind:  # an upload is judged like a submission: before the deadline, taken
            if outcome.upload.done <= deadline_epoch:
                assert outcome.upload.status == 302, (plan.index, visible(outcome.upload.text)[:300])
            elif outcome.upload.sent > cutoff:
                assert outcome.upload.status == 403
        if plan.late_upload_kind:
            assert outcome.late_upload.status == 403
            assert "The deadline has passed" in visible(outcome.late_upload.text)
        if outcome.submit.status == 302:
            accepted[plan.proposal_id] = (plan, outcome)
            shown = visible(outcome.after_submit.text)
            assert f"Your proposal is submitted (receipt REC-{plan.reference}-1)" in shown
        else:
            assert outcome.submit.status == 403, (plan.index, outcome.submit.status)
            assert "The deadline has passed" in visible(outcome.submit.text)
            refused[plan.proposal_id] = (plan, outcome)
        # Answered before the deadline: it was received before it, so accepted. Sent after the
        # deadline (and grace): refused. Sent before and answered after: the arrival decides.
        if outcome.t_done <= deadline_epoch:
            assert outcome.form_found and outcome.submit.status == 302, (
                plan.index,
                visible(outcome.submit.text)[:300],
            )
        elif outcome.t_send > cutoff:
            assert outcome.submit.status == 403, (plan.index, outcome.t_send - deadline_epoch)
        else:
            undecided.append(plan.index)
    assert len(accepted) + len(refused) == SUBMITTERS
    on_time = [p for p in by_plan if not p.late]
    # Not a vacuous drill: a good part of the on-time clicks were answered before the deadline
    # (how many depends on the machine's load; bench/out/rush.json has the figures).
    answered_in_time = sum(1 for p in on_time if by_plan[p].t_done <= deadline_epoch)
    assert answered_in_time >= len(on_time) // 5, f"only {answered_in_time} answered before the deadline"
    return {"accepted": accepted, "refused": refused, "undecided": undecided}


def stored_outcomes(verdicts: dict, deadline_epoch: int) -> dict:
    """What the database holds against what the submitters were told, counted for the report
    (check_database then asserts every detail): lost, duplicated, unasked-for and late submissions."""
    from webapp.extensions import db
    from webapp.models import Submission

    cutoff = deadline_epoch + GRACE_MINUTES * 60
    rows = db.session.execute(db.select(Submission.proposal_id, Submission.received_at)).all()
    per_proposal: dict[int, int] = {}
    for proposal_id, _received in rows:
        per_proposal[proposal_id] = per_proposal.get(proposal_id, 0) + 1
    accepted = set(verdicts["accepted"])
    return {
        "stored_submissions": len(rows),
        "lost": len(accepted - set(per_proposal)),
        "duplicated": sum(count - 1 for count in per_proposal.values()),
        "stored_but_refused": len(set(per_proposal) - accepted),
        "received_after_deadline_and_grace": sum(1 for _p, r in rows if r.timestamp() > cutoff),
    }


def check_database(by_plan: dict, verdicts: dict, files: Path, deadline_epoch: int) -> None:
    """Each accepted submission stored once, with its files and receipt; nothing else."""
    from webapp.extensions import db
    from webapp.models import Attachment, AuditEvent, IssuedDocument, OutboxMessage, Proposal, Submission
    from webapp.storage import path_of
    from workflows.proposal_states import ProposalState

    accepted, refused = verdicts["accepted"], verdicts["refused"]
    cutoff = deadline_epoch + GRACE_MINUTES * 60
    per_proposal: dict[int, list] = {}
    for submission in db.session.scalars(db.select(Submission)):
        per_proposal.setdefault(submission.proposal_id, []).append(submission)
    assert sorted(per_proposal) == sorted(accepted), "a submission for each accepted submitter, no other"
    assert {len(rows) for rows in per_proposal.values()} == {1}
    for proposal_id, (plan, outcome) in accepted.items():
        [submission] = per_proposal[proposal_id]
        received = submission.received_at.timestamp()
        assert received <= cutoff
        assert outcome.t_send - 1 <= received <= outcome.t_done + 1  # its arrival, not its end
        snapshot = submission.snapshot
        assert {a["kind"]: a["sha256"] for a in snapshot["attachments"]} == plan.files
        for item in snapshot["attachments"]:
            assert hashlib.sha256(path_of(item["stored_name"]).read_bytes()).hexdigest() == item["sha256"]
        receipt = submission.receipt
        assert receipt.reference == f"REC-{plan.reference}-1" and receipt.kind == "receipt"
        assert hashlib.sha256(path_of(receipt.stored_name).read_bytes()).hexdigest() == receipt.sha256
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.state == ProposalState.SUBMITTED and proposal.submitted_at == submission.received_at
    for proposal_id, (plan, outcome) in refused.items():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.state == ProposalState.DRAFT and proposal.submitted_at is None
        # What was uploaded before the deadline is kept; the late replacement was not taken.
        expected = dict(plan.files)
        if plan.upload_kind and outcome.upload.status != 302:
            expected.pop(plan.upload_kind)
        assert {a.kind_code: a.sha256 for a in proposal.attachments} == expected
    receipts = db.session.scalars(db.select(IssuedDocument)).all()
    assert len(receipts) == len(accepted)
    mails = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.subject.like("%Proposal received%"))
    ).all()
    assert len(mails) == 2 * len(accepted)  # the coordinator and the co-coordinator, once each
    assert {m.status for m in mails} <= {"held"}  # no SMTP server configured: kept for the admins
    events = db.session.scalar(
        db.select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "proposal.submit")
    )
    assert events == len(accepted)
    referenced = set(db.session.scalars(db.select(Attachment.stored_name))) | {
        r.stored_name for r in receipts
    }
    on_disk = {p.name for p in files.glob("*/*") if p.is_file()}
    assert on_disk == referenced, "every file has its row and every row its file"
    db.session.remove()


def write_report(by_plan: dict, requests: list, deadline_epoch: int, phases: dict, machine: dict) -> dict:
    """The figures for the benchmark report (written before the checks, so a failed drill has them)."""

    def of(label: str | None) -> dict:
        return percentiles([r[2] for r in requests if label is None or r[0] == label])

    statuses: dict[str, int] = {}
    for request in requests:
        statuses[str(request[1])] = statuses.get(str(request[1]), 0) + 1
    outcomes = [o for o in by_plan.values() if o.submit is not None]
    start = deadline_epoch - DEADLINE_AFTER
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "postgresql",
        "server": {
            "worker_class": "gthread",
            "workers": WORKERS,
            "threads": THREADS,
            "cores": os.cpu_count(),
            "config": "production",
        },
        "submitters": SUBMITTERS,
        "deadline_after_seconds": DEADLINE_AFTER,
        "grace_minutes": GRACE_MINUTES,
        "planned_late": sum(1 for p in by_plan if p.late),
        "accepted": sum(1 for o in outcomes if o.submit.status == 302),
        "refused": sum(1 for o in outcomes if o.submit.status == 403),
        "answered_before_deadline": sum(1 for o in outcomes if o.t_done <= deadline_epoch),
        "sent_before_answered_after_deadline": sum(
            1 for o in outcomes if o.t_send <= deadline_epoch < o.t_done
        ),
        "sent_after_deadline": sum(1 for o in outcomes if o.t_send > deadline_epoch),
        "no_answer": sum(1 for o in by_plan.values() if o.error),
        "logins_over_http": sum(1 for p in by_plan if p.logs_in),
        "uploads_over_http": sum(1 for p in by_plan if p.upload_kind),
        "requests": len(requests),
        "status_counts": dict(sorted(statuses.items())),
        "latency": {"submit": of("submit"), "upload": of("upload"), "login": of("login"), "all": of(None)},
        # How late the clicks left against their plan (client and server share the two cores).
        "click_delay": percentiles([o.t_send - start - p.submit_at for p, o in by_plan.items() if o.submit]),
        "phases_seconds": {k: round(v, 1) for k, v in phases.items()},
        "machine": machine,
    }
    BENCH_OUT.mkdir(parents=True, exist_ok=True)
    (BENCH_OUT / "rush.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


@pytest.mark.postgres
@pytest.mark.skipif(
    not PG_URL.startswith("postgresql"),
    reason="the rush drill runs in the PostgreSQL pass (TEST_DATABASE_URL=postgresql+psycopg://...), "
    "so that CI runs it once",
)
def test_a_deadline_rush_loses_no_submission_and_accepts_none_late(tmp_path):
    import psycopg
    from sqlalchemy.engine import make_url

    from config import TestingConfig
    from webapp import create_app
    from webapp.extensions import db

    began = time.monotonic()
    server_url = make_url(PG_URL)
    try:
        admin = server_connection(server_url, "postgres")
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {server_url.host}:{server_url.port}: {exc}")
    dbname = f"rush_drill_{os.getpid()}_{secrets.token_hex(3)}"
    admin.execute(f'CREATE DATABASE "{dbname}"')
    seed_app = None
    try:
        rush_url = server_url.set(database=dbname).render_as_string(hide_password=False)
        port, secret, files = free_port(), secrets.token_urlsafe(48), tmp_path / "files"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FLASK_", "APP_", "MAIL_", "HUEY_", "RATELIMIT_", "TEST_DATABASE", "PYTEST"))
            and k not in {"DATABASE_URL", "SECRET_KEY", "STORAGE_DIR", "INSTANCE_PATH", "TRUSTED_HOSTS"}
        }
        env.update(
            APP_CONFIG="production",
            DATABASE_URL=rush_url,
            SECRET_KEY=secret,
            INSTANCE_PATH=str(tmp_path / "instance"),
            STORAGE_DIR=str(files),
            PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
            TRUSTED_HOSTS="127.0.0.1",
            # One loopback address plays 300 people; in production they come from 300 addresses.
            LOGIN_RATE_LIMIT="3000 per minute",
            RATELIMIT_STORAGE_URI="memory://",
            FLASK_APP="webapp:create_app",
            PYTHONDONTWRITEBYTECODE="1",
        )
        phases = {}
        migrate(env)
        seed_app = create_app(
            TestingConfig,
            SQLALCHEMY_DATABASE_URI=rush_url,
            # Seeding only: its commits need not wait for the disk (the served app's commits do).
            SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": "-c synchronous_commit=off"}},
            STORAGE_DIR=str(files),
            SECRET_KEY=secret,
        )
        call_id, plans = seed(seed_app)
        phases["migrate_and_seed"] = time.monotonic() - began
        log_path = tmp_path / "gunicorn.log"
        server = start_server(env, port, log_path)
        try:
            wait_until_serving(server, port, log_path)
            phases["server_start"] = time.monotonic() - began - phases["migrate_and_seed"]
            start, deadline_epoch = set_deadline(seed_app, call_id)
            machine = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
            cpu_before = server_cpu_seconds(server.pid)
            time_left = TIME_LIMIT - (time.monotonic() - began) - 10
            by_plan, requests = run_rush(plans, port, start, time_left, server)
            phases["rush"] = time.time() - start
            machine["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            machine["server_cpu_seconds"] = round(server_cpu_seconds(server.pid) - cpu_before, 2)
            machine["server_cpu_ms_per_submitter"] = round(
                machine["server_cpu_seconds"] * 1000 / SUBMITTERS, 1
            )
        finally:
            stop_server(server)
        report = write_report(by_plan, requests, deadline_epoch, phases, machine)
        verdicts = check_answers(by_plan, requests, log_path.read_text(errors="replace"), deadline_epoch)
        with seed_app.app_context():
            report["stored"] = stored_outcomes(verdicts, deadline_epoch)
            (BENCH_OUT / "rush.json").write_text(json.dumps(report, indent=2) + "\n")
            check_database(by_plan, verdicts, files, deadline_epoch)
        assert report["latency"]["submit"]["n"] == SUBMITTERS
        assert time.monotonic() - began < TIME_LIMIT + 10
    finally:
        if seed_app is not None:
            with seed_app.app_context():
                db.session.remove()
                db.engine.dispose()
        try:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        finally:
            admin.close()


# --- the arrival rule, on every database ---------------------------------------------------------------


def test_a_submission_that_arrived_before_the_deadline_is_judged_on_its_arrival(
    app, programme_manager, coordinator, login, db, monkeypatch
):
    from webapp.applicant import views
    from webapp.models import Proposal, Submission, utcnow

    closes = utcnow().replace(microsecond=0) + timedelta(days=1)
    call = make_call(programme_manager, closes_at=closes)
    proposal = complete_draft(call, coordinator)
    version, proposal_id = proposal.version_id, proposal.id
    real_loader = views.get_proposal_or_404

    def slow_loader(pid):  # the request waits 2 s for its data, as in a rush
        traveller.shift(timedelta(seconds=2))
        return real_loader(pid)

    monkeypatch.setattr(views, "get_proposal_or_404", slow_loader)
    with time_machine.travel(closes - timedelta(seconds=1), tick=False) as traveller:
        client = login(coordinator, app.test_client())
        response = client.post(f"/proposals/{proposal_id}/submit", data={"version": version})
    db.session.expire_all()
    assert "The deadline has passed" not in page_text(response)
    assert response.status_code == 302
    [submission] = db.session.scalars(db.select(Submission)).all()
    assert submission.received_at == closes - timedelta(seconds=1)
    assert db.session.get(Proposal, proposal_id).state == "submitted"
