"""The evaluation pages in English: no Chinese left outside the data, in the page or in the texts
its script shows (the JSON configuration)."""

import json
import re

import pytest
from django.urls import reverse

from accounts.models import Organisation, User
from evaluation.models import Expert
from tendering.models import Lot, Project, Tender
from tendering.scheme import default_scheme
from tests.test_i18n import CJK, cjk_outside_language_switch, in_english

ASCII_NAMES = {"营业执照及资质证书": "Business licence", "项目经理注册证书": "PM certificate", "施工组织设计": "Construction plan",
               "质量与安全保证措施": "Quality and safety", "企业类似工程业绩": "Track record", "投标报价": "Bid price"}


def _ascii(world):
    """Data in ASCII, so any Chinese left on a page is the platform's own text."""
    scheme = default_scheme()
    for criterion in scheme["criteria"]:
        criterion["name"] = ASCII_NAMES[criterion["name"]]
    Tender.objects.filter(pk=world.tender.pk).update(title="Kejiao Road works", evaluation_scheme=scheme)
    Project.objects.filter(pk=world.tender.project_id).update(name="Kejiao Road")
    Lot.objects.filter(pk=world.lot.pk).update(name="Roads", description="K0+000 to K1+200")
    for organisation in Organisation.objects.all():
        Organisation.objects.filter(pk=organisation.pk).update(name=f"Organisation {organisation.pk}", legal_representative="Zhang San",
                                                               address="Nancheng")
    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(display_name=f"User {user.pk}")
    for expert in Expert.objects.all():
        Expert.objects.filter(pk=expert.pk).update(name=f"Expert {expert.pk}", title="Senior engineer", employer_name="Institute")


def _script_texts(html: str, script_id: str) -> list[str]:
    match = re.search(rf'<script id="{script_id}" type="application/json">(.*?)</script>', html, re.S)
    if match is None:
        return []
    texts = json.dumps(json.loads(match.group(1)), ensure_ascii=False)
    return [text for text in re.findall(r'"([^"]*)"', texts) if CJK.search(text)]


@pytest.fixture
def english_world(eval_world):
    eval_world.seated(experts=5)
    _ascii(eval_world)
    return eval_world


@pytest.mark.parametrize("page", ["room", "report", "keys", "my_seats", "clarifications"])
def test_a_panel_members_pages_in_english(client, english_world, page):
    world = english_world
    user = world.experts[0].user
    url = {"room": reverse("evaluation:room", args=[world.lot.pk]), "report": reverse("evaluation:report", args=[world.lot.pk]),
           "keys": reverse("evaluation:report_keys"), "my_seats": reverse("evaluation:my_seats"),
           "clarifications": reverse("evaluation:lot_clarifications", args=[world.lot.pk])}[page]
    client.force_login(user)
    in_english(client)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert cjk_outside_language_switch(html) == []
    for script_id in ("evaluation-config", "expert-keys-config", "report-sign-config"):
        assert _script_texts(html, script_id) == []


@pytest.mark.parametrize("page", ["pool", "drawings", "drawing", "room"])
def test_centre_pages_in_english(client, english_world, page):
    world = english_world
    url = {"pool": reverse("evaluation:pool"), "drawings": reverse("evaluation:drawings"),
           "drawing": reverse("evaluation:drawing_detail", args=[world.session.drawing.pk]),
           "room": reverse("evaluation:room", args=[world.lot.pk])}[page]
    client.force_login(world.centre)
    in_english(client)
    html = client.get(url).content.decode()
    assert cjk_outside_language_switch(html) == []
    assert _script_texts(html, "evaluation-config") == []


def test_the_bidders_clarification_list_in_english(client, english_world):
    client.force_login(english_world.bidders[0].user)
    in_english(client)
    html = client.get(reverse("evaluation:clarification_list")).content.decode()
    assert cjk_outside_language_switch(html) == []
