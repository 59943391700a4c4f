"""The bidder's key page: its own keys with fingerprints in 4-character blocks, revoke with a
reason; the centre and regulators read a bidder's keys; everyone else is refused."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from bidding.models import BidderKey, KeyStatus

from .test_keys_world import people, register, snapshot  # noqa: F401

pytestmark = pytest.mark.django_db


def get(client, user, url):
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    client.logout()
    return response


@pytest.mark.parametrize("role,outcome", [
    (None, "login"), ("bidder", 200), ("other_bidder", 200), ("pending_bidder", 200), ("suspended_bidder", 200),
    ("tenderer", 403), ("agency", 403), ("centre", 403), ("regulator", 403), ("expert", 403),
])
def test_who_opens_the_own_keys_page(client, people, role, outcome):  # noqa: F811
    response = get(client, people[role] if role else None, reverse("bidding:keys"))
    if outcome == "login":
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    else:
        assert response.status_code == outcome


@pytest.mark.parametrize("role,code", [
    ("bidder", 200), ("centre", 200), ("regulator", 200), ("other_bidder", 403), ("tenderer", 403), ("agency", 403), ("expert", 403),
])
def test_who_reads_a_given_bidders_keys(client, people, role, code):  # noqa: F811
    decryption, _ = register(people["bidder"])
    response = get(client, people[role], reverse("bidding:organisation_keys", args=[people["bidder"].organisation_id]))
    assert response.status_code == code
    if code == 200:
        assert decryption.fingerprint_blocks in response.content.decode()
        # Only the bidder itself gets the revoke form.
        assert ('name="reason"' in response.content.decode()) is (role == "bidder")


def test_the_page_shows_fingerprints_in_blocks_status_and_how_to_make_keys(client, people):  # noqa: F811
    bidder = people["bidder"]
    old_decryption, _ = register(bidder)
    decryption, signing = register(bidder)
    page = get(client, bidder, reverse("bidding:keys")).content.decode()
    blocks = signing.fingerprint_blocks
    assert blocks.count(" ") == 15 and all(len(block) == 4 for block in blocks.split(" "))
    assert blocks in page and decryption.fingerprint_blocks in page and old_decryption.fingerprint_blocks in page
    assert "python -m bidding.tool keygen" in page and "浏览器" in page
    assert "已轮换" in page and "有效" in page and "已撤销" in page
    assert page.count('name="reason"') == 1  # a revoke form for the pair in force only
    assert reverse("bidding:keys") in get(client, bidder, reverse("tendering:announcements")).content.decode()  # the nav link


def test_a_bidder_without_keys_is_told_so_and_an_unverified_one_why_it_cannot_register(client, people):  # noqa: F811
    page = get(client, people["pending_bidder"], reverse("bidding:keys")).content.decode()
    assert "尚未登记密钥" in page and "通过核验且未被暂停后" in page
    assert 'name="reason"' not in page


def test_the_nav_link_is_for_bidders_only(client, people):  # noqa: F811
    assert reverse("bidding:keys") not in get(client, people["tenderer"], reverse("tendering:announcements")).content.decode()


def test_revoking_on_the_page(client, people):  # noqa: F811
    bidder = people["bidder"]
    decryption, signing = register(bidder)
    client.force_login(bidder)
    response = client.post(reverse("bidding:key_revoke", args=[decryption.fingerprint]), {"reason": "电脑遗失"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("bidding:keys")
    assert "已撤销" in response.content.decode() and "电脑遗失" in response.content.decode()
    assert set(BidderKey.objects.filter(organisation=bidder.organisation).values_list("status", flat=True)) == {KeyStatus.REVOKED}


def test_revoking_on_the_page_without_a_reason_shows_why_and_changes_nothing(client, people):  # noqa: F811
    bidder = people["bidder"]
    decryption, _ = register(bidder)
    client.force_login(bidder)
    before = snapshot()
    response = client.post(reverse("bidding:key_revoke", args=[decryption.fingerprint]), {"reason": ""}, follow=True)
    assert "请填写撤销原因" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("role,code", [
    ("other_bidder", 404), ("tenderer", 404), ("expert", 404), ("centre", 403), ("regulator", 403), ("suspended_bidder", 404),
])
def test_nobody_else_revokes_on_the_page(client, people, role, code):  # noqa: F811
    decryption, _ = register(people["bidder"])
    client.force_login(people[role])
    before = snapshot()
    response = client.post(reverse("bidding:key_revoke", args=[decryption.fingerprint]), {"reason": "恶意"})
    assert response.status_code == code
    assert snapshot() == before


def test_revoking_needs_a_post_and_a_signed_in_user(client, people):  # noqa: F811
    decryption, _ = register(people["bidder"])
    url = reverse("bidding:key_revoke", args=[decryption.fingerprint])
    assert client.post(url, {"reason": "x"}).status_code == 302  # to the login page
    client.force_login(people["bidder"])
    assert client.get(url).status_code == 405
    assert BidderKey.objects.filter(organisation=people["bidder"].organisation, status=KeyStatus.ACTIVE).count() == 2


def test_the_page_in_english_has_no_untranslated_text(client):
    from tests.factories import actor, person
    from tests.test_i18n import cjk_outside_language_switch, in_english

    from bidding import services

    bidder = person("bidder", name="Huajian Construction Co", legal_representative="Zhang San", address="Nancheng, Dongguan")
    old, _ = register(bidder)
    new, _ = register(bidder)
    services.bidder_key_revoke(by=actor(bidder), key=new, reason="laptop lost")
    client.force_login(bidder)
    # The request activates English in this thread; put the default back for the tests that follow.
    with translation.override(translation.get_language()):
        page = in_english(client).get(reverse("bidding:keys")).content.decode()
    for words in ["Bid keys", "python -m bidding.tool keygen", "Rotated; new key’s fingerprint:", "laptop lost", old.fingerprint_blocks]:
        assert words in page, words
    assert cjk_outside_language_switch(page) == []
