"""Objections at the opening (异议, E29; opening/services/record.py): the host opens and closes the
period once decryption has started, a bidder of the opening raises objections while it is open,
the host answers each once, and everyone in the room sees both live. Every refusal changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from config.errors import DomainError
from opening import services
from opening.commands import dispatch
from opening.models import OpeningObjection, RoomEvent
from tests.factories import actor, person

from .records import decrypted, started
from .world import clock, dummy_tasks, world  # noqa: F401

pytestmark = pytest.mark.django_db


def events(session, kind):
    return [e.payload for e in RoomEvent.objects.filter(room=session.room, kind=kind).order_by("seq")]


def refused(code, call, **kwargs):
    with pytest.raises(DomainError) as error:
        call(**kwargs)
    assert error.value.code == code, error.value.message
    return error.value


def test_a_bidder_objects_the_host_answers_and_everyone_sees_both(world):
    session = started(world)
    bidder = world.bidders[1]
    services.opening_objections_open(by=actor(world.host), session=session)
    objection = services.opening_objection_raise(by=actor(bidder.user), session=session, text="  第3号投标人的解密时间早于主持人宣布开始。 ")
    assert objection.text == "第3号投标人的解密时间早于主持人宣布开始。" and objection.organisation == bidder.organisation
    answered = services.opening_objection_answer(by=actor(world.host), objection=objection, text="经核查，解密在宣布开始之后进行。")
    assert answered.answered_by == world.host and answered.answered_at is not None
    services.opening_objections_close(by=actor(world.host), session=session)
    session.refresh_from_db()
    assert not session.objections_open and session.objections_closed_at is not None

    assert [e["opened_at"] is not None for e in events(session, "objections_opened")] == [True]
    [raised] = events(session, "objection_raised")
    assert (raised["id"], raised["bidder"], raised["text"]) == (objection.pk, bidder.organisation.name, objection.text)
    [answer] = events(session, "objection_answered")
    assert (answer["id"], answer["answer"], answer["bidder"]) == (objection.pk, "经核查，解密在宣布开始之后进行。", bidder.organisation.name)
    assert events(session, "objections_closed")[0]["count"] == 1
    actions = list(AuditEvent.objects.filter(action__startswith="opening.objection").values_list("action", flat=True))
    assert actions == ["opening.objections_open", "opening.objection_raise", "opening.objection_answer", "opening.objections_close"]
    raise_event = AuditEvent.objects.get(action="opening.objection_raise")
    assert raise_event.organisation_id == bidder.organisation.pk and "第3号投标人" in raise_event.body


def test_no_objection_while_the_period_is_closed(world):
    session = started(world)
    bidder = world.bidders[0]
    error = refused("objections_closed", services.opening_objection_raise, by=actor(bidder.user), session=session, text="异议")
    assert "异议期未开放或已关闭" in str(error.message)
    services.opening_objections_open(by=actor(world.host), session=session)
    services.opening_objections_close(by=actor(world.host), session=session)
    refused("objections_closed", services.opening_objection_raise, by=actor(bidder.user), session=session, text="异议")
    assert not OpeningObjection.objects.exists()


def test_the_period_opens_only_after_decryption_started_and_only_for_the_host(world):
    session = world.opened()
    refused("objections_not_allowed", services.opening_objections_open, by=actor(world.host), session=session)
    session = started_from(world, session)
    for outsider in (world.bidders[0].user, world.regulator, person("bidder")):
        with pytest.raises(PermissionDenied):
            services.opening_objections_open(by=actor(outsider), session=session)
    services.opening_objections_open(by=actor(world.host), session=session)
    refused("objections_already_open", services.opening_objections_open, by=actor(world.host), session=session)
    session.refresh_from_db()
    assert session.objections_open


def started_from(world, session):
    for bidder in world.bidders:
        services.opening_check_in(by=actor(bidder.user), session=session)
    return services.opening_start_decryption(by=actor(world.host), session=session)


def test_only_bidders_of_the_opening_raise_and_only_the_host_answers(world):
    session = started(world)
    services.opening_objections_open(by=actor(world.host), session=session)
    for not_a_participant in (world.host, world.tenderer, world.regulator, world.centre, person("bidder")):
        with pytest.raises(PermissionDenied):
            services.opening_objection_raise(by=actor(not_a_participant), session=session, text="异议")
    assert not OpeningObjection.objects.exists()
    objection = services.opening_objection_raise(by=actor(world.bidders[0].user), session=session, text="异议")
    for not_the_host in (world.bidders[0].user, world.bidders[1].user, world.regulator):
        with pytest.raises(PermissionDenied):
            services.opening_objection_answer(by=actor(not_the_host), objection=objection, text="答复")
    objection.refresh_from_db()
    assert objection.answered_at is None and objection.answer == ""


def test_an_objection_is_answered_once(world):
    session = started(world)
    services.opening_objections_open(by=actor(world.host), session=session)
    objection = services.opening_objection_raise(by=actor(world.bidders[0].user), session=session, text="异议")
    services.opening_objection_answer(by=actor(world.host), objection=objection, text="第一次答复")
    refused("already_answered", services.opening_objection_answer, by=actor(world.host), objection=objection, text="第二次答复")
    objection.refresh_from_db()
    assert objection.answer == "第一次答复" and len(events(session, "objection_answered")) == 1


def test_the_period_closes_only_when_every_objection_is_answered(world):
    session = started(world)
    services.opening_objections_open(by=actor(world.host), session=session)
    first = services.opening_objection_raise(by=actor(world.bidders[0].user), session=session, text="异议一")
    services.opening_objection_raise(by=actor(world.bidders[1].user), session=session, text="异议二")
    services.opening_objection_answer(by=actor(world.host), objection=first, text="答复一")
    error = refused("unanswered_objections", services.opening_objections_close, by=actor(world.host), session=session)
    assert "1 条异议未答复" in str(error.message)
    session.refresh_from_db()
    assert session.objections_open and not events(session, "objections_closed")


def test_a_period_that_is_not_open_cannot_be_closed(world):
    session = started(world)
    refused("objections_not_open", services.opening_objections_close, by=actor(world.host), session=session)


def test_empty_and_oversized_texts_are_refused(world):
    session = started(world)
    services.opening_objections_open(by=actor(world.host), session=session)
    bidder = actor(world.bidders[0].user)
    refused("text_required", services.opening_objection_raise, by=bidder, session=session, text="   ")
    refused("text_too_long", services.opening_objection_raise, by=bidder, session=session, text="异" * 2001)
    objection = services.opening_objection_raise(by=bidder, session=session, text="异" * 2000)
    refused("text_required", services.opening_objection_answer, by=actor(world.host), objection=objection, text="")
    assert OpeningObjection.objects.count() == 1


def test_a_bidder_cannot_flood_the_host_with_unanswered_objections(world):
    session = started(world)
    services.opening_objections_open(by=actor(world.host), session=session)
    bidder = actor(world.bidders[0].user)
    for n in range(5):
        services.opening_objection_raise(by=bidder, session=session, text=f"异议{n}")
    refused("too_many_pending", services.opening_objection_raise, by=bidder, session=session, text="再一条")
    services.opening_objection_raise(by=actor(world.bidders[1].user), session=session, text="另一家的异议")


def test_room_commands_for_objections(world):
    session = started(world)
    host, bidder = actor(world.host), actor(world.bidders[0].user)
    assert dispatch(by=host, session=session, action="open_objections", command_id="open-obj-1", args={})["ok"]
    raised = dispatch(by=bidder, session=session, action="raise_objection", command_id="raise-obj-1", args={"text": "异议内容"})
    assert raised["ok"] and OpeningObjection.objects.get().pk == raised["objection"]
    again = dispatch(by=bidder, session=session, action="raise_objection", command_id="raise-obj-1", args={"text": "异议内容"})
    assert again["repeated"] and OpeningObjection.objects.count() == 1
    too_long = dispatch(by=bidder, session=session, action="raise_objection", command_id="raise-obj-2", args={"text": "x" * 2001})
    assert (too_long["ok"], too_long["code"]) == (False, "bad_arguments")
    unknown = dispatch(by=host, session=session, action="answer_objection", command_id="answer-obj-0",
                       args={"objection": 999999, "text": "答复"})
    assert unknown["code"] == "no_such_objection"
    answered = dispatch(by=host, session=session, action="answer_objection", command_id="answer-obj-1",
                        args={"objection": raised["objection"], "text": "答复"})
    assert answered["ok"]
    twice = dispatch(by=host, session=session, action="answer_objection", command_id="answer-obj-2",
                     args={"objection": raised["objection"], "text": "再答复"})
    assert twice["code"] == "already_answered"
    assert dispatch(by=host, session=session, action="close_objections", command_id="close-obj-1", args={})["ok"]


def test_the_opening_cannot_end_while_the_period_is_open(world):
    session = decrypted(world)
    services.opening_objections_open(by=actor(world.host), session=session)
    refused("objections_open", services.opening_finish, by=actor(world.host), session=session)
    refused("objections_open", services.opening_record_draft, by=actor(world.host), session=session)
