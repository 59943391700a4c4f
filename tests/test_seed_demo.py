"""`manage.py seed_demo`: the demo world, built through the services, idempotent, sandbox only."""

import io
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import credit_code
from accounts.models import Organisation, User
from audit.actor import Actor
from audit.models import AuditEvent
from audit.selectors import verify_chain
from bidding import bidpack, keyfile, sealing
from bidding.models import Bid, BidderKey, BidStatus, KeyStatus
from bidding.sealing import header as sealed_header
from config.errors import DomainError
from opening import services as opening_services
from opening.models import BidOpening, DecryptionStatus, OpeningSession, SessionState
from tendering import chronograph, periods
from tendering.management.commands import seed_demo
from tendering.management.commands.seed_demo import DEMO_PASSWORD, DEMO_PROJECT_CODE, OPENING_BIDS, OPENING_PROJECT_CODE
from tendering.models import Tender
from tests.tendering.conftest import START, Clock


@pytest.fixture(autouse=True)
def _fast_passwords_and_own_data_folder(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The demo key files (and the platform's receipt key) go to the data folder: never the repository's.
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(START)
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def _seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _key_files() -> dict[str, bytes]:
    folder = Path(seed_demo.demo_key_dir())
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())} if folder.exists() else {}


def _bid_files() -> list[str]:
    root = Path(storages["bids"].location)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()) if root.exists() else []


def _world():
    return (
        sorted(Organisation.objects.values_list("name", "status")),
        sorted(User.objects.values_list("username", "role")),
        list(Tender.objects.order_by("pk").values_list("code", "state", "bid_deadline")),
        list(Bid.objects.order_by("pk").values_list("bidder__name", "status", "sha256")),
        sorted(BidderKey.objects.values_list("fingerprint", "status")),
        AuditEvent.objects.count(),
        _key_files(),
        _bid_files(),
    )


def _opening_tender() -> Tender:
    return Tender.objects.get(project__code=OPENING_PROJECT_CODE)


def _bidder(username: str) -> User:
    return User.objects.select_related("organisation").get(username=username)


@pytest.mark.django_db
def test_refuses_outside_sandbox_mode_and_creates_nothing(settings):
    settings.PLATFORM_SANDBOX = False
    with pytest.raises(CommandError, match="PLATFORM_SANDBOX=1"):
        _seed()
    assert not Organisation.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_builds_the_demo_world_through_the_audited_services(sandbox):
    output = _seed()

    organisations = {org.kind: org for org in Organisation.objects.all()}
    assert organisations["centre"].name == "东莞市公共资源交易中心"
    assert Organisation.objects.filter(kind="bidder").count() == 4
    assert {org.status for org in Organisation.objects.all()} == {"approved"}
    assert all(credit_code.is_valid(org.credit_code) for org in Organisation.objects.all())
    assert User.objects.filter(role="expert", organisation=None).count() == 7
    for role in ("centre", "regulator", "tenderer", "agency"):
        assert User.objects.filter(role=role).count() == 1

    tender = Tender.objects.get(project__code=DEMO_PROJECT_CODE)
    assert tender.state == "published" and tender.accelerator > 1
    assert set(tender.lots.values_list("state", flat=True)) == {"published"}
    # The statutory 20 days, accelerated, are minutes: a demo can reach the deadline today.
    assert timezone.now() < tender.bid_deadline < timezone.now() + timedelta(hours=2)
    assert tender.documents.exists()
    # The bidding walk-through's tender is left alone: nobody has bid on it yet.
    assert not tender.registrations.exists() and not Bid.objects.filter(lot__tender=tender).exists()

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"organisation.register", "organisation.approve", "user.create", "tender.create", "tender.approve", "tender.publish"} <= actions
    assert verify_chain().ok

    assert "/api/v1/docs/" in output and "/admin/" in output and "/tenders/" in output
    for username in ("centre", "tenderer", "agency", "bidder1", "bidder4", "regulator", "expert7"):
        assert username in output
    assert DEMO_PASSWORD in output
    assert User.objects.get(username="bidder1").check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_running_twice_changes_nothing_and_prints_the_same_logins(sandbox):
    first = _seed()
    world = _world()

    second = _seed()

    assert _world() == world
    assert second == first
    assert _seed("--show") == first


