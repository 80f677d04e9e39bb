"""What the call editor posts: a complete, publishable form, to change one field at a time."""

from __future__ import annotations

from workflows.calls import DEFAULT_ATTACHMENTS, DEFAULT_CHAR_LIMITS, default_grid


def call_form(**overrides) -> dict:
    """The editor's fields for a complete LEA/LIA call opening 2026-03-02 09:00 and closing
    2026-06-15 17:00 (Paris time). ``overrides`` replace fields; a value None removes one."""
    data = {
        "instrument": "lea_lia",
        "year": "2026",
        "title_fr": "Appel LEA/LIA 2026",
        "title_en": "LEA/LIA call 2026",
        "text_fr": "Texte de l'appel.",
        "text_en": "Text of the call.",
        "opens_at": "2026-03-02T09:00",
        "closes_at": "2026-06-15T17:00",
        "grace_minutes": "0",
        "loi_deadline_at": "",
        "countries": ["BR", "JP"],
        "country_policy": "refuse",
        "budget_envelope_eur": "300 000",
        "max_per_year_eur": "15000",
        "duration_years": "4",
        "non_mobility_cap_pct": "20",
        "scale_min": "1",
        "scale_max": "5",
        "overall_threshold": "",
        "tie_break": "C1, C3",
        "reviewers_per_proposal": "2",
        "target_awards": "10",
        "funding_start": "2027-01-01",
    }
    for name, limit in DEFAULT_CHAR_LIMITS.items():
        data[f"max_chars_{name}"] = str(limit)
    for i, kind in enumerate(DEFAULT_ATTACHMENTS):
        data[f"attachments-{i}-code"] = kind.code
        data[f"attachments-{i}-label_fr"] = kind.label_fr
        data[f"attachments-{i}-label_en"] = kind.label_en
        if kind.required:
            data[f"attachments-{i}-required"] = "y"
        data[f"attachments-{i}-max_mb"] = str(kind.max_mb)
    grid = default_grid()
    for i, c in enumerate(grid.criteria):
        data[f"criteria-{i}-code"] = c.code
        data[f"criteria-{i}-label_fr"] = c.label_fr
        data[f"criteria-{i}-label_en"] = c.label_en
        data[f"criteria-{i}-guidance_fr"] = c.guidance_fr
        data[f"criteria-{i}-guidance_en"] = c.guidance_en
        data[f"criteria-{i}-weight"] = str(c.weight)
        data[f"criteria-{i}-threshold"] = ""
    for i, band in enumerate(grid.grade_bands):
        data[f"grade_bands-{i}-grade"] = band.grade
        data[f"grade_bands-{i}-min_score"] = str(band.min_score)
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data
