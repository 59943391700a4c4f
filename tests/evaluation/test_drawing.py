"""The verifiable panel drawing (evaluation/drawing.py, docs/expert-drawing.md).

The vectors in evaluation/vectors/drawing-v1.json are checked three ways: the module reproduces them,
an independent re-implementation of the documented algorithm written here (hmac + json only)
reproduces them, and regenerating them gives the same file. Regenerate, after a deliberate change
of algorithm (which then needs a new version label), with:

    .venv/bin/python -m tests.evaluation.test_drawing
"""

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation import drawing as d

VECTORS = Path(__file__).resolve().parents[2] / "evaluation" / "vectors" / "drawing-v1.json"
SEED = hashlib.sha256(b"etender drawing test seed").digest()
BIDDERS = ("91441900BIDDER0001", "91441900BIDDER0002", "91442000BIDDER0003")
TENDERER = "12441900TENDERER01"


def request(slots=(("A08", 3), ("A06", 2)), reps=0):
    return d.DrawingRequest(
        tender="T-2026-001", lot="L1", session_start="2026-12-01T01:30:00Z", slots=slots, tenderer_representatives=reps
    )


def ids(prefix, n, start=0):
    return [f"{prefix}{i:03d}" for i in range(start, start + n)]


POOL = {"A08": ids("E", 12), "A06": ids("E", 10, start=10)}  # E010, E011 are in both


def codes(excinfo):
    return [r.code for r in excinfo.value.reasons]


# ------------------------------------------------------------------------------------------------
# An independent re-implementation, from docs/expert-drawing.md only.


