"""Evaluation (评标): the expert pool, the drawing of a panel with recusal, the evaluation session and
its room (check-in, chair election, stages, scores), clarifications, and the signed report.

One module per area so the pieces can be read (and changed) separately; Django sees one app."""

from .pool import Expert, ExpertConflict, ExpertKey, ExpertUnavailability  # noqa: F401
from .drawing import Drawing, DrawingState, MemberKind, MemberStatus, PanelMember  # noqa: F401
from .session import (  # noqa: F401
    BidResult, ChairVote, EvaluationSession, QualificationVerdict, Score, SessionState, Stage, StageKind,
    StageReopening, StageStatus,
)
from .clarification import ClarificationAttachment, ClarificationStatus, EvaluationClarification  # noqa: F401
from .report import EvaluationReport, ReportDissent, ReportSignature, ReportState  # noqa: F401
