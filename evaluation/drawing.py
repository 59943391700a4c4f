"""Verifiable random drawing of an evaluation panel (专家抽取), version etender-drawing-v1.

Pure: no Django. docs/expert-drawing.md specifies every byte so that a regulator can re-implement
it; evaluation/vectors/drawing-v1.json holds test vectors.

The panel (评标委员会) is an odd number of at least 5 members, experts at least two thirds (L37),
drawn at random and never named by hand, secret until the result (R46); experts who are employed
by or declare a conflict with a bidder or the tenderer are recused (P12).

How a drawing is verifiable:
1. The platform makes a secret `new_seed()` and records `seed_commitment(seed)` (its SHA-256) in
   the audit trail, with `context_hash(request, pool)`, before anything is drawn.
2. `draw(seed, request, pool)` is a deterministic function of the seed, the request and the sorted
   eligible pool: HMAC-SHA256 keyed with the seed yields a byte stream, unbiased integers come from
   it by rejection sampling, and a partial Fisher-Yates shuffle over each sorted pool picks experts.
3. An expert who declines (or recuses after seeing the bidders) is replaced by `replace(...)` in a
   new round, from the same pool minus everyone drawn in any round, with a stream of its own.
4. After the result is published the seed is revealed; `verify(...)` recomputes everything.

A request that breaks the panel rules, or a pool that cannot fill it, is refused with reasons (a
`DrawingRefused` carrying `Reason`s): never a smaller panel. Refusals depend only on the request and
the pool, never on the seed, so nobody can draw again with a new seed after a refusal "by luck".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

VERSION = "etender-drawing-v1"
LABEL = VERSION.encode("ascii")
SEED_BYTES = 32
MIN_PANEL = 5
SESSION_START_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _(message: str) -> str:
    """Marks a msgid for extraction; the Django layer translates it when showing the reason."""
    return message


@dataclass(frozen=True)
class Reason:
    """Why a drawing is refused or does not verify: a machine code, a Chinese msgid and its params."""

    code: str
    template: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template

    def __str__(self) -> str:
        return self.message


class DrawingRefused(Exception):
    """The drawing cannot be made as requested; nothing was drawn. `reasons` says why."""

    def __init__(self, reasons: Sequence[Reason]):
        self.reasons = tuple(reasons)
        super().__init__("; ".join(r.message for r in self.reasons))


# ---------------------------------------------------------------------------------------------
# Seeds and canonical JSON


def new_seed() -> bytes:
    """A fresh secret seed: 32 bytes from the operating system's CSPRNG."""
    return secrets.token_bytes(SEED_BYTES)


def seed_commitment(seed: bytes) -> str:
    """The commitment recorded before the drawing: lowercase hex SHA-256 of the seed bytes."""
    return hashlib.sha256(_check_seed(seed)).hexdigest()


def _check_seed(seed) -> bytes:
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != SEED_BYTES:
        raise ValueError(f"the seed must be {SEED_BYTES} bytes")
    return bytes(seed)