@pytest.mark.django_db
def test_show_never_writes(sandbox):
    output = _seed("--show")
    assert "seed_demo" in output  # tells the reader how to create the demo world
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_demo_tender_is_public_through_the_api(sandbox, client):
    _seed()
    listed = client.get("/api/v1/tenders/").json()["results"]
    assert sorted(tender["code"] for tender in listed) == sorted(Tender.objects.values_list("code", flat=True))
    assert len(listed) == 2


# The opening demo (开标演示) ------------------------------------------------------------------------


def _open_own_bid(bid: Bid, keys: keyfile.PrivateKeys) -> bidpack.BidSummary:
    """What a bidder does in the room, in Python: unwrap the data key with its own key file, then
    open the sealed file (signature, binding, every segment) and read the package."""
    with storages["bids"].open(bid.storage_name, "rb") as sealed_file:
        header, _ = sealing.read_header(sealed_file)
        data_key = sealing.unwrap_data_key(header, keys.decryption)
    binding = sealed_header.Binding(tender=str(bid.lot.tender_id), lot=str(bid.lot_id), bidder=str(bid.bidder_id))
    plaintext = io.BytesIO()
    with storages["bids"].open(bid.storage_name, "rb") as sealed_file:
        sealing.open_sealed(sealed_file, plaintext, data_key=data_key, signing_public_key=keys.signing.public_key(),
                            expected_binding=binding)
    plaintext.seek(0)
    return bidpack.verify_pack(plaintext)


@pytest.mark.django_db
def test_opening_demo_has_a_sealed_bid_from_each_demo_bidder_that_its_key_file_opens(sandbox, settings):
    before = timezone.now()
    output = _seed()

    tender = _opening_tender()
    lot = tender.lots.get()
    assert tender.state == "published" and tender.accelerator == seed_demo.OPENING_ACCELERATOR
    assert tender.agency.name == "广东粤信招标代理有限公司"  # the agency hosts the room
    # A couple of minutes: the accelerated 20 days (86.4 s) and a minute of slack.
    earliest = before + periods.duration(20, tender.accelerator)
    assert earliest < tender.bid_deadline < timezone.now() + timedelta(minutes=3)

    related = ("bidder", "lot", "decryption_key", "signing_key")
    bids = {bid.bidder.name: bid for bid in Bid.objects.filter(lot=lot).select_related(*related)}
    assert len(bids) == 4 and {bid.status for bid in bids.values()} == {BidStatus.RECEIVED}
    opened = {}
    for spec in OPENING_BIDS:
        user = _bidder(spec.username)
        assert tender.registrations.filter(organisation=user.organisation).exists()  # obtained the documents
        path = Path(settings.DATA_DIR) / "demo" / f"{spec.username}-keys.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        keys = keyfile.unlock(path.read_bytes(), DEMO_PASSWORD)
        bid = bids[user.organisation.name]
        assert (keys.public.fingerprints.decryption, keys.public.fingerprints.signing) == (
            bid.decryption_key.fingerprint, bid.signing_key.fingerprint)
        assert bid.decryption_key.status == KeyStatus.ACTIVE
        summary = _open_own_bid(bid, keys)
        expected = (str(tender.pk), str(lot.pk), user.organisation.credit_code)
        assert (summary.tender, summary.lot, summary.bidder) == expected
        assert summary.price_fen == summary.price_capital_fen == spec.price_fen
        opened[spec.username] = keys
    assert len({spec.price_fen for spec in OPENING_BIDS}) == 4
    assert all(spec.price_fen <= lot.maximum_price_fen for spec in OPENING_BIDS)
    # A key file opens its own bid only.
    with pytest.raises(sealing.SealedBidError):
        _open_own_bid(bids[_bidder("bidder2").organisation.name], opened["bidder1"])
    assert not list(Path(settings.DATA_DIR, "demo").glob("*.new"))

    deadline = timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M:%S")
    assert f"/tenders/{tender.pk}/" in output and f"/opening/lots/{lot.pk}/" in output and deadline in output
    assert str(Path(settings.DATA_DIR) / "demo") in output
    assert verify_chain().ok


