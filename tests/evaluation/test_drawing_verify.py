"""`manage.py drawing_verify <id>` re-runs a drawing and catches an altered result, an altered
eligible list, a swapped seed and a panel that is not the drawn one."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from evaluation.models import Drawing, Expert
from evaluation.services import drawing as service
from tests.factories import actor

pytestmark = pytest.mark.django_db


def drawn(world, *, pool=8, declines=0, publish=False):
    world.pool(pool)
    starts = timezone.now() + timedelta(hours=2)
    drawing = service.drawing_request(by=actor(world.centre), lot=world.lot, session_starts_at=starts,
                                      session_ends_at=starts + timedelta(hours=4), slots=[{"specialty": "A08", "count": 5}])
    drawing = service.drawing_run(by=actor(world.centre), drawing=drawing)
    for seat in range(1, declines + 1):
        member = drawing.members.get(seat=seat, status="drawn")
        service.replace_member(by=actor(member.user), member=member, status="declined", reason="有事")
    if publish:
        service.publish_result(by=actor(world.centre), drawing=drawing)
    drawing.refresh_from_db()
    return drawing


def verify(drawing_id):
    out, err = StringIO(), StringIO()
    try:
        call_command("drawing_verify", str(drawing_id), stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def raw_update(drawing, column, value):
    """Tamper behind the platform's back, as someone with database access would."""
    cast = "::jsonb" if connection.vendor == "postgresql" and column in ("rounds", "eligible") else ""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE evaluation_drawing SET {column} = %s{cast} WHERE id = %s", [value, drawing.pk])


def test_a_published_drawing_with_replacements_matches(eval_world):
    drawing = drawn(eval_world, declines=2, publish=True)
    code, out, _err = verify(drawing.pk)
    assert code == 0, out
    assert "MATCH" in out and "FAIL" not in out and "3 round(s)" in out
    assert "not yet public" not in out


def test_an_unpublished_drawing_verifies_but_says_the_seed_is_not_public(eval_world):
    drawing = drawn(eval_world)
    code, out, _err = verify(drawing.pk)
    assert code == 0, out
    assert "seed is not yet public" in out and "MATCH" in out


def test_an_altered_result_is_caught(eval_world):
    drawing = drawn(eval_world, declines=1)
    rounds = drawing.rounds
    unpicked = sorted(set(drawing.eligible["A08"]) - {p["expert"] for r in rounds for p in r["picks"]})
    rounds[0]["picks"][0]["expert"] = unpicked[0]
    raw_update(drawing, "rounds", json.dumps(rounds))
    code, out, err = verify(drawing.pk)
    assert code == 1
    assert "MISMATCH" in err
    assert "FAIL re-run" in out and "第0轮" in out
    assert "FAIL the rounds stored equal the rounds recorded in the audit trail" in out


def test_an_altered_eligible_list_is_caught(eval_world):
    drawing = drawn(eval_world)
    eligible = drawing.eligible
    drawn_ids = {p["expert"] for p in drawing.rounds[0]["picks"]}
    eligible["A08"] = sorted(i for i in eligible["A08"] if i in drawn_ids or i == min(set(eligible["A08"]) - drawn_ids))
    raw_update(drawing, "eligible", json.dumps(eligible))
    code, out, _err = verify(drawing.pk)
    assert code == 1
    assert "抽取请求或合格专家名单与事先记录的摘要不符" in out


def test_a_swapped_seed_is_caught(eval_world):
    drawing = drawn(eval_world, publish=True)
    raw_update(drawing, "seed_hex", "00" * 32)
    code, out, _err = verify(drawing.pk)
    assert code == 1
    assert "种子承诺" in out and "FAIL the seed revealed at publication" in out


def test_a_panel_member_swapped_in_the_database_is_caught(eval_world):
    drawing = drawn(eval_world, pool=6)
    spare = next(e for e in Expert.objects.all()
                 if str(e.public_id) not in {p["expert"] for p in drawing.rounds[0]["picks"]})
    member = drawing.members.get(seat=1)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE evaluation_panelmember SET expert_id = %s WHERE id = %s", [spare.pk, member.pk])
    code, out, _err = verify(drawing.pk)
    assert code == 1 and "FAIL the serving experts' seats" in out


def test_unknown_drawing(db):
    code, _out, err = verify(999)
    assert code == 1 and "no drawing" in err
    assert not Drawing.objects.exists()
