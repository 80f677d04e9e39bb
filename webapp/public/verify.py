"""The public verification page: is this PDF a document the platform issued, and which version?

By reference: the versions issued under it, with their SHA-256 and which one is current.
By upload: the file's SHA-256 looked up among issued documents (a single changed byte finds
nothing), and the platform's PAdES signature checked with pyHanko. Nothing of the document's
content is shown: only what proves or disproves its authenticity.
"""

from __future__ import annotations

import hashlib

from flask import render_template, request

from forms.decisions import VerifyForm
from webapp.documents import issued
from webapp.documents.signing import SigningNotConfigured, check_signature
from webapp.public import bp

MAX_VERIFY_BYTES = 30 * 1024 * 1024


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    form = VerifyForm()
    reference = (request.args.get("reference") or "").strip().upper()[:60]
    versions = issued.versions_of(reference) if reference else []
    result = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            data = form.document.data.read(MAX_VERIFY_BYTES + 1)
            sha256 = hashlib.sha256(data).hexdigest()
            document = issued.find_by_sha256(sha256)
            try:
                signature = check_signature(data) if len(data) <= MAX_VERIFY_BYTES else None
            except SigningNotConfigured:
                signature = None
            latest = issued.current_document(document.reference) if document is not None else None
            result = {"sha256": sha256, "document": document, "latest": latest, "signature": signature}
        else:
            status = 422
    return render_template(
        "public/verify.html", form=form, reference=reference, versions=versions, result=result
    ), status