@pytest.mark.django_db
def test_running_twice_keeps_the_opening_demo_its_bids_and_key_files(sandbox):
    _seed()
    world, keys = _world(), _key_files()
    assert len(keys) == 4 + 7  # bidder1..4 and expert1..7

    _seed()

    assert _world() == world and _key_files() == keys


@pytest.mark.django_db
def test_a_key_file_left_in_the_data_folder_is_reused_by_a_fresh_database(sandbox, settings):
    folder = Path(settings.DATA_DIR) / "demo"
    folder.mkdir(parents=True)
    left = keyfile.generate(DEMO_PASSWORD, label="an earlier seed", iterations=keyfile.MIN_ITERATIONS)
    (folder / "bidder3-keys.json").write_bytes(left)

    _seed()

    assert (folder / "bidder3-keys.json").read_bytes() == left
    bid = Bid.objects.get(lot__tender=_opening_tender(), bidder=_bidder("bidder3").organisation)
    assert bid.decryption_key.fingerprint == keyfile.load_public(left).fingerprints.decryption


@pytest.mark.django_db
def test_demo_keys_rotate_when_the_key_file_is_gone_or_no_longer_in_force(sandbox, settings):
    _seed()
    folder = Path(settings.DATA_DIR) / "demo"
    kept = (folder / "bidder2-keys.json").read_bytes()
    (folder / "bidder1-keys.json").unlink()
    assert "Key files missing for bidder1" in _seed("--show")
    old = {key.purpose: key for key in BidderKey.objects.filter(organisation=_bidder("bidder1").organisation)}
    # bidder4 registered other keys in the browser since: its file is no longer the key in force.
    other = "another passphrase"
    browser_keys = keyfile.unlock(keyfile.generate(other, iterations=keyfile.MIN_ITERATIONS), other)
    seed_demo._register("bidder4", browser_keys)

    files = seed_demo.StagedFiles()
    reused = seed_demo._demo_keys("bidder2", files)
    rotated = seed_demo._demo_keys("bidder1", files)
    replaced = seed_demo._demo_keys("bidder4", files)
    assert not (folder / "bidder1-keys.json").exists()  # written only once the transaction is kept
    files.keep()

    assert reused.public.fingerprints == keyfile.load_public(kept).fingerprints
    assert (folder / "bidder2-keys.json").read_bytes() == kept
    for username, keys in (("bidder1", rotated), ("bidder4", replaced)):
        written = keyfile.unlock((folder / f"{username}-keys.json").read_bytes(), DEMO_PASSWORD)
        assert written.public.fingerprints == keys.public.fingerprints
        active = BidderKey.objects.filter(organisation=_bidder(username).organisation, status=KeyStatus.ACTIVE)
        in_force = set(active.values_list("fingerprint", flat=True))
        assert in_force == {keys.public.fingerprints.decryption, keys.public.fingerprints.signing}
    for key in old.values():
        key.refresh_from_db()
        assert key.status == KeyStatus.REVOKED and key.replaced_by is not None
    # Bids sealed to the old keys stay in force (they open with the old key file).
    assert Bid.objects.filter(lot__tender=_opening_tender(), status=BidStatus.RECEIVED).count() == 4


@pytest.mark.django_db
def test_a_refused_step_leaves_no_rows_and_no_files(sandbox, settings, monkeypatch):
    real_finalise = seed_demo.bidding_services.bid_upload_finalise

    def finalise(*, by, upload):
        if by.user.username == "bidder3":
            raise DomainError("refused for the test", code="test")
        return real_finalise(by=by, upload=upload)

    monkeypatch.setattr(seed_demo.bidding_services, "bid_upload_finalise", finalise)
    with pytest.raises(CommandError, match="refused for the test"):
        _seed()

    assert not Organisation.objects.exists() and not Tender.objects.exists() and not AuditEvent.objects.exists()
    assert _key_files() == {} and _bid_files() == []


