"""The tender's page leads each user to the evaluation pages they may open, and nobody else."""

from django.urls import reverse



def _page(client, user, tender):
    client.force_login(user)
    return client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()


def test_centre_staff_are_offered_the_drawing_while_the_lot_has_none(client, eval_world):
    html = _page(client, eval_world.centre, eval_world.tender)
    assert reverse("evaluation:drawing_new", args=[eval_world.lot.pk]) in html
    assert reverse("evaluation:room", args=[eval_world.lot.pk]) not in html


def test_panel_members_supervisors_and_owners_see_what_they_may_open(client, eval_world):
    session = eval_world.seated(experts=5)
    room = reverse("evaluation:room", args=[eval_world.lot.pk])
    drawing = reverse("evaluation:drawing_detail", args=[session.drawing.pk])

    member_html = _page(client, eval_world.experts[0].user, eval_world.tender)
    assert room in member_html and drawing in member_html

    centre_html = _page(client, eval_world.centre, eval_world.tender)
    assert room in centre_html and reverse("evaluation:drawing_new", args=[eval_world.lot.pk]) not in centre_html

    owner_html = _page(client, eval_world.host, eval_world.tender)
    assert drawing in owner_html and room not in owner_html


def test_a_bidder_and_an_expert_of_no_panel_see_no_evaluation_link(client, eval_world):
    session = eval_world.seated(experts=5)
    lot = eval_world.lot.pk
    hidden = [reverse("evaluation:room", args=[lot]), reverse("evaluation:drawing_detail", args=[session.drawing.pk]),
              reverse("evaluation:report", args=[lot]), reverse("evaluation:drawing_new", args=[lot])]
    for user in (eval_world.bidders[0].user, eval_world.spare_expert().user):
        html = _page(client, user, eval_world.tender)
        assert not [url for url in hidden if url in html]