def _check_json(value, path="$"):
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise TypeError(f"{path}: only integers, strings, lists and objects are allowed")
    if isinstance(value, (int, str)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: object keys must be strings")
            _check_json(item, f"{path}.{key}")
        return
    raise TypeError(f"{path}: {type(value).__name__} is not allowed")


def canonical_json(value) -> bytes:
    """Sorted keys, no spaces, UTF-8 (not \\u escapes); integers, strings, lists and objects only."""
    _check_json(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# The request and the panel rules


def format_session_start(moment: datetime) -> str:
    """An aware datetime as the request's `session_start`: UTC, whole seconds, `YYYY-MM-DDTHH:MM:SSZ`."""
    if moment.tzinfo is None:
        raise ValueError("session_start must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class DrawingRequest:
    """What to draw: for the tender's lot and evaluation session, `count` experts of each specialty,
    in the order given; `tenderer_representatives` seats are named by the tenderer, not drawn."""

    tender: str
    lot: str
    session_start: str  # ISO 8601 UTC, "2026-12-01T01:30:00Z" (format_session_start)
    slots: tuple  # ((specialty code, count), ...)
    tenderer_representatives: int = 0
    # Expert seats of the same panel filled by another platform's drawing (cross-region: the host's
    # away seats, or at the partner the host's own seats). Not drawn here, counted in the panel rules.
    remote_experts: int = 0

    def __post_init__(self):
        for name in ("tender", "lot"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty string")
        if not isinstance(self.session_start, str) or not SESSION_START_PATTERN.match(self.session_start):
            raise ValueError("session_start must look like 2026-12-01T01:30:00Z")
        datetime.strptime(self.session_start, "%Y-%m-%dT%H:%M:%SZ")  # a real date and time
        slots = []
        for slot in self.slots:
            specialty, count = slot
            if not isinstance(specialty, str) or not specialty or not _is_int(count):
                raise ValueError("each slot is (specialty code, count)")
            slots.append((specialty, count))
        object.__setattr__(self, "slots", tuple(slots))
        if not _is_int(self.tenderer_representatives):
            raise ValueError("tenderer_representatives must be an integer")
        if not _is_int(self.remote_experts):
            raise ValueError("remote_experts must be an integer")

    @property
    def experts(self) -> int:
        return sum(count for _specialty, count in self.slots)

    @property
    def panel_experts(self) -> int:
        """Experts on the whole panel: drawn here and drawn elsewhere (remote_experts)."""
        return self.experts + self.remote_experts

    @property
    def total(self) -> int:
        """Members of the whole panel."""
        return self.panel_experts + self.tenderer_representatives

    @property
    def specialties(self) -> tuple[str, ...]:
        return tuple(specialty for specialty, _count in self.slots)

    def to_json(self) -> dict:
        data = {
            "tender": self.tender,
            "lot": self.lot,
            "session_start": self.session_start,
            "slots": [{"specialty": s, "count": c} for s, c in self.slots],
            "tenderer_representatives": self.tenderer_representatives,
        }
        if self.remote_experts:  # absent when 0: a single-platform request is unchanged
            data["remote_experts"] = self.remote_experts
        return data

    @classmethod
    def from_json(cls, data: Mapping) -> DrawingRequest:
        return cls(
            tender=data["tender"],
            lot=data["lot"],
            session_start=data["session_start"],
            slots=tuple((s["specialty"], s["count"]) for s in data["slots"]),
            tenderer_representatives=data.get("tenderer_representatives", 0),
            remote_experts=data.get("remote_experts", 0),
        )


def check_panel_rules(request: DrawingRequest) -> list[Reason]:
    """The reasons the requested panel is unlawful or malformed; empty when it may be drawn (L37).

    The panel has sum(counts) experts (plus `remote_experts` drawn by a partner platform, cross-region)
    plus the tenderer's representatives. Its total is odd and at
    least 5, experts are at least two thirds (3*experts >= 2*total), representatives at most one
    third (3*reps <= total) - with experts + reps = total the last two are one condition.
    """
    reasons = []
    seen = set()
    for specialty, count in request.slots:
        if specialty in seen:
            reasons.append(
                Reason("slot_duplicate", _("专业“%(specialty)s”在抽取条件中重复出现。"), {"specialty": specialty})
            )
        seen.add(specialty)
        if count < 1:
            reasons.append(
                Reason("slot_count", _("专业“%(specialty)s”的抽取人数必须至少为1人。"), {"specialty": specialty})
            )
    if not request.slots:
        reasons.append(Reason("no_slots", _("抽取条件中至少要有一个专业。")))
    reps, experts, total = request.tenderer_representatives, request.panel_experts, request.total
    if reps < 0:
        reasons.append(Reason("reps_negative", _("招标人代表人数不能为负数。")))
        return reasons
    if request.remote_experts < 0:
        reasons.append(Reason("remote_negative", _("异地专家人数不能为负数。")))
        return reasons
    if total % 2 == 0:
        reasons.append(Reason("panel_even", _("评标委员会成员人数须为单数，现为%(total)s人。"), {"total": total}))
    if total < MIN_PANEL:
        reasons.append(
            Reason(
                "panel_small",
                _("评标委员会成员不得少于%(min)s人，现为%(total)s人。"),
                {"min": MIN_PANEL, "total": total},
            )
        )
    if 3 * experts < 2 * total or 3 * reps > total:
        reasons.append(
            Reason(
                "experts_share",
                _(
                    "专家（%(experts)s人）不得少于成员总数（%(total)s人）的三分之二，招标人代表（%(reps)s人）不得超过三分之一。"
                ),
                {"experts": experts, "total": total, "reps": reps},
            )
        )
    return reasons


# ---------------------------------------------------------------------------------------------
# Eligibility (recusal, P12)


@dataclass(frozen=True)
class Candidate:
    """An expert of the pool as the drawing sees it. `available` is decided by the caller for the
    session's time (leave, other sessions, suspension); organisations are opaque strings."""

    id: str
    specialties: tuple[str, ...]
    employer: str
    conflicts: tuple[str, ...] = ()
    available: bool = True


class Exclusion(NamedTuple):
    id: str
    reasons: tuple[str, ...]  # codes among EXCLUSION_CODES, in that order


EXCLUSION_CODES = ("employer", "conflict", "unavailable", "excluded")


class Eligibility(NamedTuple):
    eligible: tuple[Candidate, ...]  # sorted by id
    excluded: tuple[Exclusion, ...]  # sorted by id


def eligible(
    experts: Iterable[Candidate],
    *,
    bidder_orgs: Iterable[str],
    tenderer_org: str,
    exclude_ids: Iterable[str] = (),
) -> Eligibility:
    """Split the pool into the eligible and the excluded, with every reason for each exclusion (P12).

    employer: works for a bidder or the tenderer; conflict: declared a conflict with one of them;
    unavailable: not available at the session's time; excluded: named in `exclude_ids` by the caller.
    """
    parties = set(bidder_orgs) | {tenderer_org}
    excluded_ids = set(exclude_ids)
    kept, excluded, seen = [], [], set()
    for expert in experts:
        if expert.id in seen:
            raise ValueError(f"expert {expert.id!r} appears twice")
        seen.add(expert.id)
        reasons = []
        if expert.employer in parties:
            reasons.append("employer")
        if parties.intersection(expert.conflicts):
            reasons.append("conflict")
        if not expert.available:
            reasons.append("unavailable")
        if expert.id in excluded_ids:
            reasons.append("excluded")
        if reasons:
            excluded.append(Exclusion(expert.id, tuple(reasons)))
        else:
            kept.append(expert)
    return Eligibility(tuple(sorted(kept, key=lambda c: c.id)), tuple(sorted(excluded)))


def pools(candidates: Iterable[Candidate], request: DrawingRequest) -> dict[str, tuple[str, ...]]:
    """The eligible pool of each requested specialty: {specialty: sorted ids}, the form `draw` takes."""
    result = {specialty: set() for specialty in request.specialties}
    for candidate in candidates:
        for specialty in candidate.specialties:
            if specialty in result:
                result[specialty].add(candidate.id)
    return {specialty: tuple(sorted(ids)) for specialty, ids in result.items()}


def normalize_pool(request: DrawingRequest, pool: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Exactly the requested specialties, each with its ids deduplicated and sorted (code points)."""
    normalized = {}
    for specialty in request.specialties:
        ids = set(pool.get(specialty, ()))
        if not all(isinstance(i, str) and i for i in ids):
            raise ValueError("expert ids must be non-empty strings")
        normalized[specialty] = sorted(ids)
    return normalized


def context_hash(request: DrawingRequest, pool: Mapping[str, Iterable[str]]) -> str:
    """Hex SHA-256 of canonical JSON {"eligible": {specialty: sorted ids}, "request": ...}."""
    return _context_digest(request, pool).hex()


def _context_digest(request: DrawingRequest, pool) -> bytes:
    body = {"request": request.to_json(), "eligible": normalize_pool(request, pool)}
    return hashlib.sha256(canonical_json(body)).digest()


# ---------------------------------------------------------------------------------------------
# The random stream


def round_label(number: int) -> bytes:
    """Domain separator of round `number`: the initial draw is round 0, replacements 1, 2, ..."""
    if number == 0:
        return LABEL
    return LABEL + b"/replacement/" + str(number).encode("ascii")


def drbg_block(seed: bytes, context: bytes, number: int, counter: int) -> bytes:
    """Block `counter` of round `number`: HMAC-SHA256(seed, label || context || counter as u64 BE)."""
    message = round_label(number) + context + counter.to_bytes(8, "big")
    return hmac.new(seed, message, hashlib.sha256).digest()


class _Stream:
    """Blocks 0, 1, 2, ... of one round, read 8 bytes at a time as big-endian uint64."""

    def __init__(self, seed: bytes, context: bytes, number: int):
        self._seed, self._context, self._number = seed, context, number
        self._counter = 0
        self._buffer = b""

    def next_u64(self) -> int:
        if not self._buffer:
            self._buffer = drbg_block(self._seed, self._context, self._number, self._counter)
            self._counter += 1
        value, self._buffer = int.from_bytes(self._buffer[:8], "big"), self._buffer[8:]
        return value

    def below(self, n: int) -> int:
        """Uniform in [0, n): reject values >= the largest multiple of n not above 2**64, then mod n."""
        if n < 1:
            raise ValueError("n must be positive")
        limit = (2**64 // n) * n
        while True:
            value = self.next_u64()
            if value < limit:
                return value % n


def _choose(stream: _Stream, pool: Sequence[str], count: int) -> list[str]:
    """Partial Fisher-Yates: `count` distinct ids from the sorted `pool`, in the order drawn."""
    items = list(pool)
    for i in range(count):
        j = i + stream.below(len(items) - i)
        items[i], items[j] = items[j], items[i]
    return items[:count]


# ---------------------------------------------------------------------------------------------
# Feasibility: decided before any randomness, so a refusal never depends on the seed


def _feasibility(slots: Sequence[tuple[str, int]], slot_pools: Sequence[set], replacement: bool) -> list[Reason]:
    """Refuse unless every slot is sure to find its count whatever earlier slots pick.

    Slot i's pool P_i loses to earlier slots at most T_i = min(|P_i ∩ (P_0 ∪ ... ∪ P_{i-1})|,
    sum over j < i of min(c_j, |P_j ∩ P_i|)) experts; it must keep |P_i| - T_i >= c_i.
    """
    reasons = []
    for i, ((specialty, count), pool) in enumerate(zip(slots, slot_pools)):
        params = {"specialty": specialty, "needed": count, "available": len(pool)}
        if len(pool) < count:
            code = "replacement_short" if replacement else "pool_short"
            template = (
                _("专业“%(specialty)s”需要替补%(needed)s人，可替补的专家只有%(available)s人。")
                if replacement
                else _("专业“%(specialty)s”需要抽取%(needed)s人，符合条件的专家只有%(available)s人。")
            )
            reasons.append(Reason(code, template, params))
            continue
        earlier = set().union(*slot_pools[:i]) if i else set()
        shared = len(pool & earlier)
        bound = sum(min(c, len(p & pool)) for (_s, c), p in zip(slots[:i], slot_pools[:i]))
        taken = min(shared, bound)
        if len(pool) - taken < count:
            code = "replacement_overlap" if replacement else "pool_overlap"
            template = (
                _(
                    "专业“%(specialty)s”需要替补%(needed)s人，可替补的%(available)s人中最多%(taken)s人可能先被其他专业抽走，剩余人数可能不足。"
                )
                if replacement
                else _(
                    "专业“%(specialty)s”需要抽取%(needed)s人，符合条件的%(available)s人中最多%(taken)s人"
                    "可能先被排在前面的专业抽走，剩余人数可能不足；请调整抽取条件或专业顺序。"
                )
            )
            reasons.append(Reason(code, template, {**params, "taken": taken}))
    return reasons


# ---------------------------------------------------------------------------------------------
# Rounds: the draw and the replacements


class Pick(NamedTuple):
    specialty: str
    expert: str


@dataclass(frozen=True)
class Round:
    """One round of a drawing. Round 0 is the draw (`declined` empty); round r >= 1 replaces the
    experts in `declined` (sorted), its picks taking their seats in seat order."""

    declined: tuple[str, ...]
    picks: tuple[Pick, ...]

    def __post_init__(self):
        object.__setattr__(self, "declined", tuple(self.declined))
        object.__setattr__(self, "picks", tuple(Pick(*pick) for pick in self.picks))

    def to_json(self) -> dict:
        return {
            "declined": list(self.declined),
            "picks": [{"specialty": p.specialty, "expert": p.expert} for p in self.picks],
        }

    @classmethod
    def from_json(cls, data: Mapping) -> Round:
        return cls(
            declined=tuple(data.get("declined", ())),
            picks=tuple(Pick(p["specialty"], p["expert"]) for p in data["picks"]),
        )


def draw(seed: bytes, request: DrawingRequest, pool: Mapping[str, Iterable[str]]) -> Round:
    """Round 0: for each slot in the request's order, `count` experts of that specialty's pool not
    already picked, by partial Fisher-Yates over the sorted pool. Raises DrawingRefused."""
    seed = _check_seed(seed)
    reasons = check_panel_rules(request)
    if reasons:
        raise DrawingRefused(reasons)
    normalized = normalize_pool(request, pool)
    reasons = _feasibility(request.slots, [set(normalized[s]) for s in request.specialties], replacement=False)
    if reasons:
        raise DrawingRefused(reasons)
    stream = _Stream(seed, _context_digest(request, normalized), 0)
    picks, picked = [], set()
    for specialty, count in request.slots:
        available = [i for i in normalized[specialty] if i not in picked]
        for expert in _choose(stream, available, count):
            picked.add(expert)
            picks.append(Pick(specialty, expert))
    return Round(declined=(), picks=tuple(picks))


def panel(rounds: Sequence[Round]) -> tuple[Pick, ...]:
    """The seats after all rounds: round 0's picks, each later round's picks taking, in seat order,
    the seats of the experts it replaces. Raises ValueError if the rounds do not fit together."""
    if not rounds:
        raise ValueError("a drawing has at least round 0")
    if rounds[0].declined:
        raise ValueError("round 0 replaces nobody")
    seats = list(rounds[0].picks)
    for number, current in enumerate(rounds[1:], start=1):
        declined = set(current.declined)
        places = [k for k, seat in enumerate(seats) if seat.expert in declined]
        if len(places) != len(declined) or len(current.picks) != len(places):
            raise ValueError(f"round {number} does not match the panel it replaces in")
        for k, pick in zip(places, current.picks):
            if pick.specialty != seats[k].specialty:
                raise ValueError(f"round {number} fills a seat with another specialty")
            seats[k] = pick
    return tuple(seats)


def replace(
    seed: bytes,
    request: DrawingRequest,
    pool: Mapping[str, Iterable[str]],
    previous_rounds: Sequence[Round],
    declined_ids: Iterable[str],
) -> Round:
    """Round r = len(previous_rounds): a substitute for each seat whose expert declined (or recused),
    in seat order, each drawn from its specialty's pool minus everyone drawn in any round so far
    (decliners included) and the substitutes already drawn in this round. Raises DrawingRefused."""
    seed = _check_seed(seed)
    number = len(previous_rounds)
    seats = panel(previous_rounds)
    declined = set(declined_ids)
    seated = {seat.expert for seat in seats}
    reasons = [
        Reason("not_on_panel", _("%(expert)s不是当前评标委员会的成员，不能登记为拒绝参加。"), {"expert": expert})
        for expert in sorted(declined - seated)
    ]
    if not declined:
        reasons.append(Reason("no_declines", _("没有需要替补的专家。")))
    if reasons:
        raise DrawingRefused(reasons)
    normalized = normalize_pool(request, pool)
    drawn = {pick.expert for past in previous_rounds for pick in past.picks}
    vacant = [seat for seat in seats if seat.expert in declined]
    slots = [(seat.specialty, 1) for seat in vacant]
    reasons = _feasibility(slots, [set(normalized.get(s, ())) - drawn for s, _c in slots], replacement=True)
    if reasons:
        raise DrawingRefused(reasons)
    stream = _Stream(seed, _context_digest(request, normalized), number)
    picks = []
    for seat in vacant:
        available = [i for i in normalized.get(seat.specialty, ()) if i not in drawn]
        (expert,) = _choose(stream, available, 1)
        drawn.add(expert)
        picks.append(Pick(seat.specialty, expert))
    return Round(declined=tuple(sorted(declined)), picks=tuple(picks))


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class Verdict:
    reasons: tuple[Reason, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def problems(self) -> list[str]:
        return [reason.message for reason in self.reasons]


def verify(
    seed: bytes,
    commitment: str,
    request: DrawingRequest,
    pool: Mapping[str, Iterable[str]],
    rounds: Sequence[Round],
    *,
    context: str | None = None,
) -> Verdict:
    """Re-run a published drawing: the seed matches its commitment (and the pool and request the
    recorded `context` hash, if given), the request obeys the panel rules, and every round is
    exactly what the algorithm yields from the rounds before it."""
    problems = []
    try:
        seed = _check_seed(seed)
    except ValueError:
        return Verdict((Reason("seed_malformed", _("公开的种子不是%(n)s字节。"), {"n": SEED_BYTES}),))
    if not isinstance(commitment, str) or not hmac.compare_digest(seed_commitment(seed), commitment.lower()):
        problems.append(Reason("commitment_mismatch", _("公开的种子与事先记录的种子承诺（SHA-256）不符。")))
    if context is not None and context.lower() != context_hash(request, pool):
        problems.append(Reason("context_mismatch", _("抽取请求或合格专家名单与事先记录的摘要不符。")))
    for reason in check_panel_rules(request):
        problems.append(Reason("rules", _("抽取请求不符合评标委员会组成规则：%(reason)s"), {"reason": reason.message}))
    if not rounds:
        problems.append(Reason("no_rounds", _("没有抽取结果。")))
    for number, recorded in enumerate(rounds):
        try:
            if number == 0:
                expected = draw(seed, request, pool)
            else:
                expected = replace(seed, request, pool, rounds[:number], recorded.declined)
        except DrawingRefused as refused:
            text = "；".join(r.message for r in refused.reasons)
            problems.append(
                Reason("round_refused", _("第%(round)s轮本应被拒绝：%(reason)s"), {"round": number, "reason": text})
            )
            break
        except ValueError as error:
            problems.append(
                Reason(
                    "round_malformed", _("第%(round)s轮的记录无效：%(reason)s"), {"round": number, "reason": str(error)}
                )
            )
            break
        if expected != recorded:
            problems.append(
                Reason(
                    "round_mismatch",
                    _("第%(round)s轮的抽取结果与重新计算的结果不符：记录为%(recorded)s，应为%(expected)s。"),
                    {"round": number, "recorded": _describe(recorded), "expected": _describe(expected)},
                )
            )
    return Verdict(tuple(problems))


def _describe(round_: Round) -> str:
    return "、".join(f"{p.specialty}:{p.expert}" for p in round_.picks)
