"""The job queue's periodic work: reminders to reviewers run every hour without anyone typing a
command, once per assignment and Paris day however often the task runs."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import time_machine

from tests.factories import make_call, make_proposal
from tests.webapp.assessment_fixtures import propose, reviewer, send
from webapp import jobs
from webapp.models import OutboxMessage, utcnow
from webapp.models.assessment import ReviewAssignment
from webapp.operations.assessment import due_at_end_of
from workflows.timeutils import paris_date, paris_to_utc


def test_the_reminders_are_a_periodic_task_of_the_worker(app):
    # What the worker's scheduler asks each minute: is this task due now?
    task_class = jobs.review_reminders_task.task_class
    assert task_class in jobs.huey._registry._periodic_tasks
    # Huey hands its scheduler naive UTC times.
    due = [m for m in range(60) if task_class().validate_datetime(datetime(2027, 3, 1, 9, m))]  # noqa: DTZ001
    assert due == [5]  # once an hour


def test_the_periodic_task_reminds_once_a_day(app, db, manager, make_user):
    call = make_call(manager)
    owner = make_user(email="claire.martin@inserm.example")
    proposal = make_proposal(call, owner, "eligible", title="Neurons across borders")
    anna = reviewer(make_user, "anna.berg@ki.example", first_name="Anna", last_name="Berg")
    assignment = propose(proposal, anna, manager)
    send(call, manager)
    today = paris_date(utcnow())
    db.session.get(ReviewAssignment, assignment.id).due_at = due_at_end_of(today + timedelta(days=1))
    db.session.commit()
    nine = paris_to_utc(datetime.combine(today, time(9, 5)))

    for hour in range(3):  # three hourly runs on the same day
        with time_machine.travel(nine + timedelta(hours=hour), tick=False):
            jobs.review_reminders_task.call_local()
    db.session.expire_all()
    reminders = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.template == "review_reminder")
    ).all()
    assert [m.recipient for m in reminders] == [anna.email]
    assert "/review/" in reminders[0].body_text
