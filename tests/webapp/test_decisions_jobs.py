"""Issuing a call's letters as background jobs: every letter present exactly once, progress from
the job table, and a crashed worker's job picked up again by the sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.decisions_factories import ranked_call
from webapp import jobs
from webapp.models import IssuedDocument, utcnow
from webapp.models.decisions import BackgroundJob
from webapp.operations import decisions as ops
from workflows.decisions import JobStatus
from workflows.proposal_states import ProposalState


@pytest.fixture
def call_decided(make_user, db):
    dg = make_user(roles=("directorate",))
    manager = make_user(roles=("manager",))
    applicants = [make_user(first_name=f"Applicant{i}") for i in range(5)]
    states = [
        ProposalState.PROPOSED,
        ProposalState.PROPOSED,
        ProposalState.PROPOSED,
        ProposalState.NOT_RETAINED,
        ProposalState.NOT_RETAINED,
    ]
    call, proposals = ranked_call(manager, applicants, states=states, budget_envelope_eur=200_000)
    ops.validate_call(call, dg)
    db.session.commit()
    return call, proposals, manager


def letter_counts(db, proposals) -> dict[int, int]:
    db.session.expire_all()
    rows = db.session.execute(
        select(IssuedDocument.proposal_id, func.count(IssuedDocument.id))
        .where(IssuedDocument.kind == "decision_letter")
        .group_by(IssuedDocument.proposal_id)
    ).all()
    counts = dict(rows)
    return {p.id: counts.get(p.id, 0) for p in proposals}


def test_release_issues_every_letter_once_over_two_jobs(call_decided, db, client, login):
    call, proposals, manager = call_decided
    login(manager)
    assert client.post(f"/directorate/calls/{call.id}/release").status_code == 302
    assert letter_counts(db, proposals) == {p.id: 1 for p in proposals}
    batch = db.session.scalars(select(BackgroundJob).order_by(BackgroundJob.id)).all()
    assert len(batch) == jobs.WORKERS  # one job per worker, so both cores share the letters
    assert sorted(i for j in batch for i in j.payload["proposal_ids"]) == sorted(p.id for p in proposals)
    assert all(j.status == JobStatus.DONE and j.done == j.total and j.attempts == 1 for j in batch)
    progress = client.get(f"/directorate/calls/{call.id}/letters/progress").get_json()
    assert progress == {
        "status": "done", "status_label": "all issued", "total": 5, "done": 5, "percent": 100, "errors": []
    }
    page = client.get(f"/directorate/calls/{call.id}").get_data(as_text=True)
    assert "data-progress-url" in page and "jobs.js" in page and 'value="5"' in page
    assert "all issued" in page
    # Asking again issues nothing more.
    assert client.post(f"/directorate/calls/{call.id}/letters").status_code == 302
    assert letter_counts(db, proposals) == {p.id: 1 for p in proposals}


def test_a_crashed_job_is_picked_up_again_and_every_letter_is_present_once(call_decided, db, monkeypatch):
    call, proposals, manager = call_decided
    queued: list[int] = []
    monkeypatch.setattr(jobs, "run_job", lambda job_id: queued.append(job_id))  # the queue loses them
    ops.release_call(call, manager)
    db.session.commit()
    created = db.session.scalars(select(BackgroundJob).order_by(BackgroundJob.id)).all()
    assert [j.id for j in created] == queued and all(j.status == JobStatus.QUEUED for j in created)
    assert letter_counts(db, proposals) == {p.id: 0 for p in proposals}

    # A worker took the first job, issued one letter, then died: its heartbeat goes stale.
    crashed = created[0]
    first = crashed.payload["proposal_ids"][0]
    assert jobs.issue_one_letter(first) is True
    stale = utcnow() - timedelta(seconds=jobs.STALE_SECONDS + 60)
    crashed.status, crashed.heartbeat_at, crashed.attempts, crashed.done = JobStatus.RUNNING, stale, 1, 1
    # The other job's queueing was lost (Huey delivers at most once).
    created[1].created_at = stale
    db.session.commit()
    # A fresh running job is left alone by the sweeper.
    assert jobs.sweep_stale_jobs(stale_seconds=10_000) == []
    db.session.rollback()

    monkeypatch.undo()
    requeued = jobs.sweep_stale_jobs()
    assert requeued == [crashed.id, created[1].id]
    db.session.commit()  # queued once committed; the tests run them at once
    assert letter_counts(db, proposals) == {p.id: 1 for p in proposals}
    db.session.expire_all()
    done = db.session.scalars(select(BackgroundJob).order_by(BackgroundJob.id)).all()
    assert [j.status for j in done] == [JobStatus.DONE, JobStatus.DONE]
    assert done[0].attempts == 2 and done[0].done == done[0].total
    # Running a finished job again, or issuing a letter twice, changes nothing.
    jobs.execute_job(done[0].id)
    assert jobs.issue_one_letter(first) is False
    assert letter_counts(db, proposals) == {p.id: 1 for p in proposals}


def test_a_job_that_keeps_crashing_is_marked_failed(call_decided, db, monkeypatch):
    call, proposals, manager = call_decided
    monkeypatch.setattr(jobs, "run_job", lambda job_id: None)
    ops.release_call(call, manager)
    db.session.commit()
    job = db.session.scalars(select(BackgroundJob)).first()
    job.status, job.attempts = JobStatus.RUNNING, jobs.MAX_ATTEMPTS
    job.heartbeat_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert job.id not in jobs.sweep_stale_jobs()
    db.session.commit()
    assert db.session.get(BackgroundJob, job.id).status == JobStatus.FAILED
    assert "gave up" in db.session.get(BackgroundJob, job.id).error


def test_a_failing_letter_fails_its_job_and_the_missing_letters_can_be_issued_again(
    call_decided, db, client, login, monkeypatch
):
    from webapp.documents import issued

    call, proposals, manager = call_decided
    original = issued.render_letter
    calls = {"n": 0}

    def flaky(data):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("renderer crashed")
        return original(data)

    monkeypatch.setattr(issued, "render_letter", flaky)
    login(manager)
    client.post(f"/directorate/calls/{call.id}/release")
    counts = letter_counts(db, proposals)
    assert sum(counts.values()) < len(proposals) and max(counts.values()) == 1
    progress = client.get(f"/directorate/calls/{call.id}/letters/progress").get_json()
    assert progress["status"] == "failed" and "renderer crashed" in progress["errors"][0]
    assert "Issue the missing letters" in client.get(f"/directorate/calls/{call.id}").get_data(as_text=True)
    monkeypatch.setattr(issued, "render_letter", original)
    assert client.post(f"/directorate/calls/{call.id}/letters").status_code == 302
    assert letter_counts(db, proposals) == {p.id: 1 for p in proposals}


def test_jobs_are_queued_only_when_the_release_commits(call_decided, db, monkeypatch):
    call, _proposals, manager = call_decided
    queued: list[int] = []
    monkeypatch.setattr(jobs, "run_job", lambda job_id: queued.append(job_id))
    ops.release_call(call, manager)
    assert queued == []
    db.session.rollback()  # the release failed later in the request: nothing queued, nothing left
    assert queued == [] and db.session.scalar(select(func.count(BackgroundJob.id))) == 0


def _forked_worker_runs(job_id: int) -> str:
    """In a process forked after `warm_up`, as the consumer's workers are: run one job."""
    app = jobs._job_app()  # the parent's application, with connections of its own
    with app.app_context():
        jobs.execute_job(job_id)
        status = jobs.db.session.get(BackgroundJob, job_id).status
        jobs.db.session.remove()
    return str(status)


