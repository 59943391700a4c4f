"""The publicity and award pages in English: no Chinese outside the data."""

from django.urls import reverse

from tests.evaluation.test_pages_english import _ascii
from tests.tendering.award_world import media, world  # noqa: F401  (fixtures)
from tests.test_i18n import cjk_outside_language_switch, in_english


def test_the_award_workspace_the_notice_and_the_review_queue_in_english(client, world):  # noqa: F811
    _ascii(world.ev)  # before the notices are drafted: they keep the names as they were then
    world.award()
    notice = world.lot.notices.order_by("pk").first()
    pages = [(world.host, reverse("tendering:award", args=[world.lot.pk])),
             (world.centre, reverse("tendering:notice_queue")),
             (world.bidders[1].user, reverse("tendering:detail", args=[world.tender.pk]))]
    if notice is not None:
        pages.append((world.bidders[1].user, notice.get_absolute_url() if hasattr(notice, "get_absolute_url") else reverse("tendering:notice", args=[notice.pk])))
    for user, url in pages:
        client.force_login(user)
        in_english(client)
        response = client.get(url)
        assert response.status_code == 200, url
        # A notice's title is part of the issued document (drafted in Chinese), i.e. data.
        leftover = [line for line in cjk_outside_language_switch(response.content.decode()) if notice is None or notice.title not in line]
        assert leftover == [], url
