"""Pages without login: home, language switch; and the dashboard every account lands on."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session
from flask_login import current_user, login_required

from forms.auth import ConfirmForm
from webapp.extensions import db
from webapp.public import bp
from webapp.redirects import safe_next


@bp.get("/")
def index():
    from webapp.operations.calls import open_calls

    return render_template("public/index.html", open_calls=open_calls(limit=6))


@bp.post("/language/<lang>")
def set_language(lang: str):
    form = ConfirmForm()
    if form.validate_on_submit() and lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang  # e-mails follow the language chosen last
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), "public.index"))


@bp.get("/dashboard")
@login_required
def dashboard():
    return render_template("public/dashboard.html")


@bp.get("/healthz")
def healthz():
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
