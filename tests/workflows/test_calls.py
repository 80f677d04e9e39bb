"""Call rules: defaults, country policy, status from dates, grid and publication checks, DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from workflows.calls import (
    DEFAULT_ATTACHMENTS,
    DEFAULT_CHAR_LIMITS,
    AttachmentSpec,
    CallSpec,
    CallStatus,
    CountryPolicy,
    CriterionSpec,
    GradeBand,
    call_status,
    country_check,
    deadline_extension_problems,
    default_grid,
    draft_problems,
    grade_for,
    grid_change_problems,
    grid_problems,
    next_year_title,
    publication_problems,
    shift_date_one_year,
    shift_one_year,
    unpublish_problems,
)
from workflows.errors import NonexistentLocalTime
from workflows.timeutils import paris_to_utc, to_paris

OPENS = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 Paris (winter time)
CLOSES = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)  # 17:00 Paris (summer time)


def valid_spec(**changes) -> CallSpec:
    spec = CallSpec(
        instrument="lea_lia",
        year=2026,
        title_fr="Appel LEA/LIA 2026",
        title_en="LEA/LIA call 2026",
        text_fr="Texte",
        text_en="Text",
        opens_at=OPENS,
        closes_at=CLOSES,
        eligible_countries=("BR", "JP"),
        registry_countries=frozenset({"BR", "JP", "CN"}),
        budget_envelope_eur=300_000,
        max_per_year_eur=15_000,
        duration_years=4,
        non_mobility_cap_pct=20,
        attachments=DEFAULT_ATTACHMENTS,
        char_limits=dict(DEFAULT_CHAR_LIMITS),
        funding_start=date(2027, 1, 1),
    )
    return replace(spec, **changes)


def codes(problems) -> list[str]:
    return [p.code for p in problems]


# --- defaults ---------------------------------------------------------------------------------


def test_the_default_grid_is_domain_section_5():
    grid = default_grid()
    assert [(c.code, c.weight) for c in grid.criteria] == [
        ("C1", 25), ("C2", 20), ("C3", 20), ("C4", 10), ("C5", 10), ("C6", 10), ("C7", 5),
    ]  # fmt: skip
    assert grid.tie_break == ("C1", "C3")
    assert (grid.scale_min, grid.scale_max) == (1, 5)
    assert [b.grade for b in grid.grade_bands] == ["A+", "A", "B", "C"]
    assert all(c.label_fr and c.label_en for c in grid.criteria)
    assert grid_problems(grid) == []


def test_the_default_documents_and_limits():
    assert [(a.code, a.required) for a in DEFAULT_ATTACHMENTS] == [
        ("cv_coordinator", True), ("cv_co_coordinator", True), ("support_letter", True),
        ("unit_director_endorsement", True), ("publication_list", False),
    ]  # fmt: skip
    assert set(DEFAULT_CHAR_LIMITS) == {"abstract", "history", "programme", "mobility_plan", "ethics"}


def test_a_complete_call_is_publishable():
    assert publication_problems(valid_spec()) == []


# --- country policy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, code, expected",
    [
        ("refuse", "BR", (True, False)),
        ("refuse", "br", (True, False)),
        ("refuse", "US", (False, False)),
        ("refuse", "", (False, False)),
        ("flag", "BR", (True, False)),
        ("flag", "US", (True, True)),
        (CountryPolicy.FLAG, " us ", (True, True)),
    ],
)
def test_country_check(policy, code, expected):
    assert country_check(policy, code, ["BR", "jp"]) == expected


def test_country_check_refuses_an_unknown_policy():
    with pytest.raises(ValueError):
        country_check("ignore", "BR", ["BR"])


# --- status from the dates --------------------------------------------------------------------

SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    "now, published, closes, expected",
    [
        (OPENS - SECOND, True, CLOSES, CallStatus.UPCOMING),
        (OPENS, True, CLOSES, CallStatus.OPEN),
        (CLOSES - SECOND, True, CLOSES, CallStatus.OPEN),
        (CLOSES, True, CLOSES, CallStatus.OPEN),  # the deadline itself is still on time
        (CLOSES + SECOND, True, CLOSES, CallStatus.CLOSED),
        (CLOSES + timedelta(days=3650), True, None, CallStatus.OPEN),  # rolling: never closes
        (OPENS - SECOND, True, None, CallStatus.UPCOMING),
        (OPENS + SECOND, False, CLOSES, CallStatus.DRAFT),
    ],
)
def test_call_status(now, published, closes, expected):
    assert call_status(now, published=published, opens_at=OPENS, closes_at=closes) == expected


def test_a_published_call_without_an_opening_date_is_not_shown_as_open():
    assert call_status(OPENS, published=True, opens_at=None, closes_at=None) == CallStatus.DRAFT


def test_call_status_refuses_naive_times():
    with pytest.raises(ValueError):
        call_status(datetime(2026, 4, 1, 12, 0), published=True, opens_at=OPENS, closes_at=CLOSES)  # noqa: DTZ001


# --- publication refusals: each alone, then all at once ----------------------------------------

REFUSALS = [
    ("title_fr_missing", {"title_fr": "  "}),
    ("title_en_missing", {"title_en": ""}),
    ("text_fr_missing", {"text_fr": ""}),
    ("text_en_missing", {"text_en": ""}),
    ("instrument_invalid", {"instrument": "ume_umi"}),
    ("year_invalid", {"year": 1999}),
    ("opens_missing", {"opens_at": None}),
    ("closes_missing", {"closes_at": None}),
    ("closes_before_opens", {"closes_at": OPENS - timedelta(days=1)}),
    ("closes_before_opens", {"closes_at": OPENS}),
    ("rolling_with_closing", {"is_rolling": True}),
    ("rolling_two_stage", {"is_rolling": True, "closes_at": None, "two_stage": True}),
    ("grace_invalid", {"grace_minutes": -5}),
    ("loi_missing", {"two_stage": True}),
    ("loi_after_full", {"two_stage": True, "loi_deadline_at": CLOSES + timedelta(days=1)}),
    ("loi_after_full", {"two_stage": True, "loi_deadline_at": CLOSES}),
    ("loi_before_opens", {"two_stage": True, "loi_deadline_at": OPENS - timedelta(hours=1)}),
    ("loi_without_two_stage", {"loi_deadline_at": OPENS + timedelta(days=10)}),
    ("funding_before_close", {"funding_start": date(2026, 6, 1)}),
    ("no_country", {"eligible_countries": ()}),
    ("country_outside_registry", {"eligible_countries": ("BR", "US")}),
    ("max_per_year_missing", {"max_per_year_eur": None}),
    ("max_per_year_missing", {"max_per_year_eur": 0}),
    ("envelope_invalid", {"budget_envelope_eur": 0}),
    ("envelope_below_max", {"budget_envelope_eur": 10_000}),
    ("duration_invalid", {"duration_years": 0}),
    ("cap_invalid", {"non_mobility_cap_pct": 120}),
    ("attachment_code_invalid", {"attachments": (AttachmentSpec("CV!", "a", "b", True, 5),)}),
    ("attachment_code_duplicate", {"attachments": (AttachmentSpec("cv", "a", "b", True, 5),) * 2}),
    ("attachment_label_missing", {"attachments": (AttachmentSpec("cv", "", "b", True, 5),)}),
    ("attachment_size_invalid", {"attachments": (AttachmentSpec("cv", "a", "b", True, 0),)}),
    ("attachment_size_invalid", {"attachments": (AttachmentSpec("cv", "a", "b", True, 31),)}),
    ("char_limit_invalid", {"char_limits": {**DEFAULT_CHAR_LIMITS, "ethics": None}}),
    ("reviewers_invalid", {"reviewers_per_proposal": 0}),
    ("target_awards_invalid", {"target_awards": 0}),
]


@pytest.mark.parametrize("code, changes", REFUSALS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(REFUSALS)])
def test_each_refusal(code, changes):
    problems = publication_problems(valid_spec(**changes))
    assert code in codes(problems)
    assert all(p.message for p in problems)


def test_a_rolling_call_needs_no_closing_date():
    assert publication_problems(valid_spec(is_rolling=True, closes_at=None, funding_start=None)) == []


def test_a_two_stage_call_with_ordered_deadlines_is_publishable():
    spec = valid_spec(two_stage=True, loi_deadline_at=OPENS + timedelta(days=30))
    assert publication_problems(spec) == []


def test_every_problem_is_listed_at_once():
    spec = valid_spec(
        title_fr="",
        title_en="",
        closes_at=OPENS - timedelta(days=1),
        eligible_countries=(),
        two_stage=True,
        loi_deadline_at=CLOSES + timedelta(days=10),
        grid=replace(default_grid(), criteria=default_grid().criteria[:-1]),  # weights 95
    )
    found = codes(publication_problems(spec))
    for code in ("title_fr_missing", "title_en_missing", "closes_before_opens", "no_country",
                 "loi_after_full", "weights_not_100"):
        assert code in found, found


def test_messages_name_the_paris_times():
    [problem] = [p for p in publication_problems(valid_spec(closes_at=OPENS - timedelta(hours=1)))
                 if p.code == "closes_before_opens"]
    assert "2026-03-02 08:00 (Paris)" in problem.message
    assert "2026-03-02 09:00 (Paris)" in problem.message


# --- the grid -----------------------------------------------------------------------------------


def _grid(**changes):
    return replace(default_grid(), **changes)


def _criteria(*weights):
    return tuple(CriterionSpec(f"K{i}", f"fr{i}", f"en{i}", w) for i, w in enumerate(weights, 1))


GRID_REFUSALS = [
    ("no_criteria", {"criteria": (), "tie_break": ()}),
    ("weights_not_100", {"criteria": _criteria(50, 40), "tie_break": ()}),
    ("weights_not_100", {"criteria": _criteria(50, 60), "tie_break": ()}),
    ("criterion_weight_invalid", {"criteria": _criteria(100, 0), "tie_break": ()}),
    ("criterion_code_missing", {"criteria": (CriterionSpec("", "a", "b", 100),), "tie_break": ()}),
    ("criterion_code_invalid", {"criteria": (CriterionSpec("C 1", "a", "b", 100),), "tie_break": ()}),
    ("criterion_code_duplicate", {"criteria": (CriterionSpec("C1", "a", "b", 50),
                                               CriterionSpec("c1", "a", "b", 50)), "tie_break": ()}),
    ("criterion_label_fr_missing", {"criteria": (CriterionSpec("C1", "", "b", 100),), "tie_break": ()}),
    ("criterion_label_en_missing", {"criteria": (CriterionSpec("C1", "a", " ", 100),), "tie_break": ()}),
    ("criterion_threshold_outside", {"criteria": (CriterionSpec("C1", "a", "b", 100, threshold=6),),
                                     "tie_break": ()}),
    ("scale_invalid", {"scale_min": 5, "scale_max": 5}),
    ("scale_negative", {"scale_min": -1}),
    ("overall_threshold_outside", {"overall_threshold": 5.5}),
    ("no_grade_bands", {"grade_bands": ()}),
    ("grade_label_missing", {"grade_bands": (GradeBand("", 1.0),)}),
    ("grade_label_duplicate", {"grade_bands": (GradeBand("A", 3.0), GradeBand("A", 1.0))}),
    ("grade_outside_scale", {"grade_bands": (GradeBand("A", 6.0), GradeBand("B", 1.0))}),
    ("grades_not_decreasing", {"grade_bands": (GradeBand("A", 3.0), GradeBand("B", 4.0),
                                               GradeBand("C", 1.0))}),
    ("grades_leave_gap", {"grade_bands": (GradeBand("A", 4.0), GradeBand("B", 2.0))}),
    ("tie_break_unknown", {"tie_break": ("C1", "C9")}),
    ("tie_break_duplicate", {"tie_break": ("C1", "c1")}),
]


@pytest.mark.parametrize("code, changes", GRID_REFUSALS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(GRID_REFUSALS)])
def test_each_grid_refusal(code, changes):
    problems = grid_problems(_grid(**changes))
    assert code in codes(problems)
    # and the call as a whole cannot be published with it
    assert code in codes(publication_problems(valid_spec(grid=_grid(**changes))))


def test_the_weights_message_says_the_sum():
    [problem] = [p for p in grid_problems(_grid(criteria=_criteria(50, 45), tie_break=()))
                 if p.code == "weights_not_100"]
    assert problem.message == "The weights add up to 95, not 100."
    assert problem.params == {"total": 95}


def test_a_custom_scale_and_thresholds():
    grid = _grid(
        scale_min=0,
        scale_max=10,
        criteria=(CriterionSpec("Q", "q", "q", 60, threshold=5), CriterionSpec("R", "r", "r", 40)),
        overall_threshold=6.5,
        grade_bands=(GradeBand("A", 8.0), GradeBand("B", 5.0), GradeBand("C", 0.0)),
        tie_break=("R",),
    )
    assert grid_problems(grid) == []


@pytest.mark.parametrize(
    "score, grade",
    [(5.0, "A+"), (4.5, "A+"), (4.4999999, "A+"), (4.49, "A"), (4.0, "A"), (3.99, "B"), (3.0, "B"),
     (2.99, "C"), (1.0, "C"), (0.5, None)],
)
def test_grade_for(score, grade):
    assert grade_for(score, default_grid().grade_bands) == grade


def test_the_grid_freezes_once_proposals_are_submitted():
    old = default_grid()
    changed = _grid(criteria=(replace(old.criteria[0], weight=30), *old.criteria[1:]))
    assert grid_change_problems(False, old, changed) == []
    assert codes(grid_change_problems(True, old, changed)) == ["grid_frozen"]
    assert grid_change_problems(True, old, default_grid()) == []  # saving it unchanged is fine


def test_draft_problems_are_only_what_storage_cannot_hold():
    spec = valid_spec(title_fr="", closes_at=None,
                      grid=_grid(criteria=(CriterionSpec("C1", "a", "b", 50),) * 2, tie_break=()))
    assert codes(draft_problems(spec)) == ["criterion_code_duplicate"]
    assert draft_problems(valid_spec(title_fr="", eligible_countries=())) == []


# --- after publication --------------------------------------------------------------------------


def test_unpublish_only_while_nothing_is_submitted():
    assert unpublish_problems(True, False) == []
    assert codes(unpublish_problems(True, True)) == ["has_submissions"]
    assert codes(unpublish_problems(False, False)) == ["not_published"]


def _extension(**changes):
    args = dict(published=True, is_rolling=False, two_stage=False, old_closes_at=CLOSES,
                new_closes_at=CLOSES + timedelta(days=7))
    args.update(changes)
    return codes(deadline_extension_problems(**args))


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, []),
        ({"new_closes_at": CLOSES - SECOND}, ["deadline_earlier"]),
        ({"new_closes_at": CLOSES}, ["deadline_unchanged"]),
        ({"new_closes_at": None}, ["closes_missing"]),
        ({"published": False}, ["not_published"]),
        ({"is_rolling": True}, ["rolling_no_deadline"]),
        ({"two_stage": True, "old_loi_deadline_at": OPENS + timedelta(days=30),
          "new_loi_deadline_at": OPENS + timedelta(days=40)}, []),
        ({"two_stage": True, "old_loi_deadline_at": OPENS + timedelta(days=30),
          "new_loi_deadline_at": OPENS + timedelta(days=20)}, ["loi_earlier"]),
        ({"two_stage": True, "old_loi_deadline_at": OPENS + timedelta(days=30),
          "new_loi_deadline_at": CLOSES + timedelta(days=8)}, ["loi_after_full"]),
        ({"two_stage": True, "old_loi_deadline_at": OPENS, "new_loi_deadline_at": None},
         ["loi_missing"]),
    ],
)
def test_deadline_extension(changes, expected):
    assert _extension(**changes) == expected


# --- Paris time around the clock changes --------------------------------------------------------


def test_a_time_in_the_spring_gap_is_refused():
    with pytest.raises(NonexistentLocalTime, match="does not exist in Paris"):
        paris_to_utc(datetime(2026, 3, 29, 2, 30))  # noqa: DTZ001 - a wall-clock time


def test_the_repeated_autumn_hour_means_its_first_occurrence():
    first = paris_to_utc(datetime(2026, 10, 25, 2, 30))  # noqa: DTZ001 - a wall-clock time
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time (UTC+2)


def test_a_deadline_across_the_spring_change_is_entered_and_read_back():
    before = paris_to_utc(datetime(2026, 3, 29, 1, 59))  # noqa: DTZ001
    after = paris_to_utc(datetime(2026, 3, 29, 3, 0))  # noqa: DTZ001
    assert after - before == timedelta(minutes=1)  # the hour in between does not exist
    assert to_paris(after).utcoffset() == timedelta(hours=2)


def test_status_just_before_and_after_a_deadline_on_the_autumn_change():
    deadline = paris_to_utc(datetime(2026, 10, 25, 2, 30))  # noqa: DTZ001
    second_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # the second 02:30 (winter time)
    assert call_status(deadline, published=True, opens_at=OPENS, closes_at=deadline) == "open"
    assert call_status(second_0230, published=True, opens_at=OPENS, closes_at=deadline) == "closed"


@pytest.mark.parametrize(
    "moment, expected",
    [
        # 17:00 Paris in June stays 17:00 Paris a year later.
        (datetime(2026, 6, 15, 15, 0, tzinfo=UTC), datetime(2027, 6, 15, 15, 0, tzinfo=UTC)),
        # 09:00 Paris in winter.
        (datetime(2026, 3, 2, 8, 0, tzinfo=UTC), datetime(2027, 3, 2, 8, 0, tzinfo=UTC)),
        # 29 March 2027 02:30 exists, 28 March 2027 02:30 falls in the gap -> 03:30.
        (paris_to_utc(datetime(2026, 3, 28, 2, 30)), paris_to_utc(datetime(2027, 3, 28, 3, 30))),  # noqa: DTZ001
        (datetime(2028, 2, 29, 11, 0, tzinfo=UTC), datetime(2029, 2, 28, 11, 0, tzinfo=UTC)),
        (None, None),
    ],
)
def test_shift_one_year_keeps_the_paris_wall_clock(moment, expected):
    assert shift_one_year(moment) == expected


def test_shift_dates_and_titles():
    assert shift_date_one_year(date(2028, 2, 29)) == date(2029, 2, 28)
    assert shift_date_one_year(date(2026, 1, 1)) == date(2027, 1, 1)
    assert next_year_title("Appel LEA/LIA 2026", 2026) == "Appel LEA/LIA 2027"
    assert next_year_title("Call 12026 (2026)", 2026) == "Call 12026 (2027)"
    assert next_year_title("Call for associated laboratories", 2026) == "Call for associated laboratories"