def ref_stream(seed: bytes, context: bytes, number: int):
    label = b"etender-drawing-v1" if number == 0 else b"etender-drawing-v1/replacement/" + str(number).encode()
    counter = 0
    while True:
        block = hmac.new(seed, label + context + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
        for k in range(0, 32, 8):
            yield int.from_bytes(block[k : k + 8], "big")


def ref_below(stream, n):
    limit = (1 << 64) - (1 << 64) % n
    for value in stream:
        if value < limit:
            return value % n


def ref_context(request_json, pool):
    eligible = {s["specialty"]: sorted(set(pool.get(s["specialty"], []))) for s in request_json["slots"]}
    text = json.dumps(
        {"request": request_json, "eligible": eligible}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).digest(), eligible


def ref_rounds(seed_hex, request_json, pool, declines):
    """All rounds of a drawing: round 0, then one replacement round per entry of `declines`."""
    seed = bytes.fromhex(seed_hex)
    context, eligible = ref_context(request_json, pool)
    stream = ref_stream(seed, context, 0)
    seats, drawn = [], set()
    for slot in request_json["slots"]:
        items = [e for e in eligible[slot["specialty"]] if e not in drawn]
        for i in range(slot["count"]):
            j = i + ref_below(stream, len(items) - i)
            items[i], items[j] = items[j], items[i]
            drawn.add(items[i])
            seats.append([slot["specialty"], items[i]])
    rounds = [{"declined": [], "picks": [{"specialty": s, "expert": e} for s, e in seats]}]
    for number, declined in enumerate(declines, start=1):
        stream = ref_stream(seed, context, number)
        picks = []
        for seat in seats:
            if seat[1] in declined:
                items = [e for e in eligible[seat[0]] if e not in drawn]
                chosen = items[ref_below(stream, len(items))]
                drawn.add(chosen)
                seat[1] = chosen
                picks.append({"specialty": seat[0], "expert": chosen})
        rounds.append({"declined": sorted(declined), "picks": picks})
    return rounds


# ------------------------------------------------------------------------------------------------
# Vectors


def _case(name, seed, req, pool, declines):
    """Run the module: round 0, then for each entry of `declines` (a function of the panel so far)
    a replacement round."""
    rounds = [d.draw(seed, req, pool)]
    for choose in declines:
        rounds.append(d.replace(seed, req, pool, rounds, choose(d.panel(rounds))))
    context = d.context_hash(req, pool)
    return {
        "name": name,
        "seed": seed.hex(),
        "commitment": d.seed_commitment(seed),
        "request": req.to_json(),
        "eligible": {s: list(v) for s, v in d.normalize_pool(req, pool).items()},
        "context_hash": context,
        "first_block": d.drbg_block(seed, bytes.fromhex(context), 0, 0).hex(),
        "rounds": [r.to_json() for r in rounds],
        "panel": [{"specialty": p.specialty, "expert": p.expert} for p in d.panel(rounds)],
    }


def _refusal(name, req, pool):
    with pytest.raises(d.DrawingRefused) as excinfo:
        d.draw(SEED, req, pool)
    return {
        "name": name,
        "request": req.to_json(),
        "eligible": {s: list(v) for s, v in pool.items()},
        "refused": codes(excinfo),
    }


def build_vectors() -> dict:
    cn_pool = {
        "A04": ["专家-01", "专家-02", "专家-03", "专家-10", "Z-9", "a-1", "E-5"],
        "A06": ["专家-02", "专家-20", "专家-21", "E-6"],
        "A08": ["专家-30"],
    }
    cases = [
        _case(
            "two specialties sharing two experts, two replacement rounds",
            hashlib.sha256(b"vector 1").digest(),
            request(),
            POOL,
            [lambda seats: [seats[1].expert], lambda seats: [seats[1].expert, seats[4].expert]],
        ),
        _case(
            "non-ASCII ids sorted by code point, a pool exactly the count, two representatives",
            hashlib.sha256(b"vector 2").digest(),
            request(slots=(("A04", 4), ("A06", 2), ("A08", 1)), reps=2),
            cn_pool,
            [lambda seats: [seats[0].expert]],
        ),
        _case(
            "one specialty, eleven experts, no replacement",
            bytes(32),
            request(slots=(("A12", 11),)),
            {"A12": ids("X", 40), "A99": ids("Y", 3)},
            [],
        ),
    ]
    refusals = [
        _refusal("even panel", request(slots=(("A08", 4), ("A06", 2))), POOL),
        _refusal("pool too small", request(slots=(("A08", 5),)), {"A08": ids("E", 4)}),
        _refusal(
            "overlap could starve a later specialty",
            request(slots=(("A08", 4), ("A06", 1))),
            {"A08": ids("E", 5), "A06": ["E004"]},
        ),
    ]
    return {"version": d.VERSION, "cases": cases, "refusals": refusals}


def render(vectors) -> str:
    return json.dumps(vectors, ensure_ascii=False, indent=1) + "\n"


@pytest.fixture(scope="module")
def vectors():
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def test_vectors_file_is_what_the_implementation_generates(vectors):
    assert VECTORS.read_text(encoding="utf-8") == render(build_vectors())


def test_vectors_first_block_recomputed_with_hmac_directly(vectors):
    for case in vectors["cases"]:
        seed = bytes.fromhex(case["seed"])
        assert hashlib.sha256(seed).hexdigest() == case["commitment"]
        context, _ = ref_context(case["request"], case["eligible"])
        assert context.hex() == case["context_hash"]
        block = hmac.new(seed, b"etender-drawing-v1" + context + bytes(8), hashlib.sha256).hexdigest()
        assert block == case["first_block"]
    # pinned literally: a change of algorithm or of the vectors shows here
    assert vectors["cases"][0]["first_block"] == PINNED_FIRST_BLOCK
    assert vectors["cases"][0]["panel"] == PINNED_PANEL


def test_vectors_reproduced_by_an_independent_implementation(vectors):
    for case in vectors["cases"]:
        declines = [set(r["declined"]) for r in case["rounds"][1:]]
        assert ref_rounds(case["seed"], case["request"], case["eligible"], declines) == case["rounds"], case["name"]


def test_vectors_verify_and_refusals_hold(vectors):
    for case in vectors["cases"]:
        req = d.DrawingRequest.from_json(case["request"])
        rounds = [d.Round.from_json(r) for r in case["rounds"]]
        verdict = d.verify(
            bytes.fromhex(case["seed"]), case["commitment"], req, case["eligible"], rounds, context=case["context_hash"]
        )
        assert verdict.ok, verdict.problems
    for case in vectors["refusals"]:
        with pytest.raises(d.DrawingRefused) as excinfo:
            d.draw(SEED, d.DrawingRequest.from_json(case["request"]), case["eligible"])
        assert codes(excinfo) == case["refused"]


PINNED_FIRST_BLOCK = "0dd01a5aeb159580c3d0e009fc00a01ef7243875a74c49bf3adae55cd3a56b0a"
PINNED_PANEL = [
    {"specialty": "A08", "expert": "E000"},
    {"specialty": "A08", "expert": "E006"},
    {"specialty": "A08", "expert": "E005"},
    {"specialty": "A06", "expert": "E015"},
    {"specialty": "A06", "expert": "E017"},
]


# ------------------------------------------------------------------------------------------------
# Seeds, canonical JSON


def test_seed_and_commitment():
    seed = d.new_seed()
    assert len(seed) == 32 and seed != d.new_seed()
    assert d.seed_commitment(seed) == hashlib.sha256(seed).hexdigest()
    with pytest.raises(ValueError):
        d.seed_commitment(b"short")


def test_canonical_json_is_compact_sorted_utf8_and_refuses_floats():
    assert d.canonical_json({"b": 1, "a": ["专家", 2]}) == '{"a":["专家",2],"b":1}'.encode()
    for bad in (1.5, True, None, {"a": 0.1}, {1: "x"}):
        with pytest.raises(TypeError):
            d.canonical_json(bad)


def test_request_needs_utc_session_start():
    with pytest.raises(ValueError):
        d.DrawingRequest("T", "L", "2026-12-01 09:30", (("A08", 5),))
    with pytest.raises(ValueError):
        d.DrawingRequest("T", "L", "2026-13-01T01:30:00Z", (("A08", 5),))
    from datetime import datetime, timedelta, timezone

    shanghai = timezone(timedelta(hours=8))
    assert d.format_session_start(datetime(2026, 12, 1, 9, 30, tzinfo=shanghai)) == "2026-12-01T01:30:00Z"
    assert d.DrawingRequest.from_json(request().to_json()) == request()


# ------------------------------------------------------------------------------------------------
# Panel rules (L37)


@pytest.mark.parametrize(
    "slots, reps, expected",
    [
        ((("A08", 3), ("A06", 2)), 0, []),
        ((("A08", 4), ("A06", 2)), 0, ["panel_even"]),
        ((("A08", 3),), 0, ["panel_small"]),
        ((("A08", 4),), 0, ["panel_even", "panel_small"]),
        ((("A08", 3),), 2, ["experts_share"]),
        ((("A08", 5), ("A08", 2)), 0, ["slot_duplicate"]),
        ((("A08", 5), ("A06", 0)), 0, ["slot_count"]),
        ((), 5, ["no_slots", "experts_share"]),
        ((("A08", 7),), -2, ["reps_negative"]),
    ],
)
def test_panel_rules(slots, reps, expected):
    reasons = d.check_panel_rules(request(slots=slots, reps=reps))
    assert [r.code for r in reasons] == expected
    for reason in reasons:
        assert reason.message and "%(" not in reason.message


def test_panel_of_seven_with_two_representatives_is_lawful():
    assert d.check_panel_rules(request(slots=(("A08", 5),), reps=2)) == []  # 5/7 >= 2/3
    assert d.check_panel_rules(request(slots=(("A08", 4), ("A06", 2)), reps=3)) == []  # 6/9: exactly 2/3
    reasons = d.check_panel_rules(request(slots=(("A08", 4),), reps=3))  # 7: 4 experts < 14/3
    assert [r.code for r in reasons] == ["experts_share"]
    assert "招标人代表（3人）" in reasons[0].message


def test_unlawful_panel_is_refused_not_shrunk():
    with pytest.raises(d.DrawingRefused) as excinfo:
        d.draw(SEED, request(slots=(("A08", 4), ("A06", 2))), POOL)
    assert codes(excinfo) == ["panel_even"]
    assert "6人" in str(excinfo.value)


# ------------------------------------------------------------------------------------------------
# Eligibility and recusal (P12)


def test_recusal_for_bidders_and_tenderer():
    experts = [
        d.Candidate("E9", ("A08",), "ORG-NEUTRAL"),
        d.Candidate("E1", ("A08",), "ORG-NEUTRAL"),
        d.Candidate("E2", ("A08",), BIDDERS[0]),  # employed by a bidder
        d.Candidate("E3", ("A08",), TENDERER),  # employed by the tenderer
        d.Candidate("E4", ("A08",), "ORG-NEUTRAL", conflicts=(TENDERER,)),  # conflict with the tenderer
        d.Candidate("E5", ("A08",), "ORG-NEUTRAL", conflicts=("OTHER", BIDDERS[2])),  # conflict with a bidder
        d.Candidate("E6", ("A08",), "ORG-NEUTRAL", available=False),
        d.Candidate("E7", ("A08",), BIDDERS[1], conflicts=(TENDERER,), available=False),
        d.Candidate("E8", ("A08",), "ORG-NEUTRAL", conflicts=("UNRELATED",)),
        d.Candidate("E0", ("A08",), "ORG-NEUTRAL"),
    ]
    result = d.eligible(experts, bidder_orgs=BIDDERS, tenderer_org=TENDERER, exclude_ids=["E0"])
    assert [c.id for c in result.eligible] == ["E1", "E8", "E9"]
    assert dict(result.excluded) == {
        "E0": ("excluded",),
        "E2": ("employer",),
        "E3": ("employer",),
        "E4": ("conflict",),
        "E5": ("conflict",),
        "E6": ("unavailable",),
        "E7": ("employer", "conflict", "unavailable"),
    }
    eligible_list, excluded = result  # unpacks as (eligible, excluded)
    assert eligible_list == result.eligible
    assert [e.id for e in excluded] == sorted(e.id for e in excluded)
    with pytest.raises(ValueError):
        d.eligible(experts + [experts[0]], bidder_orgs=BIDDERS, tenderer_org=TENDERER)


def test_excluded_expert_is_never_drawn():
    experts = [d.Candidate(f"E{i:02d}", ("A08",), BIDDERS[0] if i % 3 == 0 else "ORG") for i in range(12)]
    kept = d.eligible(experts, bidder_orgs=BIDDERS, tenderer_org=TENDERER).eligible
    pool = d.pools(kept, request(slots=(("A08", 5),)))
    assert pool == {"A08": tuple(f"E{i:02d}" for i in range(12) if i % 3)}
    for n in range(30):
        picks = d.draw(hashlib.sha256(bytes([n])).digest(), request(slots=(("A08", 5),)), pool).picks
        assert all(int(p.expert[1:]) % 3 for p in picks)


def test_pools_keep_only_requested_specialties_and_multi_specialty_experts_in_each():
    candidates = [
        d.Candidate("B", ("A08", "A06"), "O"),
        d.Candidate("A", ("A06",), "O"),
        d.Candidate("C", ("A99",), "O"),
    ]
    assert d.pools(candidates, request()) == {"A08": ("B",), "A06": ("A", "B")}


# ------------------------------------------------------------------------------------------------
# The draw


def test_same_inputs_same_panel_and_pool_order_does_not_matter():
    first = d.draw(SEED, request(), POOL)
    shuffled = {s: list(reversed(v)) + v[:2] for s, v in reversed(list(POOL.items()))}
    assert d.draw(SEED, request(), shuffled) == first
    assert [p.specialty for p in first.picks] == ["A08", "A08", "A08", "A06", "A06"]
    assert len({p.expert for p in first.picks}) == 5


def test_different_seed_different_panel():
    panels = {tuple(d.draw(hashlib.sha256(bytes([n])).digest(), request(), POOL).picks) for n in range(20)}
    assert len(panels) >= 18


def test_request_is_bound_into_the_stream():
    other_lot = d.DrawingRequest("T-2026-001", "L2", "2026-12-01T01:30:00Z", (("A08", 3), ("A06", 2)))
    results = {d.draw(SEED, r, POOL).picks for r in (request(), other_lot)}
    assert len(results) == 2
    assert d.context_hash(request(), POOL) != d.context_hash(other_lot, POOL)


def test_short_pool_refused_with_specialty_needed_and_available():
    with pytest.raises(d.DrawingRefused) as excinfo:
        d.draw(SEED, request(slots=(("A08", 3), ("A06", 2))), {"A08": ids("E", 2), "A06": ids("F", 5)})
    (reason,) = excinfo.value.reasons
    assert reason.code == "pool_short"
    assert reason.params == {"specialty": "A08", "needed": 3, "available": 2}


def test_overlap_that_could_starve_a_later_slot_is_refused_whatever_the_seed():
    req = request(slots=(("A08", 3), ("A06", 2)))
    pool = {"A08": ids("E", 4), "A06": ["E002", "E003"]}  # A08 may take E002 and E003
    with pytest.raises(d.DrawingRefused) as excinfo:
        d.draw(SEED, req, pool)
    (reason,) = excinfo.value.reasons
    assert reason.code == "pool_overlap"
    assert reason.params == {"specialty": "A06", "needed": 2, "available": 2, "taken": 2}
    # Order reversed, the same experts always suffice.
    d.draw(SEED, request(slots=(("A06", 2), ("A08", 3))), {"A08": ids("E", 5), "A06": ["E002", "E003"]})


def test_expert_of_two_specialties_picked_at_most_once():
    pool = {"A08": ["S1", "S2", "X1"], "A06": ["S1", "S2", "Y1", "Y2", "Y3"]}
    for n in range(50):
        picks = d.draw(hashlib.sha256(bytes([n])).digest(), request(slots=(("A08", 2), ("A06", 3))), pool).picks
        assert len({p.expert for p in picks}) == 5


def test_uniformity_over_fixed_seeds():
    """1000 draws of 5 of 10 experts: each expert drawn about half the time, and the first pick
    spread evenly (a loose chi-square bound, about p = 1e-5 for 9 degrees of freedom)."""
    req, pool = request(slots=(("A08", 5),)), {"A08": ids("E", 10)}
    chosen, first = dict.fromkeys(pool["A08"], 0), dict.fromkeys(pool["A08"], 0)
    runs = 1000
    for n in range(runs):
        picks = d.draw(hashlib.sha256(n.to_bytes(4, "big")).digest(), req, pool).picks
        first[picks[0].expert] += 1
        for p in picks:
            chosen[p.expert] += 1
    assert all(abs(c - runs / 2) < 100 for c in chosen.values()), chosen
    expected = runs / 10
    chi2 = sum((c - expected) ** 2 / expected for c in first.values())
    assert chi2 < 40, first


def test_rejection_sampling_rejects_the_biased_tail(monkeypatch):
    values = iter([2**64 - 1, 2**64 - 2, 7])  # for n = 3 the limit is 2**64 - 1: the first is rejected
    stream = d._Stream(SEED, b"", 0)
    monkeypatch.setattr(stream, "next_u64", lambda: next(values))
    assert stream.below(3) == (2**64 - 2) % 3
    assert stream.below(3) == 1


# ------------------------------------------------------------------------------------------------
# Replacements


def test_replacement_takes_the_seat_and_never_repicks():
    req = request()
    round0 = d.draw(SEED, req, POOL)
    seats = d.panel([round0])
    round1 = d.replace(SEED, req, POOL, [round0], [seats[3].expert, seats[0].expert])
    assert round1.declined == tuple(sorted([seats[0].expert, seats[3].expert]))
    assert [p.specialty for p in round1.picks] == ["A08", "A06"]  # seat order
    after = d.panel([round0, round1])
    assert after[0] == round1.picks[0] and after[3] == round1.picks[1]
    assert after[1:3] == seats[1:3] and after[4] == seats[4]
    assert not {p.expert for p in round1.picks} & {p.expert for p in round0.picks}
    # a substitute declines too; nobody drawn before comes back
    round2 = d.replace(SEED, req, POOL, [round0, round1], [after[0].expert])
    drawn_before = {p.expert for r in (round0, round1) for p in r.picks}
    assert round2.picks[0].expert not in drawn_before
    assert round2.picks[0].expert in POOL["A08"]
    assert d.replace(SEED, req, POOL, [round0, round1], [after[0].expert]) == round2  # deterministic


def test_replacement_rounds_use_their_own_stream():
    req, pool = request(slots=(("A08", 5),)), {"A08": ids("E", 40)}
    round0 = d.draw(SEED, req, pool)
    first = round0.picks[0].expert
    # declining the same seat in round 1 and (hypothetically) in round 2 draws from different streams
    assert d.round_label(0) == b"etender-drawing-v1"
    assert d.round_label(2) == b"etender-drawing-v1/replacement/2"
    r1 = d.replace(SEED, req, pool, [round0], [first])
    assert r1.picks[0].expert != first


def test_replacement_refusals():
    req = request()
    round0 = d.draw(SEED, req, POOL)
    seats = d.panel([round0])
    with pytest.raises(d.DrawingRefused) as excinfo:
        d.replace(SEED, req, POOL, [round0], ["NOBODY"])
    assert codes(excinfo) == ["not_on_panel"]
    with pytest.raises(d.DrawingRefused) as excinfo:
        d.replace(SEED, req, POOL, [round0], [])
    assert codes(excinfo) == ["no_declines"]
    round1 = d.replace(SEED, req, POOL, [round0], [seats[0].expert])
    with pytest.raises(d.DrawingRefused) as excinfo:  # already replaced: no longer on the panel
        d.replace(SEED, req, POOL, [round0, round1], [seats[0].expert])
    assert codes(excinfo) == ["not_on_panel"]
    tight = {"A08": ids("E", 3), "A06": ids("F", 3)}
    r0 = d.draw(SEED, req, tight)
    s = d.panel([r0])
    with pytest.raises(d.DrawingRefused) as excinfo:  # A08's three were all drawn
        d.replace(SEED, req, tight, [r0], [s[0].expert])
    assert codes(excinfo) == ["replacement_short"]
    assert excinfo.value.reasons[0].params == {"specialty": "A08", "needed": 1, "available": 0}
    r1 = d.replace(SEED, req, tight, [r0], [s[3].expert])  # A06 has one left
    with pytest.raises(d.DrawingRefused) as excinfo:
        d.replace(SEED, req, tight, [r0, r1], [d.panel([r0, r1])[3].expert])
    assert codes(excinfo) == ["replacement_short"]


# ------------------------------------------------------------------------------------------------
# Verification


@pytest.fixture
def drawing():
    req = request()
    round0 = d.draw(SEED, req, POOL)
    round1 = d.replace(SEED, req, POOL, [round0], [round0.picks[2].expert])
    return req, [round0, round1]


def test_verify_accepts_the_real_drawing(drawing):
    req, rounds = drawing
    verdict = d.verify(SEED, d.seed_commitment(SEED), req, POOL, rounds, context=d.context_hash(req, POOL))
    assert verdict.ok and verdict.problems == []
    json_rounds = [d.Round.from_json(json.loads(json.dumps(r.to_json()))) for r in rounds]
    assert d.verify(SEED, d.seed_commitment(SEED).upper(), req, POOL, json_rounds).ok


def test_verify_catches_an_altered_result(drawing):
    req, rounds = drawing
    swapped = next(e for e in POOL["A08"] if e not in {p.expert for r in rounds for p in r.picks})
    altered = d.Round((), (d.Pick("A08", swapped),) + rounds[0].picks[1:])
    verdict = d.verify(SEED, d.seed_commitment(SEED), req, POOL, [altered, rounds[1]])
    assert not verdict.ok
    assert verdict.reasons[0].code == "round_mismatch"
    assert "第0轮" in verdict.problems[0]
    # an altered replacement round
    other = d.Round(rounds[1].declined, (d.Pick("A08", swapped),))
    verdict = d.verify(SEED, d.seed_commitment(SEED), req, POOL, [rounds[0], other])
    assert [r.code for r in verdict.reasons] == ["round_mismatch"] and "第1轮" in verdict.problems[0]


def test_verify_catches_an_altered_seed(drawing):
    req, rounds = drawing
    other = hashlib.sha256(b"another seed").digest()
    verdict = d.verify(other, d.seed_commitment(SEED), req, POOL, rounds)
    assert "commitment_mismatch" in [r.code for r in verdict.reasons]
    # even with a matching commitment, the rounds give the seed away
    verdict = d.verify(other, d.seed_commitment(other), req, POOL, rounds)
    assert verdict.reasons[0].code == "round_mismatch"
    assert [r.code for r in d.verify(b"x", "00", req, POOL, rounds).reasons] == ["seed_malformed"]


def test_verify_catches_an_altered_eligible_list(drawing):
    req, rounds = drawing
    drawn = {p.expert for r in rounds for p in r.picks}
    smaller = {s: [e for e in v if e in drawn or e != next(x for x in v if x not in drawn)] for s, v in POOL.items()}
    assert smaller != POOL
    verdict = d.verify(SEED, d.seed_commitment(SEED), req, smaller, rounds, context=d.context_hash(req, POOL))
    assert {"context_mismatch", "round_mismatch"} <= {r.code for r in verdict.reasons}
    verdict = d.verify(SEED, d.seed_commitment(SEED), req, smaller, rounds)
    assert not verdict.ok


def test_verify_catches_altered_declines_and_unlawful_requests(drawing):
    req, rounds = drawing
    # The declines are facts, checked against the audit trail: the stream does not depend on who
    # declined, so another A08 seat declining yields the same substitute (docs: "What verify proves").
    same_specialty = d.Round((rounds[0].picks[0].expert,), rounds[1].picks)
    assert d.verify(SEED, d.seed_commitment(SEED), req, POOL, [rounds[0], same_specialty]).ok
    # A record claiming an A06 seat declined, yet filled with an A08 expert, is not what the draw gives.
    other_specialty = d.Round((rounds[0].picks[3].expert,), rounds[1].picks)
    verdict = d.verify(SEED, d.seed_commitment(SEED), req, POOL, [rounds[0], other_specialty])
    assert [r.code for r in verdict.reasons] == ["round_mismatch"]
    assert [r.code for r in d.verify(SEED, d.seed_commitment(SEED), req, POOL, []).reasons] == ["no_rounds"]
    bad_rounds = [d.Round(("X",), rounds[0].picks), rounds[1]]
    assert not d.verify(SEED, d.seed_commitment(SEED), req, POOL, bad_rounds).ok
    even = request(slots=(("A08", 4), ("A06", 2)))
    codes_ = [r.code for r in d.verify(SEED, d.seed_commitment(SEED), even, POOL, rounds).reasons]
    assert codes_[0] == "rules" and "round_refused" in codes_


# ------------------------------------------------------------------------------------------------
# Properties


SPECIALTIES = ["A04", "A06", "A08", "A12"]


@st.composite
def drawings(draw_):
    """Mostly lawful requests (odd, >= 5, reps <= 1/3) over overlapping pools, some too small."""
    specialties = draw_(st.lists(st.sampled_from(SPECIALTIES), min_size=1, max_size=4, unique=True))
    counts = [draw_(st.integers(1, 5)) for _ in specialties]
    experts = draw_(st.lists(st.text("ABCDE甲乙0123", min_size=1, max_size=4), min_size=8, max_size=30, unique=True))
    pool = {
        s: draw_(st.lists(st.sampled_from(experts), min_size=max(0, c - 1), max_size=len(experts), unique=True))
        for s, c in zip(specialties, counts)
    }
    n = sum(counts)
    lawful = [r for r in range(n) if (n + r) % 2 and n + r >= 5 and 3 * r <= n + r]
    reps = draw_(st.sampled_from(lawful) if lawful and draw_(st.integers(0, 9)) else st.integers(0, n))
    seed = draw_(st.binary(min_size=32, max_size=32))
    return seed, request(slots=tuple(zip(specialties, counts)), reps=reps), pool


@settings(max_examples=500, deadline=None)
@given(drawings(), st.data())
def test_property_no_duplicates_every_pick_eligible_for_its_slot(case, data):
    seed, req, pool = case
    try:
        round0 = d.draw(seed, req, pool)
    except d.DrawingRefused as refused:
        assert refused.reasons
        assume_codes = {r.code for r in refused.reasons}
        assert assume_codes <= {"panel_even", "panel_small", "experts_share", "pool_short", "pool_overlap"}
        return
    assert not d.check_panel_rules(req)
    assert [p.specialty for p in round0.picks] == [s for s, c in req.slots for _ in range(c)]
    rounds = [round0]
    for _ in range(3):
        seats = d.panel(rounds)
        declined = data.draw(st.lists(st.sampled_from([s.expert for s in seats]), min_size=1, unique=True))
        try:
            rounds.append(d.replace(seed, req, pool, rounds, declined))
        except d.DrawingRefused as refused:
            assert {r.code for r in refused.reasons} <= {"replacement_short", "replacement_overlap"}
            break
    all_picks = [p for r in rounds for p in r.picks]
    assert len({p.expert for p in all_picks}) == len(all_picks)  # nobody drawn twice, decliners included
    assert all(p.expert in pool[p.specialty] for p in all_picks)
    assert d.verify(seed, d.seed_commitment(seed), req, pool, rounds).ok
    declines = [set(r.declined) for r in rounds[1:]]
    assert ref_rounds(seed.hex(), req.to_json(), pool, declines) == [r.to_json() for r in rounds]


if __name__ == "__main__":
    VECTORS.parent.mkdir(exist_ok=True)
    VECTORS.write_text(render(build_vectors()), encoding="utf-8")
    print(f"wrote {VECTORS}")
