"""Background jobs on Huey, with the job table in our own database as the truth.

Huey delivers a task at most once, so a task only carries a job id: the `BackgroundJob` row says
what to do and how far it got. A worker claims a job (``running``), beats its heartbeat after
each unit of work, and marks it ``done``. A worker that crashes leaves a stale heartbeat; the
sweeper (a periodic task, and ``flask jobs-sweep``) puts such a job back in the queue. The work
itself is idempotent - a letter already issued is never issued again, and the (reference,
version) unique key refuses a duplicate - so running a job twice leaves every letter present once.

Storage: SQLite in instance/ by default (the embedded setup, ``make run`` starts two process
workers, one per core), Redis when ``HUEY_REDIS_URL`` is set. Tests run tasks immediately
(``HUEY_IMMEDIATE``), in the request that queues them, once its transaction has committed.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta

from flask import current_app, has_app_context
from huey import RedisHuey, SqliteHuey, crontab
from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.models import Proposal, utcnow
from webapp.models.decisions import BackgroundJob
from workflows.decisions import JobStatus

log = logging.getLogger(__name__)

WORKERS = 2  # one per core of the embedded setup
STALE_SECONDS = 120  # a running job whose heartbeat is older than this has lost its worker
MAX_ATTEMPTS = 5
LETTERS = "issue_letters"
_PENDING = "coop.jobs_to_enqueue"


def _make_huey():
    url = os.environ.get("HUEY_REDIS_URL", "")
    if url:
        return RedisHuey("coop-calls", url=url)
    from config import INSTANCE_DIR

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("coop-calls", filename=str(INSTANCE_DIR / "huey.sqlite3"))


huey = _make_huey()
_apps: dict[int, object] = {}


def init_app(app) -> None:
    huey.immediate = bool(app.config.get("HUEY_IMMEDIATE"))


def _job_app():
    """The application a task runs in: the caller's in immediate mode, else one per process.

    A worker forked from the consumer after `warm_up` inherits its application; the pooled
    database connections, though, belong to the parent: the child starts its own.
    """
    if huey.immediate and has_app_context():
        return current_app._get_current_object()
    pid = os.getpid()
    app = _apps.get("app")
    if app is None:
        from webapp import create_app

        app = _apps["app"] = create_app()
    elif _apps.get("pid") != pid:
        with app.app_context():
            db.engine.dispose(close=False)
    _apps["pid"] = pid
    return app


def warm_up() -> None:
    """What every letter needs and no letter changes, done once in the consumer before it forks
    its workers, which inherit it: the application, the documents' templates compiled,
    WeasyPrint's fonts loaded and a page laid out in both languages, the signing key read and
    checked. Without it each worker paid about a second on its first letter."""
    from flask_babel import force_locale

    from webapp.documents.issued import PDF_VARIANT
    from webapp.documents.render import render_pdf
    from webapp.documents.signing import SigningNotConfigured, sign_pdf

    app = _job_app()
    with app.app_context():
        for name in ("documents/letter.html", "documents/agreement.html"):
            app.jinja_env.get_template(name)
        for language in ("fr", "en"):
            with force_locale(language):
                pdf = render_pdf("documents/warm_up.html", pdf_variant=PDF_VARIANT, language=language)
            try:
                sign_pdf(pdf, reason="warm-up")
            except SigningNotConfigured as missing:  # the reminders and the sweeper still run
                log.warning("No signing key: letters will fail until one is configured. %s", missing)
        db.session.remove()
        db.engine.dispose()


# --- queueing after commit -----------------------------------------------------------------------


def enqueue_after_commit(session: Session, job_ids: list[int]) -> None:
    """Queue the jobs once the transaction that created them has committed (never before)."""
    session.info.setdefault(_PENDING, []).extend(job_ids)


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    for job_id in session.info.pop(_PENDING, []):
        try:
            run_job(job_id)
        except Exception:  # noqa: BLE001 - the queue is down: the sweeper queues the job again
            log.exception("could not queue job %s; the sweeper will retry", job_id)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


# --- the letters of a call ------------------------------------------------------------------------


def create_letter_jobs(call, proposal_ids: list[int], actor=None) -> list[BackgroundJob]:
    """Split the letters of a call over one job per worker, queued when the caller commits."""
    ids = sorted(set(proposal_ids))
    if not ids:
        return []
    batch = secrets.token_hex(8)
    shards = [ids[i::WORKERS] for i in range(WORKERS)]
    jobs = [
        BackgroundJob(
            kind=LETTERS,
            call_id=call.id,
            batch=batch,
            payload={"proposal_ids": shard},
            total=len(shard),
            created_by_id=getattr(actor, "id", None),
        )
        for shard in shards
        if shard
    ]
    db.session.add_all(jobs)
    db.session.flush()
    enqueue_after_commit(db.session, [j.id for j in jobs])
    return jobs


def _claim(job_id: int) -> bool:
    """Take the job if it is queued or its worker is gone; False if another worker holds it."""
    now = utcnow()
    stale = now - timedelta(seconds=STALE_SECONDS)
    claimed = db.session.execute(
        update(BackgroundJob)
        .where(
            BackgroundJob.id == job_id,
            or_(
                BackgroundJob.status == JobStatus.QUEUED,
                and_(BackgroundJob.status == JobStatus.RUNNING, BackgroundJob.heartbeat_at < stale),
            ),
        )
        .values(
            status=JobStatus.RUNNING, heartbeat_at=now, started_at=now, attempts=BackgroundJob.attempts + 1
        )
    ).rowcount
    db.session.commit()
    return bool(claimed)


def _letters_present(proposal_ids: list[int]) -> int:
    from webapp.models import IssuedDocument

    if not proposal_ids:
        return 0
    return (
        db.session.scalar(
            select(func.count(func.distinct(IssuedDocument.proposal_id))).where(
                IssuedDocument.proposal_id.in_(proposal_ids), IssuedDocument.kind == "decision_letter"
            )
        )
        or 0
    )


def _heartbeat(job_id: int, done: int, **values) -> None:
    db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id)
        .values(heartbeat_at=utcnow(), done=done, **values)
    )
    db.session.commit()


def issue_one_letter(proposal_id: int) -> bool:
    """Issue the letter of one released proposal unless it exists; True if this call issued it.

    The data is read in a short transaction, the PDF rendered and signed outside any
    transaction (no lock held on SQLite), then the file and its row written together.
    """
    from webapp.documents import issued
    from webapp.models.calls import call_without_collections
    from webapp.operations.audit import record
    from webapp.operations.decisions import current_letter, is_released
    from webapp.operations.ranking import COORDINATOR_WITHOUT_ROLES

    # The letter reads the call's dates and caps, not its collections, nor the coordinator's roles.
    proposal = db.session.get(
        Proposal, proposal_id, options=[call_without_collections(Proposal.call), COORDINATOR_WITHOUT_ROLES]
    )
    if proposal is None or not is_released(proposal) or current_letter(proposal) is not None:
        db.session.commit()
        return False
    data = issued.letter_data(proposal, version=1)
    db.session.commit()
    pdf = issued.render_letter(data)
    try:
        document = issued.store_document(data, pdf, proposal_id=proposal_id)
        record(
            None,
            "document.issued",
            document,
            after={"reference": document.reference, "version": 1, "sha256": document.sha256, "by": "job"},
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another worker issued it first: it is present once
        return False
    return True


def execute_job(job_id: int) -> None:
    """Run one job to the end (or to its first error), beating the heartbeat as it goes."""
    if not _claim(job_id):
        return
    job = db.session.get(BackgroundJob, job_id)
    ids = list((job.payload or {}).get("proposal_ids", []))
    db.session.commit()
    try:
        for proposal_id in ids:
            issue_one_letter(proposal_id)
            _heartbeat(job_id, _letters_present(ids))
    except Exception as exc:  # noqa: BLE001 - recorded on the job, shown on the page
        db.session.rollback()
        log.exception("job %s failed", job_id)
        _heartbeat(
            job_id,
            _letters_present(ids),
            status=JobStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:1000],
            finished_at=utcnow(),
        )
        return
    _heartbeat(job_id, _letters_present(ids), status=JobStatus.DONE, finished_at=utcnow(), error="")


@huey.task()
def run_job(job_id: int) -> None:
    app = _job_app()
    with app.app_context():
        try:
            execute_job(job_id)
        finally:
            db.session.remove()


# --- the sweeper ------------------------------------------------------------------------------------


def sweep_stale_jobs(stale_seconds: int = STALE_SECONDS) -> list[int]:
    """Queue again the jobs whose worker is gone (stale heartbeat) or whose queueing was lost.

    Returns the ids queued again (they are queued when the caller commits). A job that keeps
    failing to finish is marked failed after MAX_ATTEMPTS.
    """
    from webapp.operations.audit import record

    now = utcnow()
    cutoff = now - timedelta(seconds=stale_seconds)
    stale = db.session.scalars(
        select(BackgroundJob)
        .where(
            or_(
                and_(BackgroundJob.status == JobStatus.RUNNING, BackgroundJob.heartbeat_at < cutoff),
                and_(
                    BackgroundJob.status == JobStatus.QUEUED,
                    BackgroundJob.created_at < cutoff,
                    or_(BackgroundJob.heartbeat_at.is_(None), BackgroundJob.heartbeat_at < cutoff),
                ),
            )
        )
        .order_by(BackgroundJob.id)
    ).all()
    requeued = []
    for job in stale:
        if job.attempts >= MAX_ATTEMPTS:
            job.status = JobStatus.FAILED
            job.error = f"gave up after {job.attempts} attempts"
            job.finished_at = now
            record(None, "job.failed", job, after={"attempts": job.attempts})
            continue
        job.status = JobStatus.QUEUED
        job.heartbeat_at = now
        requeued.append(job.id)
        record(None, "job.requeued", job, after={"attempts": job.attempts})
    db.session.flush()
    enqueue_after_commit(db.session, requeued)
    return requeued


@huey.periodic_task(crontab(minute="*"))
def sweep_task() -> None:
    app = _job_app()
    with app.app_context():
        try:
            sweep_stale_jobs()
            db.session.commit()
        finally:
            db.session.remove()


def sweep_orphan_files(older_than_seconds: int = 3600) -> list[str]:
    """Remove stored files that no row names and that are older than an hour: what a process
    that died between writing a file and committing its row left behind (a request in progress
    is never that old)."""
    from webapp.models import Attachment, IssuedDocument
    from webapp.models.decisions import AgreementParty
    from webapp.storage import sweep_orphans

    referenced = set(db.session.scalars(select(Attachment.stored_name)))
    referenced |= set(db.session.scalars(select(IssuedDocument.stored_name)))
    referenced |= {n for n in db.session.scalars(select(AgreementParty.scan_stored_name)) if n}
    removed = sweep_orphans(referenced, older_than_seconds)
    if removed:
        log.warning("removed %d orphaned file(s): %s", len(removed), ", ".join(removed[:20]))
    return removed


@huey.periodic_task(crontab(minute="35"))
def files_sweep_task() -> list[str]:
    """Every hour, the orphaned files (see `sweep_orphan_files`)."""
    app = _job_app()
    with app.app_context():
        try:
            return sweep_orphan_files()
        finally:
            db.session.remove()


@huey.periodic_task(crontab(minute="5"))
def review_reminders_task() -> int:
    """Every hour, the reviewers' reminders before their due dates (7, 3 and 1 days). The use
    case sends at most one per assignment and Paris day, so the hourly runs after the first of
    the day send nothing more, and a worker that was down catches up when it is back."""
    from flask import current_app as app_now

    from webapp.operations.assessment import send_review_reminders

    app = _job_app()
    with app.app_context(), app_now.test_request_context("/"):  # url_for for the links
        try:
            sent = send_review_reminders()
            db.session.commit()
            return sent
        finally:
            db.session.remove()


# --- progress -----------------------------------------------------------------------------------------


def latest_batch(call_id: int) -> list[BackgroundJob]:
    batch = db.session.scalar(
        select(BackgroundJob.batch)
        .where(BackgroundJob.call_id == call_id, BackgroundJob.kind == LETTERS)
        .order_by(BackgroundJob.id.desc())
        .limit(1)
    )
    if batch is None:
        return []
    return list(
        db.session.scalars(
            select(BackgroundJob).where(BackgroundJob.batch == batch).order_by(BackgroundJob.id)
        )
    )


def progress(jobs: list[BackgroundJob]) -> dict:
    """Totals of a batch for the progress bar."""
    if not jobs:
        return {"status": "none", "total": 0, "done": 0, "percent": 0, "errors": []}
    total, done = sum(j.total for j in jobs), sum(j.done for j in jobs)
    statuses = {j.status for j in jobs}
    if JobStatus.FAILED in statuses:
        status = JobStatus.FAILED.value
    elif statuses == {JobStatus.DONE}:
        status = JobStatus.DONE.value
    elif JobStatus.RUNNING in statuses or JobStatus.DONE in statuses:
        status = JobStatus.RUNNING.value
    else:
        status = JobStatus.QUEUED.value
    return {
        "status": status,
        "total": total,
        "done": done,
        "percent": int(100 * done / total) if total else 100,
        "errors": [j.error for j in jobs if j.error],
    }
