"""The one place that sends mail.

`queue_mail` writes an outbox row in the caller's transaction; `deliver_outbox` (the worker)
sends what is due over SMTP, retrying with backoff, and marks each message sent exactly once.
"""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import or_, select, update

from webapp.extensions import db
from webapp.models import OutboxMessage, utcnow

SUBJECT_PREFIX = "[Inserm] "


def queue_mail(
    to: str | list[str], template: str, *, locale: str = "fr", **context
) -> list[OutboxMessage]:
    """Render emails/<template>.{subject,txt} in the recipient's language; one row per recipient."""
    recipients = [to] if isinstance(to, str) else list(dict.fromkeys(to))
    messages = []
    with force_locale(locale if locale in current_app.config["LANGUAGES"] else "fr"):
        # One line, whatever a user typed into what the subject quotes (a call's title...).
        subject = " ".join(render_template(f"emails/{template}.subject.txt", **context).split())
        body = render_template(f"emails/{template}.txt", **context)
    status = "queued" if current_app.config.get("MAIL_SERVER") else "held"
    for recipient in recipients:
        if not recipient:
            continue
        msg = OutboxMessage(
            recipient=recipient,
            subject=(SUBJECT_PREFIX + subject)[:300],
            body_text=body,
            template=template,
            status=status,
            next_attempt_at=utcnow(),
        )
        db.session.add(msg)
        messages.append(msg)
    return messages


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _smtp_connection():
    """A real SMTP connection from the current settings (also in tests: the sink is real)."""
    cfg = current_app.config
    return current_app.extensions["mailman"].get_connection(
        backend="flask_mailman.backends.smtp.EmailBackend",
        fail_silently=False,
        host=cfg["MAIL_SERVER"],
        port=cfg["MAIL_PORT"],
        username=cfg.get("MAIL_USERNAME"),
        password=cfg.get("MAIL_PASSWORD"),
        use_tls=cfg.get("MAIL_USE_TLS", False),
        use_ssl=cfg.get("MAIL_USE_SSL", False),
        timeout=cfg.get("MAIL_TIMEOUT", 10),
    )


def deliver_outbox(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send due messages; each is claimed first (a lease), so two workers never send one twice."""
    now = now or utcnow()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not current_app.config.get("MAIL_SERVER"):
        return counts
    # Messages held while no server was configured become due now that one is.
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.status == "held").values(status="queued")
    )
    db.session.commit()
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    due_ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "queued",
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    connection = None
    try:
        for message_id in due_ids:
            claimed = db.session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status == "queued",
                    or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
                )
                .values(locked_until=now + timedelta(minutes=5))
            ).rowcount
            db.session.commit()
            if not claimed:
                continue
            message = db.session.get(OutboxMessage, message_id)
            try:
                if connection is None:
                    connection = _smtp_connection()
                    connection.open()
                email = EmailMultiAlternatives(
                    subject=message.subject,
                    body=message.body_text,
                    from_email=current_app.config["MAIL_DEFAULT_SENDER"],
                    to=[message.recipient],
                    connection=connection,
                )
                if message.body_html:
                    email.attach_alternative(message.body_html, "text/html")
                email.send()
            except (TimeoutError, smtplib.SMTPException, OSError, ValueError) as exc:
                # ValueError: a message the mail library refuses (e.g. a bad header). It fails
                # alone, after its attempts, and the others are still delivered.
                refused = isinstance(exc, ValueError)  # trying again would not help
                if not refused and connection is not None:
                    try:
                        connection.close()  # the server's refusal leaves its socket open
                    except Exception:  # noqa: BLE001, S110 - closing a broken connection may fail too
                        pass
                    connection = None
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:500]
                message.locked_until = None
                if refused or message.attempts >= max_attempts:
                    message.status = "failed"
                    counts["failed"] += 1
                else:
                    message.next_attempt_at = now + _backoff(message.attempts)
                    counts["retry"] += 1
                db.session.commit()
                continue
            message.attempts += 1
            message.status = "sent"
            message.sent_at = utcnow()
            message.locked_until = None
            db.session.commit()
            counts["sent"] += 1
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken connection may fail too
                pass
    return counts
