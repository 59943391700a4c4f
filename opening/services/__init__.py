"""Every write of the opening, one function per action (core.py: the main line; decryption.py:
the background decryption and price reading; record.py: objections and the opening record;
custodial.py: the k-of-n fallback). Each runs in one transaction with its audit and room events."""

from opening.services.core import (
    check_data_key,
    maybe_end_decryption,
    opening_abort,
    opening_check_in,
    opening_close_window,
    opening_fail,
    opening_finish,
    opening_open,
    opening_release_key,
    opening_start_decryption,
    valid_bid_count,
)
from opening.services.record import record_ready_to_end
from opening.services.record import (
    opening_objection_answer,
    opening_objection_raise,
    opening_objections_close,
    opening_objections_open,
    opening_record_confirm,
    opening_record_disagree,
    opening_record_draft,
    opening_record_publish,
)

__all__ = [
    "check_data_key",
    "maybe_end_decryption",
    "opening_abort",
    "opening_check_in",
    "opening_close_window",
    "opening_fail",
    "opening_finish",
    "opening_open",
    "opening_release_key",
    "opening_start_decryption",
    "valid_bid_count",
    "record_ready_to_end",
    "opening_objection_answer",
    "opening_objection_raise",
    "opening_objections_close",
    "opening_objections_open",
    "opening_record_confirm",
    "opening_record_disagree",
    "opening_record_draft",
    "opening_record_publish",
]
