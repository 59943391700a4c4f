"""Cross-region seats in the drawing: away seats counted in the panel rules over the whole panel
(3 home + 2 away = 5), filled later by the partner's assignment (away_members_seat)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import DomainError
from evaluation import drawing as algorithm
from evaluation.models import MemberStatus
from evaluation.services import drawing as service
from tests.factories import actor

pytestmark = pytest.mark.django_db


def test_request_with_remote_experts_keeps_its_json_unchanged_when_none():
    plain = algorithm.DrawingRequest(tender="T", lot="1", session_start="2026-12-01T01:30:00Z", slots=(("A08", 5),))
    assert "remote_experts" not in plain.to_json()
    mixed = algorithm.DrawingRequest(tender="T", lot="1", session_start="2026-12-01T01:30:00Z", slots=(("A08", 3),), remote_experts=2)
    assert mixed.to_json()["remote_experts"] == 2 and algorithm.DrawingRequest.from_json(mixed.to_json()) == mixed
    assert algorithm.check_panel_rules(mixed) == [] and mixed.total == 5
    short = algorithm.DrawingRequest(tender="T", lot="1", session_start="2026-12-01T01:30:00Z", slots=(("A08", 3),), remote_experts=1)
    assert {r.code for r in algorithm.check_panel_rules(short)} == {"panel_even", "panel_small"}
    # The partner's side: 2 drawn there, the host's 3 elsewhere - the same whole panel.
    partner = algorithm.DrawingRequest(tender="T", lot="1", session_start="2026-12-01T01:30:00Z", slots=(("A08", 2),), remote_experts=3)
    seed = bytes(32)
    drawn = algorithm.draw(seed, partner, {"A08": ["a", "b", "c"]})
    assert len(drawn.picks) == 2
    assert algorithm.verify(seed, algorithm.seed_commitment(seed), partner, {"A08": ["a", "b", "c"]}, [drawn]).ok


def request(world, *, home=3, away=2, partner="442000"):
    starts = timezone.now() + timedelta(hours=2)
    return service.drawing_request(by=actor(world.centre), lot=world.lot, session_starts_at=starts, session_ends_at=starts + timedelta(hours=6),
                                   slots=[{"specialty": "A08", "count": home}],
                                   away_seats=[{"specialty": "A08", "count": away, "partner": partner}] if away else [])


def test_three_home_and_two_away_is_a_lawful_panel_and_the_away_seats_follow_the_home_ones(eval_world):
    eval_world.pool(5)
    drawing = service.drawing_run(by=actor(eval_world.centre), drawing=request(eval_world))
    assert drawing.panel_size == 5 and drawing.away_seats == [{"specialty": "A08", "count": 2, "partner": "442000"}]
    assert [m.seat for m in drawing.members.all()] == [1, 2, 3]
    assert service.away_seat_numbers(drawing, "442000") == [(4, "A08"), (5, "A08")]
    seats = [{"specialty": "A08", "expert_id": "zs-1", "public_jwk": {"kty": "EC"}}, {"specialty": "A08", "expert_id": "zs-2", "public_jwk": {}}]
    members = service.away_members_seat(by=actor(eval_world.centre), lot=eval_world.lot, partner_region="442000", assignment="b:1", seats=seats)
    assert [(m.seat, m.venue, m.remote_expert_id, m.expert_id) for m in members] == [(4, "away", "zs-1", None), (5, "away", "zs-2", None)]
    assert drawing.members.filter(status=MemberStatus.DRAWN).count() == 5
    # Idempotent; other experts for the same seats are refused.
    again = service.away_members_seat(by=actor(eval_world.centre), lot=eval_world.lot, partner_region="442000", assignment="b:1", seats=seats)
    assert [m.pk for m in again] == [m.pk for m in members]
    with pytest.raises(DomainError) as error:
        service.away_members_seat(by=actor(eval_world.centre), lot=eval_world.lot, partner_region="442000", assignment="b:2",
                                  seats=[{**seats[0], "expert_id": "zs-9"}, seats[1]])
    assert error.value.code == "already_seated"
    # An away member is replaced by the partner, not from the host's pool.
    with pytest.raises(DomainError) as error:
        service.replace_member(by=actor(eval_world.centre), member=members[0], status=MemberStatus.DECLINED, reason="出差")
    assert error.value.code == "away_member"


def test_whole_panel_rules_refuse_three_home_and_one_away_with_the_reason(eval_world):
    eval_world.pool(5)
    with pytest.raises(DomainError) as error:
        request(eval_world, away=1)
    assert error.value.code == "drawing_refused" and "单数" in str(error.value.message)


def test_an_assignment_that_does_not_fill_the_reserved_seats_is_refused(eval_world):
    eval_world.pool(5)
    service.drawing_run(by=actor(eval_world.centre), drawing=request(eval_world))
    one = [{"specialty": "A08", "expert_id": "zs-1"}]
    with pytest.raises(DomainError) as error:
        service.away_members_seat(by=actor(eval_world.centre), lot=eval_world.lot, partner_region="442000", assignment="b:1", seats=one)
    assert error.value.code == "assignment_mismatch"
    with pytest.raises(DomainError) as error:
        service.away_members_seat(by=actor(eval_world.centre), lot=eval_world.lot, partner_region="449999", assignment="b:1", seats=one)
    assert error.value.code == "no_away_seats"


def test_the_drawing_form_takes_away_seats(eval_world):
    from tests.evaluation.test_pool_pages import client_for, request_by_form

    eval_world.pool(3)
    centre = client_for(eval_world.centre)
    response = request_by_form(eval_world, centre, count_1="3", away_specialty="A03", away_count="1", away_partner="442000")
    assert response.status_code == 200 and "单数" in response.content.decode()  # 3 + 1: refused with the reason
    response = request_by_form(eval_world, centre, count_1="3", away_specialty="A03", away_count="2")
    assert response.status_code == 200 and "须同时填写" in response.content.decode()
    response = request_by_form(eval_world, centre, count_1="3", away_specialty="A03", away_count="2", away_partner="442000")
    assert response.status_code == 302
    from evaluation.models import Drawing

    drawing = Drawing.objects.get(lot=eval_world.lot)
    assert drawing.away_seats == [{"specialty": "A03", "count": 2, "partner": "442000"}] and drawing.panel_size == 5


def test_drawing_page_and_drawing_verify_with_away_members(eval_world):
    import io

    from django.core.management import call_command

    from tests.evaluation.test_pool_pages import client_for

    eval_world.pool(5)
    drawing = service.drawing_run(by=actor(eval_world.centre), drawing=request(eval_world))
    service.away_members_seat(by=actor(eval_world.centre), lot=eval_world.lot, partner_region="442000", assignment="b:1",
                              seats=[{"specialty": "A08", "expert_id": "zs-1"}, {"specialty": "A08", "expert_id": "zs-2"}])
    from django.urls import reverse

    response = client_for(eval_world.centre).get(reverse("evaluation:drawing_detail", args=[drawing.pk]))
    assert response.status_code == 200 and "专家5" in response.content.decode()
    out = io.StringIO()
    call_command("drawing_verify", drawing.pk, stdout=out)
    assert f"MATCH drawing {drawing.pk} verifies" in out.getvalue()