def test_workers_forked_after_the_warm_up_issue_letters_on_their_own_connections(
    app, call_decided, db, monkeypatch
):
    """`flask jobs-worker` warms up (application, templates, fonts, signing key) before forking
    its process workers: a forked worker uses what it inherited and opens its own connections."""
    import multiprocessing
    import os

    from webapp.documents import signing

    call, proposals, _manager = call_decided
    for proposal in proposals:  # released (what `release_call` does before queueing the letters)
        proposal.decision_released_at = utcnow()
    db.session.commit()
    monkeypatch.setattr(jobs.huey, "immediate", False)
    monkeypatch.setattr(jobs, "_apps", {"app": app, "pid": os.getpid()})
    monkeypatch.setattr(signing, "_signers", {})
    jobs.warm_up()
    assert signing._signers, "the signing key is read and checked before the fork"
    ids = [p.id for p in proposals]
    job = BackgroundJob(kind=jobs.LETTERS, call_id=call.id, batch="forked", payload={"proposal_ids": ids})
    job.total = len(ids)
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    db.session.close()  # SQLite: every transaction holds the write lock, the worker needs it
    with multiprocessing.get_context("fork").Pool(1) as pool:
        status = pool.apply(_forked_worker_runs, (job_id,))
    assert status == JobStatus.DONE
    issued = db.session.execute(
        select(IssuedDocument.proposal_id, func.count(IssuedDocument.id))
        .where(IssuedDocument.kind == "decision_letter")
        .group_by(IssuedDocument.proposal_id)
    ).all()
    assert sorted(issued) == [(pid, 1) for pid in sorted(ids)]  # every letter, once


def test_the_warm_up_without_a_signing_key_warns_and_lets_the_workers_start(app, monkeypatch, caplog):
    """Production refuses the development key: with no key configured the consumer still starts
    (reminders, sweeper), saying why letters will fail."""
    import os

    monkeypatch.setattr(jobs.huey, "immediate", False)
    monkeypatch.setattr(jobs, "_apps", {"app": app, "pid": os.getpid()})
    monkeypatch.setitem(app.config, "SIGNING_TEST_KEY_ALLOWED", False)
    monkeypatch.setitem(app.config, "SIGNING_KEY_PATH", "")
    with caplog.at_level("WARNING", logger="webapp.jobs"):
        jobs.warm_up()
    assert "No signing key: letters will fail until one is configured" in caplog.text
