"""Pool, drawing and 我的评标 pages: who may open them (403 otherwise), the one-time password shown
once, the CSV import reporting bad rows by line, the drawing from the form to the panel, and names
hidden from everyone but centre staff until the result (R46)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evaluation.models import Drawing, DrawingState, Expert, MemberStatus
from evaluation.services import drawing as drawing_services
from tests import factories
from tests.evaluation.world import make_expert
from tests.factories import actor, person

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "expert-pool-sample.csv"


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def centre(db):
    return factories.centre_reviewer()


def test_pool_pages_for_centre_staff_read_only_for_regulators(centre):
    expert = make_expert(name="陈专家")
    page = client_for(centre).get(reverse("evaluation:pool"))
    assert page.status_code == 200 and "陈专家" in page.content.decode()
    assert reverse("evaluation:expert_new") in page.content.decode()
    regulator = client_for(person("regulator"))
    page = regulator.get(reverse("evaluation:pool"))
    assert page.status_code == 200 and "陈专家" in page.content.decode()
    assert reverse("evaluation:expert_new") not in page.content.decode()
    assert regulator.get(reverse("evaluation:expert_detail", args=[expert.pk])).status_code == 200
    assert regulator.get(reverse("evaluation:expert_new")).status_code == 403
    assert regulator.post(reverse("evaluation:expert_active", args=[expert.pk]), {"active": "0"}).status_code == 403
    expert.refresh_from_db()
    assert expert.active


@pytest.mark.parametrize("kind", ["bidder", "expert", "tenderer", "agency"])
def test_pool_pages_refused_to_other_roles(centre, kind):
    expert = make_expert()
    user = make_expert().user if kind == "expert" else person(kind)
    count = Expert.objects.count()
    client = client_for(user)
    for url in (reverse("evaluation:pool"), reverse("evaluation:expert_new"), reverse("evaluation:pool_import"),
                reverse("evaluation:expert_detail", args=[expert.pk]), reverse("evaluation:drawings")):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("evaluation:pool_import"), {"file": SimpleUploadedFile("x.csv", SAMPLE.read_bytes())})
    assert response.status_code == 403
    assert client.post(reverse("evaluation:expert_active", args=[expert.pk]), {"active": "0"}).status_code == 403
    assert Expert.objects.count() == count and Expert.objects.get(pk=expert.pk).active


def test_filters(centre):
    make_expert(name="施工专家", specialties=("A08",))
    make_expert(name="勘察专家", specialties=("A03",))
    retired = make_expert(name="出库专家", specialties=("A03",))
    retired.active = False
    retired.save()
    client = client_for(centre)
    body = client.get(reverse("evaluation:pool"), {"specialty": "A03", "active": "1"}).content.decode()
    assert "勘察专家" in body and "施工专家" not in body and "出库专家" not in body
    body = client.get(reverse("evaluation:pool"), {"specialty": "A03", "active": "0"}).content.decode()
    assert "出库专家" in body and "勘察专家" not in body


def test_create_with_account_shows_the_password_once(centre):
    client = client_for(centre)
    response = client.post(reverse("evaluation:expert_new"), {
        "name": "新专家", "certificate_number": "GD-NEW-1", "specialties": ["A08", "A12"], "years_of_practice": "8",
        "account": "new", "username": "new-expert", "conflicts": "", "employer_credit_code": "",
    })
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    password = body.split('id="one-time-password">')[1].split("<")[0]
    assert authenticate(username="new-expert", password=password) is not None
    expert = Expert.objects.get(certificate_number="GD-NEW-1")
    assert expert.user.username == "new-expert"
    assert password not in client.get(reverse("evaluation:expert_detail", args=[expert.pk])).content.decode()


def test_deactivate_and_edit(centre):
    expert = make_expert(name="王专家")
    client = client_for(centre)
    client.post(reverse("evaluation:expert_active", args=[expert.pk]), {"active": "0"})
    expert.refresh_from_db()
    assert not expert.active
    response = client.post(reverse("evaluation:expert_detail", args=[expert.pk]), {
        "name": "王专家", "certificate_number": expert.certificate_number, "specialties": ["A05"], "years_of_practice": "3",
        "employer_credit_code": "bad",
    })
    assert response.status_code == 200 and "信用代码" in response.content.decode()
    expert.refresh_from_db()
    assert expert.specialties == ["A08"]


def test_import_page_good_and_bad_files(centre):
    client = client_for(centre)
    bad = "\ufeff姓名,证书编号,专业\n甲,C-1,A08\n乙,C-1,A08\n丙,C-3,Z1\n".encode()
    response = client.post(reverse("evaluation:pool_import"), {"file": SimpleUploadedFile("bad.csv", bad)})
    body = response.content.decode()
    assert response.status_code == 200 and "未导入任何专家" in body
    assert "<td>3</td>" in body and "<td>4</td>" in body
    assert not Expert.objects.exists()
    response = client.post(reverse("evaluation:pool_import"), {"file": SimpleUploadedFile("good.csv", SAMPLE.read_bytes())})
    assert response.status_code == 302
    assert Expert.objects.count() == 6


# Drawing pages --------------------------------------------------------------------------------

def request_by_form(world, client, **overrides):
    starts = timezone.now() + timedelta(hours=2)
    data = {"session_starts_at": local(starts), "session_ends_at": local(starts + timedelta(hours=6)),
            "specialty_1": "A08", "count_1": "5", **overrides}
    return client.post(reverse("evaluation:drawing_new", args=[world.lot.pk]), data)


def test_drawing_from_the_form_to_the_panel_and_names_hidden(eval_world):
    world = eval_world
    experts = [make_expert(name=f"甲乙{n}号") for n in range(6)]
    centre = client_for(world.centre)
    listing = centre.get(reverse("evaluation:drawings")).content.decode()
    assert reverse("evaluation:drawing_new", args=[world.lot.pk]) in listing
    refused = request_by_form(world, centre, count_1="4")
    assert refused.status_code == 200 and "不得少于5人" in refused.content.decode()
    assert not Drawing.objects.exists()
    response = request_by_form(world, centre)
    drawing = Drawing.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("evaluation:drawing_detail", args=[drawing.pk])
    page = centre.get(response["Location"]).content.decode()
    assert drawing.seed_commitment in page and drawing.seed_hex not in page
    centre.post(reverse("evaluation:drawing_run", args=[drawing.pk]))
    drawing.refresh_from_db()
    assert drawing.state == DrawingState.DRAWN
    seated = {m.expert.name for m in drawing.members.select_related("expert")}
    page = centre.get(reverse("evaluation:drawing_detail", args=[drawing.pk])).content.decode()
    assert all(name in page for name in seated)
    assert "drawing_verify" in page
    names = {e.name for e in experts}
    for viewer in (world.tenderer, world.host, world.regulator):
        page = client_for(viewer).get(reverse("evaluation:drawing_detail", args=[drawing.pk]))
        body = page.content.decode()
        assert page.status_code == 200
        assert "<td>专家1</td>" in body and "<td>专家5</td>" in body
        assert not any(name in body for name in names), viewer
    member = drawing.members.get(seat=3)
    body = client_for(member.user).get(reverse("evaluation:drawing_detail", args=[drawing.pk])).content.decode()
    assert member.expert.name in body and "专家3" in body
    assert not any(name in body for name in names - {member.expert.name})
    assert "<td>专家1</td>" not in body  # only their own seat
    assert client_for(world.bidders[0].user).get(reverse("evaluation:drawing_detail", args=[drawing.pk])).status_code == 403
    outsider = make_expert()
    assert client_for(outsider.user).get(reverse("evaluation:drawing_detail", args=[drawing.pk])).status_code == 403
    # After the result: the seed and the names for everyone allowed to see the drawing.
    centre.post(reverse("evaluation:drawing_publish", args=[drawing.pk]))
    drawing.refresh_from_db()
    body = client_for(world.tenderer).get(reverse("evaluation:drawing_detail", args=[drawing.pk])).content.decode()
    assert drawing.seed_hex in body and all(name in body for name in seated)


@pytest.mark.parametrize("kind", ["bidder", "tenderer", "agency", "regulator", "expert"])
def test_drawing_request_and_run_refused_to_others(eval_world, kind):
    world = eval_world
    world.pool(6)
    user = make_expert().user if kind == "expert" else person(kind)
    client = client_for(user)
    assert client.get(reverse("evaluation:drawing_new", args=[world.lot.pk])).status_code == 403
    assert request_by_form(world, client).status_code == 403
    starts = timezone.now() + timedelta(hours=2)
    drawing = drawing_services.drawing_request(by=actor(world.centre), lot=world.lot, session_starts_at=starts,
                                               session_ends_at=starts + timedelta(hours=3), slots=[{"specialty": "A08", "count": 5}])
    assert client.post(reverse("evaluation:drawing_run", args=[drawing.pk])).status_code == 403
    drawing.refresh_from_db()
    assert drawing.state == DrawingState.COMMITTED


def test_my_seats_confirm_decline_and_room_link(eval_world):
    world = eval_world
    world.pool(7)
    starts = timezone.now() + timedelta(hours=2)
    drawing = drawing_services.drawing_request(by=actor(world.centre), lot=world.lot, session_starts_at=starts,
                                               session_ends_at=starts + timedelta(hours=3), slots=[{"specialty": "A08", "count": 5}])
    drawing = drawing_services.drawing_run(by=actor(world.centre), drawing=drawing)
    first, second = drawing.members.get(seat=1), drawing.members.get(seat=2)
    client = client_for(first.user)
    body = client.get(reverse("evaluation:my_seats")).content.decode()
    assert f"/evaluation/lots/{world.lot.pk}/room/" in body and "专家1" in body
    client.post(reverse("evaluation:seat_confirm", args=[first.pk]))
    first.refresh_from_db()
    assert first.status == MemberStatus.CONFIRMED
    # Someone else's seat: refused.
    assert client.post(reverse("evaluation:seat_decline", args=[second.pk]), {"reason": "x"}).status_code == 403
    other = client_for(second.user)
    other.post(reverse("evaluation:seat_decline", args=[second.pk]), {"reason": "出差"})
    second.refresh_from_db()
    assert second.status == MemberStatus.DECLINED and second.replaced_by.seat == 2
    body = other.get(reverse("evaluation:my_seats")).content.decode()
    assert "拒绝参加" in body and f"/evaluation/lots/{world.lot.pk}/room/" not in body
    substitute = client_for(second.replaced_by.user).get(reverse("evaluation:my_seats")).content.decode()
    assert "专家2" in substitute


def test_centre_pages_render(eval_world):
    world = eval_world
    client = client_for(world.centre)
    expert = make_expert(with_user=False)
    for url in (reverse("evaluation:expert_new"), reverse("evaluation:pool_import"), reverse("evaluation:drawings"),
                reverse("evaluation:drawing_new", args=[world.lot.pk]), reverse("evaluation:expert_detail", args=[expert.pk]),
                reverse("evaluation:my_seats")):
        response = client.get(url)
        assert response.status_code == 200, url
    body = client.get(reverse("evaluation:expert_detail", args=[expert.pk])).content.decode()
    assert reverse("evaluation:expert_account", args=[expert.pk]) in body  # no account yet: offer one
    response = client.post(reverse("evaluation:expert_account", args=[expert.pk]), {"account": "new", "username": "later-expert"})
    assert response.status_code == 200 and "one-time-password" in response.content.decode()
    expert.refresh_from_db()
    assert expert.user.username == "later-expert"


def test_lot_not_drawable_is_refused_with_the_reason(eval_world):
    world = eval_world
    world.pool(6)
    world.lot.state = "publicizing"
    world.lot.save()
    response = request_by_form(world, client_for(world.centre))
    assert response.status_code == 200 and "不能抽取评标专家" in response.content.decode()
    assert not Drawing.objects.exists()


def test_the_centre_registers_the_representative_the_tenderer_names_for_a_vacant_seat(eval_world):
    world = eval_world
    world.pool(6)
    rep, other = factories.make_user(world.tender.tenderer), factories.make_user(world.tender.tenderer)
    starts = timezone.now() + timedelta(hours=2)
    drawing = drawing_services.drawing_request(by=actor(world.centre), lot=world.lot, session_starts_at=starts,
                                               session_ends_at=starts + timedelta(hours=3), slots=[{"specialty": "A08", "count": 4}],
                                               tenderer_representatives=1, representatives=[rep])
    drawing = drawing_services.drawing_run(by=actor(world.centre), drawing=drawing)
    seat5 = drawing.members.get(seat=5)
    drawing_services.replace_member(by=actor(rep), member=seat5, status="declined", reason="出差")
    client = client_for(world.centre)
    page = client.get(reverse("evaluation:drawing_detail", args=[drawing.pk])).content.decode()
    assert reverse("evaluation:representative_name", args=[seat5.pk]) in page and other.label in page
    url = reverse("evaluation:representative_name", args=[seat5.pk])
    assert client_for(rep).post(url, {"user": other.pk}).status_code == 403
    response = client.post(url, {"user": "x"}, follow=True)
    assert "请选择招标人单位的一名用户" in response.content.decode()
    client.post(url, {"user": other.pk})
    assert drawing.members.get(seat=5, status=MemberStatus.DRAWN).user == other