@pytest.mark.django_db
def test_the_chronograph_opens_the_demo_room_at_the_deadline(sandbox, clock):
    _seed()
    tender = _opening_tender()
    lot = tender.lots.get()
    chronograph.tick()
    assert not OpeningSession.objects.exists()  # not before the deadline

    clock.set(tender.bid_deadline)
    chronograph.tick()

    session = OpeningSession.objects.get(lot=lot)
    assert session.state == SessionState.CHECKIN
    assert BidOpening.objects.filter(session=session).count() == 4
    # The bidding walk-through's tender is still open for bids.
    demo = Tender.objects.get(project__code=DEMO_PROJECT_CODE)
    assert demo.bid_deadline > clock.moment and set(demo.lots.values_list("state", flat=True)) == {"published"}


@pytest.mark.django_db
def test_the_demo_bidders_decrypt_their_bids_in_the_room_with_their_key_files(
    sandbox, clock, settings, django_capture_on_commit_callbacks
):
    """The README's walk-through, through the services: three bidders check in, the agency starts
    the decryption, each releases the data key its key file unwraps, and the prices are read."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    _seed()
    tender = _opening_tender()
    clock.set(tender.bid_deadline)
    chronograph.tick()
    session = OpeningSession.objects.get(lot__tender=tender)
    bidders = OPENING_BIDS[:3]
    for spec in bidders:
        opening_services.opening_check_in(by=Actor.from_user(_bidder(spec.username)), session=session)
    session = opening_services.opening_start_decryption(by=Actor.from_user(_bidder("agency")), session=session)
    for spec in bidders:
        user = _bidder(spec.username)
        key_file = Path(settings.DATA_DIR) / "demo" / f"{spec.username}-keys.json"
        keys = keyfile.unlock(key_file.read_bytes(), DEMO_PASSWORD)
        bid_opening = BidOpening.objects.get(session=session, bid__bidder=user.organisation)
        with storages["bids"].open(bid_opening.bid.storage_name, "rb") as sealed_file:
            header, _ = sealing.read_header(sealed_file)
        with django_capture_on_commit_callbacks(execute=True):
            opening_services.opening_release_key(by=Actor.from_user(user), bid_opening=bid_opening,
                                                 data_key=sealing.unwrap_data_key(header, keys.decryption))
        bid_opening.refresh_from_db()
        assert bid_opening.status == DecryptionStatus.OPENED
        reading = (bid_opening.price_fen, bid_opening.price_mismatch, bid_opening.duration_days)
        assert reading == (spec.price_fen, False, spec.duration_days)


@pytest.mark.django_db
def test_demo_expert_pool_has_the_seven_demo_experts_with_registered_keys_and_one_conflicted_expert(sandbox, settings):
    from bidding import keyfile
    from evaluation.models import Expert, ExpertKey

    _seed()
    experts = Expert.objects.select_related("user").order_by("certificate_number")
    assert experts.count() == 8
    with_accounts = [expert for expert in experts if expert.user is not None]
    assert [expert.user.username for expert in with_accounts] == [f"expert{n}" for n in range(1, 8)]
    for expert in with_accounts:
        keys = keyfile.unlock(Path(settings.DATA_DIR, "demo", f"{expert.user.username}-keys.json").read_bytes(), seed_demo.DEMO_PASSWORD)
        active = ExpertKey.objects.get(user=expert.user, revoked_at__isnull=True)
        assert active.fingerprint == keys.public.fingerprints.signing
    # The pool-only expert works for bidder3, so drawings for the opening demo must exclude them.
    conflicted = experts.get(user__isnull=True)
    bidder3 = Organisation.objects.get(users__username="bidder3")
    assert conflicted.employer_credit_code == bidder3.credit_code

    keys_before = set(ExpertKey.objects.values_list("fingerprint", flat=True))
    _seed()
    assert Expert.objects.count() == 8 and set(ExpertKey.objects.values_list("fingerprint", flat=True)) == keys_before
